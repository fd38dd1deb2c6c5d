# One Secret Manager secret per secret of the configuration contract (shared/config.py _SECRETS), named
# like its variable (TELEGRAM_BOT_TOKEN -> telegram-bot-token). Terraform creates the secrets, never their
# values: ops add those with `gcloud secrets versions add` (README.md, "Deploy"), so no value is in the
# configuration or in the state.
resource "google_secret_manager_secret" "secret" {
  for_each = local.secret_names

  project   = var.project_id
  secret_id = lower(replace(each.key, "_", "-"))

  replication {
    auto {}
  }

  depends_on = [google_project_service.api]
}
