# The reconciler: every few minutes Cloud Scheduler calls email_chain's /reconcile, which delivers every
# outbox effect that is due (a CRM row, a Log row, a managers' or a parent's message that failed before, or
# whose delivery died with its process). It calls as the tasks invoker, the one identity email_chain admits.
resource "google_cloud_scheduler_job" "reconcile" {
  project          = var.project_id
  region           = var.region
  name             = "reconcile-outbox"
  description      = "Re-drive overdue outbox effects (shared/flows/outbox.py)."
  schedule         = var.reconcile_schedule
  time_zone        = "Etc/UTC"
  attempt_deadline = "300s"

  retry_config {
    retry_count = 0 # the next run comes in minutes; the reconciler is idempotent
  }

  http_target {
    http_method = "POST"
    uri         = "${local.function_urls.email_chain}/reconcile"

    oidc_token {
      service_account_email = google_service_account.tasks_invoker.email
      audience              = local.function_urls.email_chain
    }
  }

  depends_on = [google_project_service.api]
}
