"""Leads: the automation's record of a parent, contact normalisation and the CRM row shape. Pure."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class LeadStatus(StrEnum):
    NEW = "NEW"
    ACTIVATED = "ACTIVATED"
    SCHEDULED = "SCHEDULED"
    CANCELLED = "CANCELLED"
    # Set by the managers' buttons on a lead's card: a call made, and the trial lesson's attendance.
    CALLED = "CALLED"
    NO_ANSWER = "NO_ANSWER"
    ATTENDED = "ATTENDED"
    NO_SHOW = "NO_SHOW"
    DELETED = "DELETED"  # the parent asked to be forgotten: the CRM keeps the row, blanked, for the counts


class Source(StrEnum):
    TILDA = "tilda"
    DIRECT_BOT = "direct_bot"


class StepState(StrEnum):
    """What happened to one message of the email chain (the CRM shows it in the step's column)."""

    SENT = "TRUE"
    FAILED = "FAILED"
    NO_EMAIL = "NO_EMAIL"


class InvalidContact(ValueError):
    """A phone number or email address that cannot be used."""


def normalise_phone(raw: str, default_region: str) -> str:
    """Return the number in E.164, or raise InvalidContact."""
    import phonenumbers  # on first use: email_chain and reminders never validate a contact

    try:
        number = phonenumbers.parse(raw.strip(), default_region.upper())
    except phonenumbers.NumberParseException:
        raise InvalidContact("phone is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidContact("phone is not a valid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str:
    """Return the address with its domain lower-cased, or raise InvalidContact."""
    from email_validator import EmailNotValidError, validate_email

    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidContact(f"email is not valid: {exc}") from None
    return result.normalized.lower()


# How people dictate addresses; speech-to-text writes these words out instead of the symbols.
_SPOKEN_EMAIL = (
    (re.compile(r"\s+(?:собака|собачка|at)\s+", re.IGNORECASE), "@"),
    (re.compile(r"\s+(?:точка|dot)\s+", re.IGNORECASE), "."),
    (re.compile(r"\s+(?:нижнее подч[её]ркивание|подч[её]ркивание|underscore)\s+", re.IGNORECASE), "_"),
    (re.compile(r"\s+(?:дефис|тире|dash|hyphen)\s+", re.IGNORECASE), "-"),
)
_EMAIL_LIKE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_LIKE = re.compile(r"\+?\d[\d\s().-]{5,}\d")


def dictated_email(text: str) -> str:
    """The address in a transcribed voice note ("Мой email anna точка p собака mail точка ru."), or
    the text unchanged when none is found (the validator then says what is wrong)."""
    if found := _EMAIL_LIKE.search(text):
        return found.group(0).strip(".")
    spoken = text
    for pattern, symbol in _SPOKEN_EMAIL:
        spoken = pattern.sub(symbol, spoken)
    found = _EMAIL_LIKE.search(spoken)
    return found.group(0).strip(".") if found else text


def dictated_phone(text: str) -> str:
    """The number in a transcribed voice note ("Мой номер +7 916 123-45-67."), or the text unchanged."""
    found = _PHONE_LIKE.search(text)
    return found.group(0) if found else text


def new_lead_id() -> str:
    """Random, so task names derived from it spread over Cloud Tasks' key space and reveal nothing."""
    return secrets.token_hex(10)


def new_link_token() -> str:
    """Unguessable token for the bot deep link (Telegram allows [A-Za-z0-9_-], up to 64 chars)."""
    return secrets.token_urlsafe(18)


class Lead(BaseModel):
    """The automation's truth about a lead; the CRM sheet mirrors it for managers."""

    lead_id: str
    created_at: datetime
    updated_at: datetime
    source: Source
    status: LeadStatus = LeadStatus.NEW
    name: str = ""
    phone: str | None = None
    email: str | None = None
    child_age: str | None = None
    language: str = "ru"
    link_token: str = Field(default_factory=new_link_token)
    tg_id: int | None = None
    tg_username: str | None = None
    bot_activated: bool = False
    bot_blocked: bool = False  # a message to the parent was refused: the bot is blocked (403)
    email_1_sent: StepState | None = None
    email_2_sent: StepState | None = None
    call_alert_sent: StepState | None = None
    crm_status: str | None = None  # last status seen in the sheet: managers move leads there
    marked_by: str | None = None  # the manager who last set the status with a card's button, and when
    marked_at: datetime | None = None
    # Set (epoch seconds) when a form changes the lead: by then its row must be in the CRM. The batched
    # writer clears it once it wrote the row; the reconciler records the row again for a lead still due
    # (a form whose effects were never recorded). The store's due-index lists leads by it.
    due_at: float | None = None
    lesson_at: datetime | None = None
    zoom_link: str | None = None
    zoom_meeting_id: str | None = None
    calendar_event_id: str | None = None
    booking_id: str | None = None  # changes with every booking: a reminder of an older one never fires
    confirmed_at: datetime | None = None  # the parent pressed ✅ I'll be there (this booking)
    # The booking whose no-show was offered a new time: once in the lead's life, never for another.
    rebook_offer: str | None = None
    timezone: str | None = None  # the parent's own (IANA), when not the academy's: reminders show it
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    tilda_tranid: str | None = None
    tilda_formid: str | None = None

    def chain_stop_reason(self) -> str | None:
        """Why the email chain must not go on, or None while it may."""
        if self.bot_activated:
            return "bot_activated"
        if self.status is not LeadStatus.NEW:
            return f"status_{self.status.value.lower()}"
        if self.crm_status and self.crm_status.strip().upper() not in ("", LeadStatus.NEW):
            return "moved_by_manager"
        return None


# The CRM's columns, in the order a new sheet gets them. Managers may reorder and add their own.
LEAD_COLUMNS: tuple[str, ...] = (
    "lead_id",
    "created_at",
    "updated_at",
    "source",
    "status",
    "name",
    "phone",
    "email",
    "child_age",
    "language",
    "tg_id",
    "tg_username",
    "bot_activated",
    "email_1_sent",
    "email_2_sent",
    "call_alert_sent",
    "lesson_at",
    "zoom_link",
    "calendar_event_id",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "bot_blocked",
)
LOG_COLUMNS: tuple[str, ...] = ("time", "lead_id", "event", "details")
# What says who the parent and child are (and where to find them): blanked when a parent is forgotten.
PERSONAL_COLUMNS: tuple[str, ...] = (
    "name",
    "phone",
    "email",
    "child_age",
    "tg_id",
    "tg_username",
    "lesson_at",
    "zoom_link",
    "calendar_event_id",
)

CellValue = str | int | float | bool


def cell(value: Any) -> CellValue:
    """How a lead attribute is written to the sheet (RAW: text stays text)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def crm_row(lead: Lead) -> dict[str, CellValue]:
    """Every CRM column of the lead."""
    return {column: cell(getattr(lead, column)) for column in LEAD_COLUMNS}


def erased_row(lead_id: str, erased_at: datetime) -> dict[str, CellValue]:
    """A forgotten parent's row: status DELETED, the personal columns blank, the rest (source, steps,
    campaign) kept, so managers' counts still hold."""
    blank: dict[str, CellValue] = dict.fromkeys(PERSONAL_COLUMNS, "")
    return {"lead_id": lead_id, "updated_at": cell(erased_at), "status": LeadStatus.DELETED.value, **blank}


def crm_values(lead: Lead, columns: tuple[str, ...] | list[str]) -> dict[str, CellValue]:
    """Only the given columns, always with `updated_at`: what a step changed."""
    names = dict.fromkeys([*columns, "updated_at"])
    return {column: cell(getattr(lead, column)) for column in names}
