# Terraform and provider versions. Terraform >= 1.9: variable validations refer to other variables.
# State is local (terraform.tfstate, git-ignored); a team moves it to a GCS bucket with a `backend "gcs"`
# block (see README.md, "Deploy").
terraform {
  required_version = ">= 1.9.0, < 2.0.0"

  required_providers {
    google = {
      source = "hashicorp/google"
      # The lower bound is the version tests/infra/test_terraform_schema.py checks every resource
      # against (local/tf_schema.py: @cdktf/provider-google 16.12.1 is generated from it).
      version = ">= 6.50.0, < 7.0.0"
    }
  }
}

provider "google" {
  project        = var.project_id
  region         = var.region
  default_labels = var.labels
}
