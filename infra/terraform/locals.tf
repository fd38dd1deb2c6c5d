# The shape of the deployment in one place: the functions, their queues and the settings each one gets.

locals {
  # The four functions. Key = folder under functions/ = function name = entry point.
  # A task handler's max_instances is at least its queue's max_concurrent_dispatches (one request per
  # instance), so a burst of tasks never meets a 429 that would cost a delivery attempt.
  functions = {
    tilda_webhook = {
      description   = "Tilda form submissions: the lead, its CRM sync task and its email chain"
      public        = true # Tilda cannot present a Google identity: the handler checks TILDA_SECRET
      memory        = "256Mi"
      timeout       = 30 # Tilda gives up after 5 s; the handler touches only Firestore and Cloud Tasks
      max_instances = 5
      secrets       = ["TILDA_SECRET"]
    }
    tg_webhook = {
      description   = "Telegram updates: onboarding, booking, the assistant and voice notes"
      public        = true    # Telegram cannot present a Google identity: the handler checks the secret token header
      memory        = "512Mi" # python-telegram-bot, the OpenAI SDK and a voice note of up to 20 MB
      timeout       = 90      # an assistant answer or a transcription; below the 2-minute lease of a question being answered
      max_instances = 10
      secrets       = ["TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "ZOOM_CLIENT_SECRET", "OPENAI_API_KEY"]
    }
    email_chain = {
      description   = "Cloud Tasks target: CRM sync, email1, email2 and the managers' call alert"
      public        = false
      memory        = "256Mi"
      timeout       = 120 # Sheets retries 3 times and Resend twice, with backoff, inside one attempt
      max_instances = 5
      secrets       = ["RESEND_API_KEY", "TELEGRAM_BOT_TOKEN"]
    }
    reminders = {
      description   = "Cloud Tasks target: trial-lesson reminders 24 h and 5 h before"
      public        = false
      memory        = "256Mi"
      timeout       = 60
      max_instances = 5
      secrets       = ["TELEGRAM_BOT_TOKEN"]
    }
  }

  # Every function's URL, computed rather than read from its resource: email_chain schedules its own next
  # step (so it needs its own URL before it exists) and tilda_webhook/tg_webhook need the task handlers'
  # URLs; the cloudfunctions.net form depends only on region, project and name, so no function waits for
  # another and there is no cycle. The scheduler uses the target URL as the OIDC audience
  # (shared/adapters/cloud_tasks.py), and a gen2 function accepts a token for this URL.
  function_host     = "${var.region}-${var.project_id}.cloudfunctions.net"
  function_base_url = "https://${local.function_host}"
  function_urls = {
    tilda_webhook = "${local.function_base_url}/tilda_webhook"
    tg_webhook    = "${local.function_base_url}/tg_webhook"
    email_chain   = "${local.function_base_url}/email_chain"
    reminders     = "${local.function_base_url}/reminders"
  }

  # Cloud Tasks queues, keyed by the function they deliver to. Their rates and retries live in queues.json,
  # which the local Cloud Tasks emulator reads too (local/run.py), so local drain times and retries are
  # production's:
  # - email_chain: 1 dispatch a second. Resend allows 2 requests a second and each step sends at most one
  #   email; the CRM is written by the batched writer (a few Sheets calls per batch), not per task.
  #   Concurrency 5 is the seed's BullMQ concurrency.
  # - reminders: 5 a second, far below Telegram's 30 messages a second.
  # - Retries: both limits must be reached before a task is dropped, so each queue retries for at least
  #   max_retry_duration = the effects horizon (24 h), spaced out to at most max_backoff; max_attempts only
  #   keeps a minimum of attempts. An email step gives up at the horizon (FAILED in the CRM, one alert) and
  #   its chain goes on; the other tasks answer 200 once their effects are in the outbox.
  queue_settings = jsondecode(file("${path.module}/queues.json"))
  queues = {
    for target, settings in local.queue_settings : target => merge(settings.rate_limits, settings.retry_config, {
      name               = target == "email_chain" ? var.email_chain_queue : var.reminders_queue
      max_retry_duration = "${var.effects_horizon_hours * 3600}s"
    })
  }

  # Secret versions the functions read: as pinned in var.secret_versions (always, for the two shared with
  # Telegram and Tilda), else "latest". A new pin gives the functions reading it a new revision.
  secret_names    = toset(flatten([for fn in local.functions : fn.secrets]))
  secret_versions = { for name in local.secret_names : name => lookup(var.secret_versions, name, "latest") }

  # Plain settings (shared/config.py) every function gets; secrets never appear here.
  common_env = {
    APP_ENV               = "production" # refuses placeholder secrets at cold start
    LOG_LEVEL             = var.log_level
    GOOGLE_CLOUD_PROJECT  = var.project_id
    STATE_BACKEND         = "firestore"
    FIRESTORE_DATABASE    = google_firestore_database.state.name
    STATE_NAMESPACE       = var.state_namespace
    ACADEMY_TIMEZONE      = var.academy_timezone
    MANAGER_LANGUAGE      = var.manager_language
    EFFECTS_HORIZON_HOURS = tostring(var.effects_horizon_hours)
    DEV_CHAT_ID           = var.dev_chat_id
  }

  # Plain settings per function: REQUIRED[function] of shared/config.py that are not secrets, the Cloud
  # Tasks wiring of the functions that schedule tasks, and the optional settings each one reads.
  env = {
    tilda_webhook = {
      EMAIL_CHAIN_URL               = local.function_urls.email_chain
      EMAIL_CHAIN_QUEUE             = google_cloud_tasks_queue.queue["email_chain"].name
      TASKS_LOCATION                = google_cloud_tasks_queue.queue["email_chain"].location
      TASKS_INVOKER_SERVICE_ACCOUNT = google_service_account.tasks_invoker.email
      TILDA_SECRET_PARAM            = var.tilda_secret_param
    }
    tg_webhook = {
      EMAIL_CHAIN_URL               = local.function_urls.email_chain
      REMINDERS_URL                 = local.function_urls.reminders
      EMAIL_CHAIN_QUEUE             = google_cloud_tasks_queue.queue["email_chain"].name
      REMINDERS_QUEUE               = google_cloud_tasks_queue.queue["reminders"].name
      TASKS_LOCATION                = google_cloud_tasks_queue.queue["reminders"].location
      TASKS_INVOKER_SERVICE_ACCOUNT = google_service_account.tasks_invoker.email
      TELEGRAM_BOT_USERNAME         = var.telegram_bot_username
      MANAGER_CHAT_ID               = var.manager_chat_id
      MANAGER_IDS                   = var.manager_ids
      SHEETS_SPREADSHEET_ID         = var.sheets_spreadsheet_id # the CRM link on lead cards
      MANAGER_LINK                  = var.manager_link
      GOOGLE_CALENDAR_ID            = var.google_calendar_id
      ZOOM_ACCOUNT_ID               = var.zoom_account_id
      ZOOM_CLIENT_ID                = var.zoom_client_id
      WELCOME_VIDEO_NOTE_FILE_ID    = var.welcome_video_note_file_id
      PRIVACY_POLICY_URL            = var.privacy_policy_url
      AI_LINK_HOSTS                 = var.ai_link_hosts
    }
    email_chain = {
      EMAIL_CHAIN_URL               = local.function_urls.email_chain
      EMAIL_CHAIN_QUEUE             = google_cloud_tasks_queue.queue["email_chain"].name
      TASKS_LOCATION                = google_cloud_tasks_queue.queue["email_chain"].location
      TASKS_INVOKER_SERVICE_ACCOUNT = google_service_account.tasks_invoker.email
      SHEETS_SPREADSHEET_ID         = var.sheets_spreadsheet_id
      EMAIL_FROM                    = var.email_from
      TELEGRAM_BOT_USERNAME         = var.telegram_bot_username
      MANAGER_CHAT_ID               = var.manager_chat_id
    }
    reminders = {
      MANAGER_CHAT_ID               = var.manager_chat_id
      MANAGER_LINK                  = var.manager_link
      REMINDERS_URL                 = local.function_urls.reminders # the audience its callers' tokens must name
      EMAIL_CHAIN_URL               = local.function_urls.email_chain
      EMAIL_CHAIN_QUEUE             = google_cloud_tasks_queue.queue["email_chain"].name
      REMINDERS_QUEUE               = google_cloud_tasks_queue.queue["reminders"].name
      TASKS_LOCATION                = google_cloud_tasks_queue.queue["reminders"].location
      TASKS_INVOKER_SERVICE_ACCOUNT = google_service_account.tasks_invoker.email
      GOOGLE_CALENDAR_ID            = var.google_calendar_id # parents book in the bot: a stall there is nudged
    }
  }

  # What each function finally gets: var.extra_env first, so the wiring above always wins; an optional
  # setting not given (null or "") is left out, so the Settings default applies.
  environment = {
    for name, env in local.env : name => {
      for key, value in merge(lookup(var.extra_env, name, {}), local.common_env, env) : key => value if value != null && value != ""
    }
  }

  # Firestore collections whose documents the store writes with an expiry (`expires_at`, see
  # shared/adapters/store_firestore.py): run-once keys, locks, slot claims and cache, the assistant's
  # history and rate counters, alert de-duplication; leads, their index and chat sessions after
  # DATA_RETENTION_DAYS without activity.
  ttl_collections = [
    "ai_history",      # shared/flows/assistant.py HISTORY (AI_HISTORY_HOURS)
    "ai_rate",         # shared/bootstrap.py RateLimiter(..., "ai_rate", ...)
    "alerts",          # shared/flows/outbox.py alert_once, email_chain.py: one alert per hour and key
    "cards",           # shared/flows/cards.py CARDS: a lead's card in the managers' chat (DATA_RETENTION_DAYS)
    "lead_locks",      # shared/flows/lead_repository.py LOCKS (lease)
    "once",            # shared/flows/once.py: run-once keys of submissions and task steps
    "repeat_notices",  # shared/flows/form_effects.py REPEAT_NOTICES (REPEAT_NOTICE_WINDOW, 3 h)
    "crm_writer",      # shared/flows/crm_flush.py CRM_WRITER: the writer's lock and its waiting flush
    "failing_steps",   # shared/flows/email_chain.py FAILING_STEPS: a failing step's first failure (horizon + 1 day)
    "funnel",          # shared/flows/funnel.py FUNNEL: the refresh's 15-minute lease (the counts do not expire)
    "handovers",       # shared/flows/handover.py HANDOVERS: a managers' message → its parent (INDEX_KEPT, 30 days)
    "handover_rate",   # shared/flows/handover.py RATE: a parent's relayed messages (one day)
    "leads",           # shared/flows/lead_repository.py LEADS (DATA_RETENTION_DAYS since the last write)
    "lead_index",      # shared/flows/lead_repository.py INDEX (as long as the lead)
    "sessions",        # shared/bot/conversation.py SESSIONS (DATA_RETENTION_DAYS since the last message)
    "update_failures", # shared/bot/poison.py UPDATE_FAILURES: failed attempts per Telegram update (2 days)
    "outbox",          # shared/flows/outbox.py: done effects are kept 7 days (pending ones have no expiry)
    "slot_cache",      # shared/flows/booking.py SLOT_CACHE (30 s)
    "slot_claims",     # shared/flows/booking.py SLOT_CLAIMS (a booking's claim, a waitlist hold)
    "waitlist",        # shared/flows/waitlist_queue.py WAITLIST: the queue (31 days since its last change)
  ]

  # Source archives built by `make package`.
  artifacts_dir  = startswith(var.artifacts_dir, "/") ? var.artifacts_dir : "${path.module}/${var.artifacts_dir}"
  artifact_paths = { for name in keys(local.functions) : name => "${local.artifacts_dir}/${name}.zip" }
}
