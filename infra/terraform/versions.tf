# Terraform and provider versions. Terraform >= 1.9: variable validations refer to other variables.
# State is local (terraform.tfstate, git-ignored); a team moves it to a GCS bucket with a `backend "gcs"`
# block (see README.md, "Deploy").
terraform {
  required_version = ">= 1.9.0, < 2.0.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.20.0, < 8.0.0"
    }
  }
}

provider "google" {
  project        = var.project_id
  region         = var.region
  default_labels = var.labels
}
