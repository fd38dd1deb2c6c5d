# Where the functions' code lives: the source archives `make package` builds, and the images Cloud Build
# makes from them.

resource "google_storage_bucket" "artifacts" {
  #checkov:skip=CKV_GCP_62:Only build inputs live here (code archives, no personal data); Cloud Audit Logs already record changes, and usage logs would need a second bucket to guard
  project  = var.project_id
  name     = "${var.project_id}-function-sources"
  location = var.region

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = true
  }

  # Archives are named by content hash, so old ones are never read again; Terraform uploads the current
  # one again if it was deleted (the function is not redeployed: its object name has not changed).
  lifecycle_rule {
    condition {
      age = var.artifact_retention_days
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 7
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.api]
}

# One archive per function (main.py, shared/, pinned requirements.txt), named after its SHA-256: a change
# to any file in it gives a new object name, and the new name redeploys the function.
resource "google_storage_bucket_object" "source" {
  for_each = local.functions

  bucket       = google_storage_bucket.artifacts.name
  name         = "${each.key}/${filesha256(local.artifact_paths[each.key])}.zip"
  source       = local.artifact_paths[each.key]
  content_type = "application/zip"
}

resource "google_artifact_registry_repository" "functions" {
  #checkov:skip=CKV_GCP_84:Images hold only the project's code and public packages; Google-managed encryption suffices and a KMS key would be one more thing to rotate and pay for
  project       = var.project_id
  location      = var.region
  repository_id = "functions"
  format        = "DOCKER"
  description   = "Images Cloud Build makes from the functions' source archives"

  # The newest images of each function stay (the running revision's among them); older ones go.
  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 5
    }
  }

  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"
    condition {
      tag_state  = "ANY"
      older_than = "${var.artifact_retention_days * 86400}s"
    }
  }

  depends_on = [google_project_service.api]
}
