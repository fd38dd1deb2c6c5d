"""What the bot sends: messages with their keyboards, as the scenes build them and the runtime sends them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.bot import callbacks


@dataclass(frozen=True)
class Button:
    """An inline button: typed data for the bot (encoded by the codec), or a link."""

    text: str
    data: callbacks.ButtonData | None = None
    url: str | None = None

    @property
    def callback_data(self) -> str | None:
        return callbacks.encode(self.data) if self.data is not None else None


@dataclass(frozen=True)
class Attachment:
    """A file sent as a document (the message's text is its caption)."""

    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Reply:
    """A message to send; keyboards are either inline `buttons` or a contact-request keyboard."""

    text: str = ""
    buttons: list[list[Button]] = field(default_factory=list)
    contact_button: str | None = None
    remove_keyboard: bool = False
    video_note: str | None = None
    document: Attachment | None = None  # sent best effort, with `text` as its caption


def inline_markup(reply: Reply) -> dict[str, Any] | None:
    """The reply's inline keyboard as Bot API JSON (for plain HTTP senders: no python-telegram-bot)."""
    if not reply.buttons:
        return None

    def button(b: Button) -> dict[str, Any]:
        return {"text": b.text, "url": b.url} if b.url else {"text": b.text, "callback_data": b.callback_data}

    return {"inline_keyboard": [[button(b) for b in row] for row in reply.buttons]}
