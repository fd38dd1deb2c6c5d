# The four Cloud Functions (gen2), each built from its archive, running as its own service account, with
# its plain settings as environment variables and its secrets as secret environment variables.

resource "google_cloudfunctions2_function" "fn" {
  for_each = local.functions
  #checkov:skip=CKV_GCP_124:Callers come from the internet (Tilda, Telegram) or from Cloud Tasks, which is not VPC traffic; IAM keeps the task handlers private and the webhooks check their shared secrets

  project     = var.project_id
  location    = var.region
  name        = each.key
  description = each.value.description

  build_config {
    runtime           = var.python_runtime
    entry_point       = each.key
    service_account   = google_service_account.build.id
    docker_repository = google_artifact_registry_repository.functions.id

    source {
      storage_source {
        bucket = google_storage_bucket.artifacts.name
        object = google_storage_bucket_object.source[each.key].name
      }
    }
  }

  service_config {
    available_memory               = each.value.memory
    timeout_seconds                = each.value.timeout
    max_instance_count             = each.value.max_instances
    min_instance_count             = lookup(var.min_instances, each.key, 0)
    all_traffic_on_latest_revision = true
    # Tilda, Telegram and Cloud Tasks all call from outside any VPC: IAM decides who gets in.
    ingress_settings      = "ALLOW_ALL"
    service_account_email = google_service_account.runtime[each.key].email
    environment_variables = local.environment[each.key]

    dynamic "secret_environment_variables" {
      for_each = toset(each.value.secrets)
      content {
        key        = secret_environment_variables.value
        project_id = var.project_id
        secret     = google_secret_manager_secret.secret[secret_environment_variables.value].secret_id
        version    = local.secret_versions[secret_environment_variables.value]
      }
    }
  }

  # A revision cannot start before its account may read its secrets, nor build before the build may run.
  depends_on = [
    google_project_service.api,
    google_secret_manager_secret_iam_member.runtime_reads_secret,
    google_project_iam_member.build_logs,
    google_project_iam_member.build_reads_sources,
    google_artifact_registry_repository_iam_member.build_pushes_images,
  ]
}

# Tilda and Telegram cannot present a Google identity, so their webhooks are open to anyone; each
# handler refuses a request without its shared secret (TILDA_SECRET, TELEGRAM_WEBHOOK_SECRET).
resource "google_cloud_run_v2_service_iam_member" "public_webhook" {
  for_each = { for name, fn in local.functions : name => fn if fn.public }

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.fn[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# Task handlers are private: only the tasks-invoker account, whose OIDC token Cloud Tasks puts on every
# task (audience = the function's URL), may call them.
resource "google_cloud_run_v2_service_iam_member" "task_handler_invoker" {
  for_each = { for name, fn in local.functions : name => fn if !fn.public }

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.fn[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.tasks_invoker.email}"
}

# The URLs the code is given are computed (locals.tf); warn if the API ever reports different ones.
check "function_urls" {
  assert {
    condition     = alltrue([for name, fn in google_cloudfunctions2_function.fn : fn.url == local.function_urls[name]])
    error_message = "A function's URL differs from local.function_urls: EMAIL_CHAIN_URL/REMINDERS_URL and the Telegram webhook may point at the wrong address."
  }
}
