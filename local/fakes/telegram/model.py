"""The fake's records: the webhook, files, delivered updates, and helpers over updates and keyboards."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from local.fakes.base import JSONDict
from local.fakes.telegram.api import _BOT_COMMAND_IN_TEXT
from local.fakes.telegram.entities import _utf16_len


# ---- the fake --------------------------------------------------------------------------------------------
@dataclass
class Webhook:
    url: str = ""
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    ip_address: str | None = None
    set_at: float | None = None
    extra: JSONDict = field(default_factory=dict)
    last_error_date: int | None = None
    last_error_message: str | None = None


# Where getFile puts each kind of file, and the name tdlib gives its type in "can't use file of type X as Y".
_FILE_KINDS: dict[str, tuple[str, str, str]] = {
    # file_type: (file_path folder, extension, tdlib type name)
    "video_note": ("video_notes", ".mp4", "VideoNote"),
    "voice": ("voice", ".oga", "Voice"),
    "audio": ("music", ".mp3", "Audio"),
    "video": ("videos", ".mp4", "Video"),
    "document": ("documents", "", "Document"),
    "photo": ("photos", ".jpg", "Photo"),
    "animation": ("animations", ".mp4", "Animation"),
    "sticker": ("stickers", ".webp", "Sticker"),
}
_DEFAULT_CONTENT = {
    "video_note": b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 40,
    "voice": b"OggS\x00\x02" + b"\x00" * 20 + b"OpusHead\x01\x01" + b"\x00" * 30,
}
_DEFAULT_MIME = {"voice": "audio/ogg", "audio": "audio/mpeg", "video": "video/mp4", "animation": "video/mp4"}


@dataclass
class FakeFile:
    """A file the fake's Telegram stores: known ids for sendVideoNote, getFile and downloads."""

    file_id: str
    file_unique_id: str
    file_type: str
    content: bytes
    file_size: int
    file_path: str
    duration: int | None = None
    length: int | None = None
    mime_type: str | None = None
    file_name: str | None = None  # documents: as uploaded

    def media(self) -> JSONDict:
        """The object as it appears in a Message (`video_note`, `voice`, ...)."""
        data: JSONDict = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        if self.file_type == "video_note":
            data["length"] = self.length or 240
        if self.file_type in ("video_note", "voice", "audio", "video", "animation"):
            data["duration"] = self.duration or 0
        if self.file_name:
            data["file_name"] = self.file_name
        if self.mime_type:
            data["mime_type"] = self.mime_type
        data["file_size"] = self.file_size
        return data

    def file_object(self) -> JSONDict:
        """The File object getFile returns (file_path relative, as the real server gives it)."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "file_path": self.file_path,
        }

    def to_json(self) -> JSONDict:
        """For state dumps: everything but the bytes."""
        return {**self.media(), "file_type": self.file_type, "file_path": self.file_path}


@dataclass
class _UpdateRecord:
    """An update Telegram has for the bot: the JSON as built and the exact bytes it posts (and reposts)."""

    update_id: Any
    update: Any
    body: bytes
    kind: str | None
    pending: bool = True  # not yet delivered with a 2xx (or fetched and confirmed with getUpdates)
    error: str | None = None  # why the last attempt failed


def _bot_id(token: str) -> int:
    prefix = token.split(":", 1)[0]
    return int(prefix) if prefix.isdigit() else 1_000_000_001


def _unique_id(file_id: str) -> str:
    digest = hashlib.sha256(file_id.encode("utf-8")).digest()[:9]
    return "AgAD" + base64.urlsafe_b64encode(digest).decode("ascii")


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _update_kind(update: Any) -> str | None:
    if not isinstance(update, Mapping):
        return None
    return next((key for key in update if key != "update_id"), None)


def _utf16_offset(text: str, index: int) -> int:
    return _utf16_len(text[:index])


def _command_entities(text: str) -> list[JSONDict]:
    return [
        {"offset": _utf16_offset(text, m.start()), "length": _utf16_len(m.group()), "type": "bot_command"}
        for m in _BOT_COMMAND_IN_TEXT.finditer(text)
    ]


def _buttons(markup: Any, kind: str) -> list[JSONDict]:
    """The buttons of a keyboard (`inline_keyboard` or `keyboard`), flattened; plain strings become dicts."""
    if not isinstance(markup, Mapping) or not isinstance(markup.get(kind), list):
        return []
    found = []
    for row in markup[kind]:
        for button in row if isinstance(row, list) else []:
            found.append({"text": button} if isinstance(button, str) else dict(button))
    return found
