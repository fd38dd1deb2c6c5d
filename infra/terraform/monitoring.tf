# Alerts to var.alert_email: any ERROR log of the four functions, and tg_webhook not answering.

resource "google_monitoring_notification_channel" "email" {
  project      = var.project_id
  display_name = "All In Academy bot alerts"
  type         = "email"

  labels = {
    email_address = var.alert_email
  }

  depends_on = [google_project_service.api]
}

locals {
  # Gen2 functions log as their Cloud Run services, and a log entry's resource.labels.service_name is the
  # service's short name (tg-webhook for tg_webhook), while service_config[0].service is its full resource
  # name, projects/{project}/locations/{region}/services/{service}: keep only the last segment.
  function_services = [for fn in google_cloudfunctions2_function.fn : reverse(split("/", fn.service_config[0].service))[0]]
}

resource "google_monitoring_alert_policy" "error_logs" {
  project      = var.project_id
  display_name = "All In Academy bot: ERROR logs"
  combiner     = "OR"

  conditions {
    display_name = "A function logged at ERROR or above"
    condition_matched_log {
      filter = join(" AND ", [
        "resource.type=\"cloud_run_revision\"",
        "resource.labels.service_name=(${join(" OR ", [for service in local.function_services : "\"${service}\""])})",
        "severity>=ERROR",
      ])
    }
  }

  # One email per 5 minutes at most however many errors arrive; the incident closes after 30 quiet minutes.
  alert_strategy {
    notification_rate_limit {
      period = "300s"
    }
    auto_close = "1800s"
  }

  notification_channels = [google_monitoring_notification_channel.email.id]

  documentation {
    mime_type = "text/markdown"
    content   = "A function of the All In Academy bot logged an error. Open Logs Explorer with `severity>=ERROR` for the function named in the incident; the seed's error table (README) says which failures also alert the developers' chat."
  }
}

# tg_webhook answers a GET with 405 before any secret check or body parsing (shared/entrypoints/tg.py):
# a 405 proves the instance started, loaded its settings and secrets and serves requests, without
# sending Telegram's secret. A POST without the secret would prove the same with a 403, but GET keeps
# the check free of bodies and headers.
resource "google_monitoring_uptime_check_config" "tg_webhook" {
  project      = var.project_id
  display_name = "tg_webhook answers"
  timeout      = "10s"
  period       = "300s"

  http_check {
    path           = "/tg_webhook"
    port           = 443
    use_ssl        = true
    validate_ssl   = true
    request_method = "GET"

    accepted_response_status_codes {
      status_value = 405
    }
  }

  monitored_resource {
    type = "uptime_url"
    labels = {
      project_id = var.project_id
      host       = local.function_host # tg_webhook's URL is https://<host>/tg_webhook (locals.tf)
    }
  }

  depends_on = [google_cloudfunctions2_function.fn]
}

resource "google_monitoring_alert_policy" "tg_webhook_down" {
  project      = var.project_id
  display_name = "All In Academy bot: tg_webhook down"
  combiner     = "OR"

  conditions {
    display_name = "tg_webhook uptime check failing"
    condition_threshold {
      filter          = "metric.type=\"monitoring.googleapis.com/uptime_check/check_passed\" AND metric.label.check_id=\"${google_monitoring_uptime_check_config.tg_webhook.uptime_check_id}\" AND resource.type=\"uptime_url\""
      comparison      = "COMPARISON_GT"
      threshold_value = 1
      duration        = "600s"

      aggregations {
        alignment_period     = "1200s"
        per_series_aligner   = "ALIGN_NEXT_OLDER"
        cross_series_reducer = "REDUCE_COUNT_FALSE"
        group_by_fields      = ["resource.label.*"]
      }

      trigger {
        count = 1
      }
    }
  }

  notification_channels = [google_monitoring_notification_channel.email.id]

  documentation {
    mime_type = "text/markdown"
    content   = "tg_webhook stopped answering (expected 405 to a GET): parents get no replies from the bot. Check the function's logs for a configuration error at cold start (a missing secret version) or a failed deploy."
  }
}
