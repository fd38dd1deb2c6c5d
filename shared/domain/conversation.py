"""The bot conversation's vocabulary: its scenes, the parent's session and what comes in. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel

from shared.domain.handover import HandoverState


class Scene(StrEnum):
    WELCOME = "welcome"  # waiting for consent
    PHONE = "phone"
    EMAIL = "email"
    NAME = "name"
    REGISTERED = "registered"
    DATES = "dates"  # choosing a day
    TIMES = "times"  # choosing a time of that day
    CONFIRM = "confirm"
    SCHEDULED = "scheduled"


# Where typed text is the step's answer, not a question for the assistant.
STRICT_INPUT_SCENES = (Scene.PHONE, Scene.EMAIL, Scene.NAME)
# Where the buttons of the current offer of free slots are valid.
OFFER_SCENES = (Scene.DATES, Scene.TIMES, Scene.CONFIRM)


class OfferedSlot(BaseModel):
    """A free slot as shown to the parent (with the ETag it had, for the conditional booking)."""

    event_id: str
    start: datetime
    end: datetime
    etag: str


class Session(BaseModel):
    """One chat's state, loaded and saved around every update."""

    chat_id: int
    language: str = "ru"
    language_chosen: bool = False  # /language wins over Telegram's language_code
    scene: Scene = Scene.WELCOME
    lead_id: str | None = None
    phone: str | None = None
    email: str | None = None
    name: str | None = None
    consent_at: datetime | None = None
    consent_version: str | None = None
    offer_id: str | None = None  # buttons of an older offer are stale
    offer: list[OfferedSlot] = []
    chosen: int | None = None  # index into `offer`
    ai_misses: int = 0  # the assistant's answers in a row that did not help (two: a manager is called)
    handover: HandoverState | None = None  # a manager has the chat (its free text goes to them)
    progress_at: datetime | None = None  # the parent's last step (a message or a button): nudges wait on it
    nudged: dict[str, int] = {}  # nudges sent per stall ("register", "book")
    timezone: str | None = None  # the parent's own zone (IANA) when not the academy's; None: the academy's
    timezone_asked: bool = False  # the zone guessed from the phone was put to the parent (asked once)


@dataclass(frozen=True)
class Incoming:
    """An update reduced to what the conversation needs."""

    kind: Literal["command", "text", "contact", "callback", "voice", "other"]
    chat_id: int
    user_id: int
    update_id: int = 0  # Telegram's: a redelivery of a handled update is a duplicate
    username: str | None = None
    language_code: str | None = None
    text: str = ""  # message text, or the command without its slash
    payload: str = ""  # what follows a command (the /start deep-link token)
    contact_phone: str | None = None
    contact_user_id: int | None = None
    callback_data: str | None = None
    voice_file_id: str | None = None
    voice_seconds: int = 0
    voice_bytes: int | None = None  # Telegram may leave the size out
    from_voice: bool = False  # text transcribed from a voice note (it has been through the rate limit)


def assistant_question(session: Session, event: Incoming) -> str | None:
    """The question for the assistant, or None when the event belongs to the conversation's steps.

    Text typed in a strict input step is that step's answer unless it starts with /ai; everywhere else
    free text goes to the assistant. `/ai` with nothing after it gives "" (the flow explains the usage)."""
    if event.kind == "command" and event.text == "ai":
        return event.payload
    if event.kind == "text" and session.scene not in STRICT_INPUT_SCENES:
        return event.text
    return None
