# Identities: one runtime account per function (each gets only what its code calls), the account whose
# OIDC token Cloud Tasks attaches to tasks, and the account Cloud Build builds the functions with.

resource "google_service_account" "runtime" {
  for_each = local.functions

  project      = var.project_id
  account_id   = "${replace(each.key, "_", "-")}-fn"
  display_name = "${each.key} function"
  description  = "Runtime identity of the ${each.key} Cloud Function"

  depends_on = [google_project_service.api]
}

resource "google_service_account" "tasks_invoker" {
  project      = var.project_id
  account_id   = "tasks-invoker"
  display_name = "Cloud Tasks invoker"
  description  = "Identity in the OIDC token of every task; the only caller email_chain and reminders accept"

  depends_on = [google_project_service.api]
}

resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "functions-build"
  display_name = "Cloud Functions build"
  description  = "Cloud Build identity that turns the source archives into the functions' images"

  depends_on = [google_project_service.api]
}

locals {
  # Which function may do what on which queue (keyed by the queue's target function), and why.
  queue_grants = {
    # tilda_webhook schedules the CRM sync and email1 of every submitted lead.
    "tilda_webhook:email_chain:enqueuer" = { function = "tilda_webhook", queue = "email_chain", role = "roles/cloudtasks.enqueuer" }
    # tg_webhook schedules the sync of activations and bookings...
    "tg_webhook:email_chain:enqueuer" = { function = "tg_webhook", queue = "email_chain", role = "roles/cloudtasks.enqueuer" }
    # ...cancels the pending email chain once the parent opens the bot...
    "tg_webhook:email_chain:deleter" = { function = "tg_webhook", queue = "email_chain", role = "roles/cloudtasks.taskDeleter" }
    # ...schedules the -24 h/-5 h reminders of a booking...
    "tg_webhook:reminders:enqueuer" = { function = "tg_webhook", queue = "reminders", role = "roles/cloudtasks.enqueuer" }
    # ...and deletes them when the lesson is rescheduled or cancelled.
    "tg_webhook:reminders:deleter" = { function = "tg_webhook", queue = "reminders", role = "roles/cloudtasks.taskDeleter" }
    # A parent's /delete_me lists both queues for the lead's pending tasks, to delete them.
    "tg_webhook:email_chain:viewer" = { function = "tg_webhook", queue = "email_chain", role = "roles/cloudtasks.viewer" }
    "tg_webhook:reminders:viewer"   = { function = "tg_webhook", queue = "reminders", role = "roles/cloudtasks.viewer" }
    # email_chain schedules the chain's next step (email1 -> email2 -> call_alert).
    "email_chain:email_chain:enqueuer" = { function = "email_chain", queue = "email_chain", role = "roles/cloudtasks.enqueuer" }
    # reminders asks email_chain to tell the managers of a lesson left unconfirmed at the -5 h reminder...
    "reminders:email_chain:enqueuer" = { function = "reminders", queue = "email_chain", role = "roles/cloudtasks.enqueuer" }
    # ...and moves a nudge or a waitlist offer on in its own queue.
    "reminders:reminders:enqueuer" = { function = "reminders", queue = "reminders", role = "roles/cloudtasks.enqueuer" }
  }

  # Functions that create tasks: each must be allowed to put the tasks-invoker account in a task's token.
  task_schedulers = toset([for grant in values(local.queue_grants) : grant.function if grant.role == "roles/cloudtasks.enqueuer"])

  # Each function reads exactly the secrets listed for it in local.functions.
  secret_grants = merge([
    for name, fn in local.functions : { for secret in fn.secrets : "${name}:${secret}" => { function = name, secret = secret } }
  ]...)
}

# Every function reads and writes the state store (Firestore has no per-collection IAM).
resource "google_project_iam_member" "runtime_firestore" {
  for_each = local.functions

  project = var.project_id
  role    = "roles/datastore.user"
  member  = "serviceAccount:${google_service_account.runtime[each.key].email}"
}

# Queue-level task rights, as listed in local.queue_grants.
resource "google_cloud_tasks_queue_iam_member" "runtime_tasks" {
  for_each = local.queue_grants

  project  = var.project_id
  location = google_cloud_tasks_queue.queue[each.value.queue].location
  name     = google_cloud_tasks_queue.queue[each.value.queue].name
  role     = each.value.role
  member   = "serviceAccount:${google_service_account.runtime[each.value.function].email}"
}

# Creating a task with an OIDC token for the tasks-invoker account needs actAs on that account only.
resource "google_service_account_iam_member" "scheduler_acts_as_invoker" {
  for_each = local.task_schedulers

  service_account_id = google_service_account.tasks_invoker.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.runtime[each.key].email}"
}

# Secret values reach a function as secret environment variables, read with its own runtime account.
resource "google_secret_manager_secret_iam_member" "runtime_reads_secret" {
  for_each = local.secret_grants

  project   = var.project_id
  secret_id = google_secret_manager_secret.secret[each.value.secret].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.runtime[each.value.function].email}"
}

# The build writes its logs.
resource "google_project_iam_member" "build_logs" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = "serviceAccount:${google_service_account.build.email}"
}

# The build reads the source, which Cloud Functions copies into its own gcf-v2-sources-<number>-<region>
# bucket; that bucket is created by the service on first deploy, so the grant is project-wide (read only).
resource "google_project_iam_member" "build_reads_sources" {
  project = var.project_id
  role    = "roles/storage.objectViewer"
  member  = "serviceAccount:${google_service_account.build.email}"
}

# The build pushes the functions' images to this stack's repository only.
resource "google_artifact_registry_repository_iam_member" "build_pushes_images" {
  project    = var.project_id
  location   = google_artifact_registry_repository.functions.location
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.writer"
  member     = "serviceAccount:${google_service_account.build.email}"
}
