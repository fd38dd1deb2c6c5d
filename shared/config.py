"""One Settings class: the configuration contract of every function, validated once at cold start."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from shared.domain.tilda_form import DEFAULT_FIELDS, TildaFields

# Values that mean "nobody filled this in"; refused outside local runs so a deploy never runs on dummies.
_PLACEHOLDER = re.compile(r"^(|changeme|change-me|dummy.*|example.*|placeholder|xxx+|test)$", re.IGNORECASE)


class FunctionName(StrEnum):
    TILDA_WEBHOOK = "tilda_webhook"
    TG_WEBHOOK = "tg_webhook"
    EMAIL_CHAIN = "email_chain"
    REMINDERS = "reminders"


class Settings(BaseModel):
    """Every variable of the configuration contract; names are the upper-cased field names.

    A plain model read from the environment by `load_settings` (pydantic's lax mode turns the strings
    into numbers and the like): pydantic-settings did the same at twice the import cost of a cold start."""

    model_config = ConfigDict(extra="ignore")

    app_env: Literal["production", "local", "test"] = "production"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # Telegram
    telegram_bot_token: SecretStr | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_bot_username: str | None = None
    manager_chat_id: str | None = None
    # Comma-separated Telegram user ids who may press the buttons of lead cards; empty: anyone in the
    # managers' chat (Telegram shows the chat's messages to its members only).
    manager_ids: str = ""
    manager_link: str | None = None
    dev_chat_id: str | None = None
    telegram_timeout_seconds: float = Field(default=10.0, gt=0)
    telegram_max_body_bytes: int = Field(default=256 * 1024, gt=0)
    welcome_video_note_file_id: str | None = None
    privacy_policy_url: str = "https://allinacademy.example/privacy"
    privacy_policy_version: str = "2026-11"

    # Tilda
    tilda_secret: SecretStr | None = None
    tilda_secret_header: str = "X-Tilda-Secret"
    tilda_secret_param: str | None = None  # when set, the secret comes in this query/form parameter instead
    # The form's field names (defaults written once, in shared/domain/tilda_form.py).
    tilda_field_name: str = DEFAULT_FIELDS.name
    tilda_field_phone: str = DEFAULT_FIELDS.phone
    tilda_field_email: str = DEFAULT_FIELDS.email
    tilda_field_child_age: str = DEFAULT_FIELDS.child_age
    tilda_field_language: str = DEFAULT_FIELDS.language
    tilda_max_body_bytes: int = Field(default=64 * 1024, gt=0)
    phone_default_region: str = Field(default="RU", min_length=2, max_length=2)

    # Google Sheets (CRM) and Calendar
    sheets_spreadsheet_id: str | None = None
    sheets_api_url: str | None = None
    sheets_leads_sheet: str = "Leads"
    sheets_log_sheet: str = "Log"
    sheets_timeout_seconds: float = Field(default=10.0, gt=0)
    sheets_retries: int = Field(default=3, ge=0)
    retry_backoff_seconds: float = Field(default=1.0, ge=0)  # first pause of every exponential retry
    google_calendar_id: str | None = None
    calendar_api_url: str | None = None
    calendar_timeout_seconds: float = Field(default=10.0, gt=0)
    calendar_slot_marker: str = Field(default="FREE", min_length=1)  # events titled "FREE…" are free slots
    booking_horizon_days: int = Field(default=14, ge=1, le=60)
    booking_min_notice_hours: float = Field(default=3, ge=0)
    booking_cutoff_hours: float = Field(
        default=2, ge=0
    )  # self-service reschedule/cancel ends this long before
    lesson_minutes: int = Field(default=60, ge=15, le=240)

    # Zoom
    zoom_account_id: str | None = None
    zoom_client_id: str | None = None
    zoom_client_secret: SecretStr | None = None
    zoom_api_url: str = "https://api.zoom.us/v2"
    zoom_oauth_url: str = "https://zoom.us/oauth/token"
    zoom_timeout_seconds: float = Field(default=10.0, gt=0)

    # OpenAI
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_transcribe_model: str = "whisper-1"
    openai_timeout_seconds: float = Field(default=15.0, gt=0)  # per attempt; see BotRuntime.process
    openai_max_retries: int = Field(default=1, ge=0)  # the SDK's own retries of 5xx/timeouts
    ai_max_answer_tokens: int = Field(default=400, ge=16)
    ai_max_answer_chars: int = Field(default=1000, ge=100)
    ai_max_question_chars: int = Field(default=1000, ge=20)
    ai_rate_per_window: int = Field(default=10, ge=1)  # assistant messages per parent per window ...
    ai_rate_window_minutes: float = Field(default=10, gt=0)
    ai_rate_per_day: int = Field(default=50, ge=1)  # ... and per 24 hours
    ai_history_turns: int = Field(default=6, ge=0)  # question/answer pairs sent back as context
    ai_history_hours: float = Field(default=24, gt=0)
    ai_knowledge_dir: str | None = None  # default: shared/knowledge (instructions + facts, per language)
    # Comma-separated hosts (or URLs) answers may link to, besides the manager's and the privacy links.
    ai_link_hosts: str = ""
    # Nudges to a parent who stopped half-way: after their last step, then again; never in the quiet hours
    # (the academy's zone, from QUIET_HOURS_FROM to QUIET_HOURS_UNTIL o'clock).
    nudge_first_minutes: float = Field(default=60, gt=0)
    nudge_second_hours: float = Field(default=24, gt=0)
    quiet_hours_from: int = Field(default=21, ge=0, le=23)
    quiet_hours_until: int = Field(default=9, ge=0, le=23)
    # A slot freed for the waitlist is held this long for the parent it is offered to, then the next one.
    waitlist_hold_minutes: float = Field(default=30, gt=0)
    voice_max_seconds: int = Field(default=120, ge=1)
    voice_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1)  # the Bot API's getFile limit

    # Email
    resend_api_key: SecretStr | None = None
    resend_api_url: str = "https://api.resend.com"
    email_from: str | None = None
    email_retries: int = Field(default=2, ge=0)
    resend_timeout_seconds: float = Field(default=10.0, gt=0)  # per attempt (the SDK's own default: 30 s)

    # State
    state_backend: Literal["firestore", "redis"] = "firestore"
    google_cloud_project: str | None = None
    firestore_database: str = "(default)"
    redis_url: str | None = None
    state_namespace: str = ""  # prefix of every collection/key: lets tests and several stacks share one store
    # A store operation's limit, retries included (Firestore; Redis: per command): a hanging store fails
    # the request, which Telegram or Cloud Tasks deliver again, instead of holding it.
    store_timeout_seconds: float = Field(default=10.0, gt=0)
    # A parent's lead (with what finds it) and chat session expire after this many days without activity
    # (the store's TTL); the CRM keeps its row. The assistant's history keeps its own AI_HISTORY_HOURS.
    data_retention_days: int = Field(default=365, ge=1, le=3650)

    # Cloud Tasks
    cloud_tasks_api_url: str | None = None
    tasks_location: str = "europe-west1"
    email_chain_queue: str = "email-chain"
    reminders_queue: str = "reminders"
    tasks_invoker_service_account: str | None = None
    email_chain_url: str | None = None
    reminders_url: str | None = None
    # Where the task handlers get the certificates that verify the OIDC tokens of their callers: Google's
    # (what Cloud Tasks and Cloud Scheduler sign with); locally the Cloud Tasks emulator's.
    tasks_oidc_certs_url: str = "https://www.googleapis.com/oauth2/v1/certs"
    # Local runs only: read "now" from the Cloud Tasks emulator, whose clock tests and `make dev` move on.
    local_clock_url: str | None = None

    # Lead pipeline timing
    email1_delay_seconds: int = Field(default=30 * 60, ge=0)
    email2_delay_seconds: int = Field(default=24 * 3600, ge=0)
    call_alert_delay_seconds: int = Field(default=24 * 3600, ge=0)

    academy_timezone: str = "Europe/Riga"
    # Outbox: an effect (CRM row, managers' or parent's message) failing this long becomes a dead letter
    # with one alert to the developers; it is still retried every hour until the service is back. An email
    # step failing this long is given up (FAILED); the queues retry tasks at least this long (Terraform).
    effects_horizon_hours: int = Field(default=24, ge=1, le=24 * 14)
    # The batched CRM writer: a task's sheet changes are written this many seconds later, together with
    # those every other task recorded meanwhile (a burst of leads stays within Sheets' 60 writes a
    # minute); 0 writes each task's changes at once.
    crm_flush_seconds: int = Field(default=5, ge=0, le=3600)
    # Managers' chat messages, calendar entries and developers' alerts (parents get their own language).
    manager_language: Literal["ru", "en"] = "ru"

    @field_validator("telegram_api_url", "resend_api_url", "zoom_api_url", "zoom_oauth_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("manager_ids")
    @classmethod
    def _user_ids(cls, value: str) -> str:
        if any(not re.fullmatch(r"\d+", part.strip()) for part in value.split(",") if part.strip()):
            raise ValueError("must be comma-separated numeric Telegram user ids")
        return value

    def manager_user_ids(self) -> frozenset[int]:
        return frozenset(int(part) for part in self.manager_ids.split(",") if part.strip())

    @field_validator("manager_chat_id", "dev_chat_id")
    @classmethod
    def _chat_id(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"-?\d+|@\w{4,}", value):
            raise ValueError("must be a numeric chat id or an @channel name")
        return value

    def tilda_fields(self) -> TildaFields:
        return TildaFields(
            name=self.tilda_field_name,
            phone=self.tilda_field_phone,
            email=self.tilda_field_email,
            child_age=self.tilda_field_child_age,
            language=self.tilda_field_language,
        )

    @property
    def is_local(self) -> bool:
        return self.app_env in ("local", "test")

    def secret(self, name: str) -> str:
        """The plain value of a SecretStr field (empty string when unset)."""
        value = getattr(self, name)
        return value.get_secret_value() if isinstance(value, SecretStr) else (value or "")


# What each function cannot start without. Optional integrations are checked where they are used.
REQUIRED: dict[FunctionName, tuple[str, ...]] = {
    FunctionName.TILDA_WEBHOOK: (
        "tilda_secret",
        "email_chain_url",
        "google_cloud_project",
    ),
    FunctionName.EMAIL_CHAIN: (
        "sheets_spreadsheet_id",
        "resend_api_key",
        "email_from",
        "telegram_bot_token",
        "telegram_bot_username",
        "manager_chat_id",
        "email_chain_url",
        "google_cloud_project",
    ),
    FunctionName.TG_WEBHOOK: (
        "telegram_bot_token",
        "telegram_webhook_secret",
        "manager_link",
        "email_chain_url",
        "reminders_url",
        "google_calendar_id",
        "zoom_account_id",
        "zoom_client_id",
        "zoom_client_secret",
        "openai_api_key",
        "google_cloud_project",
    ),
    FunctionName.REMINDERS: ("telegram_bot_token", "reminders_url", "google_cloud_project"),
}
_SECRETS = (
    "tilda_secret",
    "telegram_bot_token",
    "telegram_webhook_secret",
    "resend_api_key",
    "zoom_client_secret",
    "openai_api_key",
)


class ConfigError(Exception):
    """A missing or malformed variable; the message names it in one line."""


def environment(variables: Mapping[str, str]) -> dict[str, str]:
    """The contract's variables among `variables`, by field name (names are case-insensitive)."""
    fields = Settings.model_fields
    return {name: value for key, value in variables.items() if (name := key.lower()) in fields}


def load_settings(function: FunctionName | str | None = None, **overrides: object) -> Settings:
    """Read and validate the environment; raise ConfigError naming the first bad variable."""
    try:
        settings = Settings.model_validate({**environment(os.environ), **overrides})
    except ValidationError as exc:
        first = exc.errors()[0]
        variable = str(first["loc"][0]).upper() if first["loc"] else "?"
        raise ConfigError(f"configuration error: {variable}: {first['msg']}") from None
    needed = list(REQUIRED[FunctionName(function)]) if function else []
    if settings.state_backend == "redis" and function:
        needed.append("redis_url")
    if function in (FunctionName.EMAIL_CHAIN, FunctionName.REMINDERS) or (
        function in (FunctionName.TILDA_WEBHOOK, FunctionName.TG_WEBHOOK) and not settings.is_local
    ):
        # Task handlers accept only the tasks invoker's OIDC token; schedulers of tasks send one.
        needed.append("tasks_invoker_service_account")
    for field in needed:
        if not settings.secret(field):
            raise ConfigError(f"configuration error: {field.upper()} is required by {function}")
    if not settings.is_local:
        for field in _SECRETS:
            if settings.secret(field) and _PLACEHOLDER.match(settings.secret(field)):
                raise ConfigError(f"configuration error: {field.upper()} holds a placeholder value")
    return settings


def load_settings_or_exit(function: FunctionName | str) -> Settings:
    """Cold-start helper: one clear line on stderr and exit code 2 instead of a traceback."""
    try:
        return load_settings(function)
    except ConfigError as exc:
        sys.stderr.write(f"{function}: {exc}\n")
        raise SystemExit(2) from None


def link_hosts(settings: Settings) -> frozenset[str]:
    """Sites the assistant's answers may link to: the privacy policy's (the academy's own site) and
    AI_LINK_HOSTS. The manager's link is allowed as that one URL: its host is usually t.me, which would
    let the model send parents to any Telegram account."""
    from urllib.parse import urlsplit

    entries = [settings.privacy_policy_url, *settings.ai_link_hosts.split(",")]
    hosts = {urlsplit(entry if "://" in entry else f"//{entry.strip()}").hostname for entry in entries}
    return frozenset(host for host in hosts if host)
