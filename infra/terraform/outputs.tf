output "function_urls" {
  description = "URL of each function, as the code and Telegram use it (see local.function_urls)."
  value       = { for name in keys(google_cloudfunctions2_function.fn) : name => local.function_urls[name] }
}

output "tilda_webhook_url" {
  description = "Paste into Tilda: Site settings -> Forms -> Webhook."
  value       = local.function_urls["tilda_webhook"]
  depends_on  = [google_cloudfunctions2_function.fn]
}

output "tg_webhook_url" {
  description = "Telegram's webhook URL (registered by terraform_data.telegram_webhook)."
  value       = local.function_urls["tg_webhook"]
  depends_on  = [google_cloudfunctions2_function.fn]
}

output "queue_names" {
  description = "Cloud Tasks queue of each task handler."
  value       = { for target, queue in google_cloud_tasks_queue.queue : target => queue.name }
}

output "runtime_service_accounts" {
  description = "Runtime service account of each function."
  value       = { for name, account in google_service_account.runtime : name => account.email }
}

output "sheets_share_email" {
  description = "Share the CRM Google Sheet with this account as Editor (email_chain writes the CRM)."
  value       = google_service_account.runtime["email_chain"].email
}

output "calendar_share_email" {
  description = "Share the lesson calendar with this account: \"Make changes to events\" (tg_webhook books slots)."
  value       = google_service_account.runtime["tg_webhook"].email
}

output "tasks_invoker_service_account" {
  description = "The identity in every task's OIDC token; the only caller of email_chain and reminders."
  value       = google_service_account.tasks_invoker.email
}

output "secret_ids" {
  description = "Secret Manager secret id of each secret variable: `gcloud secrets versions add <id> --data-file=-`."
  value       = { for name, secret in google_secret_manager_secret.secret : name => secret.secret_id }
}

output "artifacts_bucket" {
  description = "Bucket holding the functions' source archives."
  value       = google_storage_bucket.artifacts.name
}
