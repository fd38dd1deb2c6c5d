# Registers the Telegram webhook (URL + secret token) and the command menus (the parents' and, in their
# group, the managers') once tg_webhook exists, and again whenever its URL, the webhook secret's version,
# the bot token's version or the managers' chat or language changes. Runs the project's own command on the
# operator's machine, which needs gcloud authenticated with access to the two secrets. The values go from
# gcloud into the command's environment: never into the state, the plan or the log.
resource "terraform_data" "telegram_webhook" {
  count = var.register_telegram_webhook ? 1 : 0

  triggers_replace = [
    google_cloudfunctions2_function.fn["tg_webhook"].url,
    local.secret_versions["TELEGRAM_WEBHOOK_SECRET"],
    local.secret_versions["TELEGRAM_BOT_TOKEN"],
    var.manager_chat_id, # the managers' command menu is set for that chat
    var.manager_language,
  ]

  provisioner "local-exec" {
    working_dir = "${path.module}/../.."
    interpreter = ["/bin/sh", "-c"]
    command     = <<-EOT
      set -eu
      TELEGRAM_BOT_TOKEN="$(gcloud secrets versions access "$TOKEN_VERSION" --secret="$TOKEN_SECRET" --project="$PROJECT")"
      TELEGRAM_WEBHOOK_SECRET="$(gcloud secrets versions access "$WEBHOOK_SECRET_VERSION" --secret="$WEBHOOK_SECRET" --project="$PROJECT")"
      export TELEGRAM_BOT_TOKEN TELEGRAM_WEBHOOK_SECRET
      "$PYTHON" -m local.telegram_webhook set --url "$WEBHOOK_URL"
    EOT

    environment = {
      PROJECT                = var.project_id
      PYTHON                 = var.webhook_python
      WEBHOOK_URL            = local.function_urls.tg_webhook
      TOKEN_SECRET           = google_secret_manager_secret.secret["TELEGRAM_BOT_TOKEN"].secret_id
      TOKEN_VERSION          = local.secret_versions["TELEGRAM_BOT_TOKEN"]
      WEBHOOK_SECRET         = google_secret_manager_secret.secret["TELEGRAM_WEBHOOK_SECRET"].secret_id
      WEBHOOK_SECRET_VERSION = local.secret_versions["TELEGRAM_WEBHOOK_SECRET"]
      MANAGER_CHAT_ID        = var.manager_chat_id
      MANAGER_LANGUAGE       = var.manager_language
    }
  }

  # Register only a webhook that can answer: public, and its secrets readable.
  depends_on = [
    google_cloud_run_v2_service_iam_member.public_webhook,
    google_secret_manager_secret_iam_member.runtime_reads_secret,
  ]
}
