# Inputs of the stack. Nothing secret is an input: secret values go to Secret Manager (README.md, "Deploy").

# ---- Project -------------------------------------------------------------------------------------------

variable "project_id" {
  type        = string
  description = "Google Cloud project that holds everything (its id, not its number)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a project id: 6-30 lowercase letters, digits and hyphens."
  }
}

variable "region" {
  type        = string
  description = "Region of the functions, the Cloud Tasks queues, the source bucket and the image repository."
  default     = "europe-west1"
}

variable "firestore_location" {
  type        = string
  description = "Location of the Firestore database (a multi-region such as eur3, or a region); fixed once created."
  default     = "eur3"
}

variable "firestore_delete_protection" {
  type        = bool
  description = "Refuse to delete the Firestore database (turn off only to tear a test stack down)."
  default     = true
}

variable "labels" {
  type        = map(string)
  description = "Labels put on every resource that takes labels."
  default     = { app = "allin-academy-bot" }
}

# ---- Build and deployment ------------------------------------------------------------------------------

variable "artifacts_dir" {
  type        = string
  description = "Directory holding dist/<function>.zip from `make package`; relative paths are relative to this module."
  default     = "../../dist"
}

variable "python_runtime" {
  type        = string
  description = "Cloud Functions runtime of all four functions. Only python311: `make package` (local/package.py, TARGET_PYTHON) pins each function's requirements for CPython 3.11, and wheels resolved for 3.11 need not exist or behave the same on another interpreter; change both together."
  default     = "python311"

  validation {
    condition     = var.python_runtime == "python311"
    error_message = "python_runtime must be python311: local/package.py (TARGET_PYTHON) pins the functions' requirements for CPython 3.11; move both together."
  }
}

variable "artifact_retention_days" {
  type        = number
  description = "Days a source archive or an untagged image is kept; Terraform uploads a missing current archive again."
  default     = 90

  validation {
    condition     = var.artifact_retention_days >= 7
    error_message = "artifact_retention_days must be at least 7."
  }
}

variable "min_instances" {
  type        = map(number)
  description = "Instances kept warm per function (min_instance_count), e.g. { tg_webhook = 1 }; others scale to zero. A warm tg_webhook spares parents the cold start, at the cost of one idle instance billed all month."
  default     = {}

  validation {
    condition = alltrue([
      for name, count in var.min_instances :
      contains(["tilda_webhook", "tg_webhook", "email_chain", "reminders"], name) && count >= 0 && count <= 3
    ])
    error_message = "min_instances takes tilda_webhook, tg_webhook, email_chain or reminders, each 0 to 3."
  }
}

variable "register_telegram_webhook" {
  type        = bool
  description = "Run `python -m local.telegram_webhook set` after tg_webhook is deployed (needs gcloud authenticated and the repository's .venv)."
  default     = true
}

variable "webhook_python" {
  type        = string
  description = "Python that runs the webhook registration, relative to the repository root."
  default     = ".venv/bin/python"
}

# ---- Secrets -------------------------------------------------------------------------------------------

variable "secret_versions" {
  type        = map(string)
  description = "Secret Manager version each function reads, per secret. TELEGRAM_WEBHOOK_SECRET and TILDA_SECRET must be pinned to a version number: Telegram and Tilda keep sending the value they were given, so a rotation is a new version plus a bumped pin in one apply (README.md, \"Later\"). Other secrets not listed read \"latest\"."
  default = {
    TELEGRAM_WEBHOOK_SECRET = "1" # the first `gcloud secrets versions add` of a secret creates version 1
    TILDA_SECRET            = "1"
  }

  validation {
    condition = alltrue([
      for name, version in var.secret_versions :
      contains(["TILDA_SECRET", "TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "RESEND_API_KEY", "ZOOM_CLIENT_SECRET", "OPENAI_API_KEY"], name)
      && can(regex("^(latest|[1-9][0-9]*)$", version))
    ])
    error_message = "secret_versions keys must be secrets of the configuration contract and values \"latest\" or a version number."
  }

  # With "latest", adding a version would change what new instances accept while Telegram (whose webhook is
  # registered again only when the pin changes) and Tilda keep sending the old value: every request 403.
  validation {
    condition = alltrue([
      for name in ["TELEGRAM_WEBHOOK_SECRET", "TILDA_SECRET"] :
      can(regex("^[1-9][0-9]*$", lookup(var.secret_versions, name, "")))
    ])
    error_message = "secret_versions must pin TELEGRAM_WEBHOOK_SECRET and TILDA_SECRET to version numbers (not \"latest\"): Telegram and Tilda keep sending the value they were given, so a new one is rolled out by bumping its pin."
  }
}

# ---- Settings of the configuration contract (shared/config.py), not secret ----------------------------

variable "log_level" {
  type        = string
  description = "LOG_LEVEL of every function."
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "state_namespace" {
  type        = string
  description = "STATE_NAMESPACE: prefix of every Firestore collection (lets two stacks share one database); usually empty."
  default     = ""

  validation {
    condition     = can(regex("^[A-Za-z0-9_]*$", var.state_namespace))
    error_message = "state_namespace may hold only letters, digits and underscores."
  }
}

variable "academy_timezone" {
  type        = string
  description = "ACADEMY_TIMEZONE: the time zone lessons and reminders are shown in."
  default     = "Europe/Riga"
}

variable "manager_language" {
  type        = string
  description = "MANAGER_LANGUAGE: the language of managers' chat messages, calendar entries and alerts (ru or en)."
  default     = "ru"
  validation {
    condition     = contains(["ru", "en"], var.manager_language)
    error_message = "manager_language must be ru or en."
  }
}

variable "telegram_bot_username" {
  type        = string
  description = "TELEGRAM_BOT_USERNAME: the bot's @username without the @ (deep links in emails)."

  validation {
    condition     = can(regex("^[A-Za-z0-9_]{5,32}$", var.telegram_bot_username))
    error_message = "telegram_bot_username is the bot's username without the @."
  }
}

variable "manager_chat_id" {
  type        = string
  description = "MANAGER_CHAT_ID: the managers' Telegram chat for alerts (numeric id or @channel)."

  validation {
    condition     = can(regex("^(-?[0-9]+|@[A-Za-z0-9_]{4,})$", var.manager_chat_id))
    error_message = "manager_chat_id must be a numeric chat id or an @channel name."
  }
}

variable "manager_ids" {
  type        = string
  default     = ""
  description = "MANAGER_IDS: comma-separated Telegram user ids who may press lead cards' buttons (empty: anyone in the managers' chat)."

  validation {
    condition     = can(regex("^([0-9]+(,[0-9]+)*)?$", replace(var.manager_ids, " ", "")))
    error_message = "manager_ids must be comma-separated numeric Telegram user ids."
  }
}

variable "manager_link" {
  type        = string
  description = "MANAGER_LINK: the link parents get to reach a manager (e.g. https://t.me/<manager>)."

  validation {
    condition     = startswith(var.manager_link, "https://")
    error_message = "manager_link must be an https:// link."
  }
}

variable "dev_chat_id" {
  type        = string
  description = "DEV_CHAT_ID: Telegram chat for developer alerts (numeric id or @channel); null sends them to nobody."
  default     = null

  validation {
    condition     = var.dev_chat_id == null || can(regex("^(-?[0-9]+|@[A-Za-z0-9_]{4,})$", var.dev_chat_id))
    error_message = "dev_chat_id must be a numeric chat id or an @channel name."
  }
}

variable "email_from" {
  type        = string
  description = "EMAIL_FROM: sender of the chain's emails, on a domain verified in Resend (\"All In Academy <hello@example.org>\")."

  validation {
    condition     = strcontains(var.email_from, "@")
    error_message = "email_from must hold an email address."
  }
}

variable "sheets_spreadsheet_id" {
  type        = string
  description = "SHEETS_SPREADSHEET_ID: id of the CRM Google Sheet (from its URL), shared with the sheets_share_email output."
}

variable "google_calendar_id" {
  type        = string
  description = "GOOGLE_CALENDAR_ID: the calendar holding the FREE… lesson slots, shared with the calendar_share_email output."
}

variable "zoom_account_id" {
  type        = string
  description = "ZOOM_ACCOUNT_ID of the Zoom Server-to-Server OAuth app (its secret goes to Secret Manager)."
}

variable "zoom_client_id" {
  type        = string
  description = "ZOOM_CLIENT_ID of the Zoom Server-to-Server OAuth app."
}

variable "welcome_video_note_file_id" {
  type        = string
  description = "WELCOME_VIDEO_NOTE_FILE_ID: Telegram file_id of the welcome video note; null sends none."
  default     = null
}

variable "privacy_policy_url" {
  type        = string
  description = "PRIVACY_POLICY_URL shown with the consent question; null keeps the code's default."
  default     = null
}

variable "ai_link_hosts" {
  type        = string
  description = "AI_LINK_HOSTS: comma-separated hosts the assistant's answers may link to; null allows only the manager's and privacy links."
  default     = null
}

variable "tilda_secret_param" {
  type        = string
  description = "TILDA_SECRET_PARAM: read the Tilda secret from this query/form parameter instead of the X-Tilda-Secret header; null uses the header."
  default     = null
}

variable "extra_env" {
  type        = map(map(string))
  description = "More plain settings per function ({ tg_webhook = { OPENAI_MODEL = \"gpt-4o-mini\" } }), for variables of shared/config.py not wired above. Never secrets."
  default     = {}

  validation {
    condition     = alltrue([for name in keys(var.extra_env) : contains(["tilda_webhook", "tg_webhook", "email_chain", "reminders"], name)])
    error_message = "extra_env keys must be function names: tilda_webhook, tg_webhook, email_chain, reminders."
  }

  validation {
    condition = alltrue(flatten([
      for env in values(var.extra_env) : [
        for key in keys(env) :
        !contains(["TILDA_SECRET", "TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "RESEND_API_KEY", "ZOOM_CLIENT_SECRET", "OPENAI_API_KEY"], upper(key))
      ]
    ]))
    error_message = "extra_env must not carry secrets: they come from Secret Manager."
  }
}

# ---- Cloud Tasks ---------------------------------------------------------------------------------------

variable "email_chain_queue" {
  type        = string
  description = "EMAIL_CHAIN_QUEUE: name of the queue delivering to email_chain (Settings default: email-chain)."
  default     = "email-chain"

  validation {
    condition     = can(regex("^[A-Za-z0-9-]{1,100}$", var.email_chain_queue))
    error_message = "A queue name has 1-100 letters, digits and hyphens."
  }
}

variable "reminders_queue" {
  type        = string
  description = "REMINDERS_QUEUE: name of the queue delivering to reminders (Settings default: reminders)."
  default     = "reminders"

  validation {
    condition     = can(regex("^[A-Za-z0-9-]{1,100}$", var.reminders_queue))
    error_message = "A queue name has 1-100 letters, digits and hyphens."
  }
}

# ---- Monitoring ----------------------------------------------------------------------------------------

variable "alert_email" {
  type        = string
  description = "Email address that receives the alerts (ERROR logs, tg_webhook down)."

  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+$", var.alert_email))
    error_message = "alert_email must be an email address."
  }
}

variable "reconcile_schedule" {
  type        = string
  description = "Cron schedule (UTC) of the reconciler, which re-drives overdue outbox effects via email_chain's /reconcile."
  default     = "*/5 * * * *"
}

variable "effects_horizon_hours" {
  type        = number
  description = "EFFECTS_HORIZON_HOURS: an effect failing this long becomes a dead letter with one alert (still retried hourly)."
  default     = 24
  validation {
    condition     = var.effects_horizon_hours >= 1 && var.effects_horizon_hours <= 336
    error_message = "effects_horizon_hours must be between 1 and 336."
  }
}
