# The Google APIs this stack and the functions' code call. Left enabled on destroy: other things in the
# project may use them.
locals {
  apis = toset([
    "artifactregistry.googleapis.com",     # container images built from the functions' sources
    "calendar-json.googleapis.com",        # tg_webhook reads free slots and books them
    "cloudbuild.googleapis.com",           # builds each function's image from its source archive
    "cloudfunctions.googleapis.com",       # the four functions (gen2)
    "cloudresourcemanager.googleapis.com", # project-level IAM bindings
    "cloudscheduler.googleapis.com",       # the reconciler's schedule
    "cloudtasks.googleapis.com",           # the email-chain and reminders queues
    "firestore.googleapis.com",            # the state store
    "iam.googleapis.com",                  # service accounts
    "logging.googleapis.com",              # logs and the log-based alert
    "monitoring.googleapis.com",           # alert policies and the uptime check
    "run.googleapis.com",                  # gen2 functions run as Cloud Run services
    "secretmanager.googleapis.com",        # the secrets of the configuration contract
    "sheets.googleapis.com",               # email_chain writes the CRM sheet
    "storage.googleapis.com",              # the source archives
  ])
}

resource "google_project_service" "api" {
  for_each = local.apis

  project            = var.project_id
  service            = each.key
  disable_on_destroy = false
}
