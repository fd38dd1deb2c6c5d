"""Use case: a voice note becomes text, handled exactly as if the parent had typed it.

Limits are checked on what Telegram says about the note before anything is downloaded; the note counts
against the parent's assistant rate limit (transcription is paid), then it is fetched through the Bot
API and transcribed in the parent's language.
"""

from __future__ import annotations

import dataclasses
import logging
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from shared.domain.conversation import Incoming
from shared.ports import BotFiles, FileUnavailable, Transcriber, TranscriptionFailed

log = logging.getLogger(__name__)
_DEFAULT_NAME = "voice.ogg"  # Telegram voice notes are OGG/Opus


class Unheard(StrEnum):
    """Why a voice note was not turned into text."""

    TOO_LONG = "too_long"
    TOO_BIG = "too_big"
    RATE_LIMITED = "rate_limited"
    FAILED = "failed"  # not fetched, not transcribed, or no speech in it


@dataclass(frozen=True)
class VoiceLimits:
    max_seconds: int
    max_bytes: int


class VoiceInput:
    def __init__(
        self,
        *,
        files: BotFiles,
        transcriber: Callable[[], Transcriber],
        admit: Callable[[int], bool],
        limits: VoiceLimits,
    ) -> None:
        self._files = files
        self._transcriber = transcriber
        self._admit = admit
        self.limits = limits

    def hear(self, event: Incoming, language: str) -> Incoming | Unheard:
        """The voice note as a text event, or why it was not heard."""
        limits = self.limits
        if event.voice_seconds > limits.max_seconds:
            return Unheard.TOO_LONG
        if event.voice_bytes is not None and event.voice_bytes > limits.max_bytes:
            return Unheard.TOO_BIG
        if not self._admit(event.chat_id):
            return Unheard.RATE_LIMITED
        try:
            audio, path = self._files.download(event.voice_file_id or "", limits.max_bytes)
            name = posixpath.basename(path) if posixpath.splitext(path)[1] else _DEFAULT_NAME
            text = self._transcriber().transcribe(audio, name, language).strip()
        except (FileUnavailable, TranscriptionFailed) as exc:
            log.warning("voice note not transcribed", extra={"reason": str(exc)})
            return Unheard.FAILED
        if not text:
            log.info("voice note without speech", extra={"chat_id": event.chat_id})
            return Unheard.FAILED
        return dataclasses.replace(event, kind="text", text=text[:4096], from_voice=True)
