# The state store: Firestore in Native mode, and a TTL policy on `expires_at` for every collection whose
# documents expire (local.ttl_collections). Firestore deletes expired documents within about a day; the
# store already treats them as absent.
resource "google_firestore_database" "state" {
  project     = var.project_id
  name        = "(default)"
  location_id = var.firestore_location
  type        = "FIRESTORE_NATIVE"

  # Seven days of history: the writes of a bad deploy can be read back and undone.
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = var.firestore_delete_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  deletion_policy                   = "ABANDON"

  depends_on = [google_project_service.api]
}

resource "google_firestore_field" "expires_at" {
  for_each = toset(local.ttl_collections)

  project    = var.project_id
  database   = google_firestore_database.state.name
  collection = "${var.state_namespace}${each.key}"
  field      = "expires_at"

  ttl_config {}

  # No single-field index: nothing queries expires_at, and an index on a growing timestamp is a hotspot.
  index_config {}
}
