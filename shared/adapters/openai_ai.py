"""OpenAI through its SDK: chat completions for the assistant, audio transcriptions for voice notes.

Imported only by the paths that ask the model: `import openai` alone costs about half a second of cold
start. The SDK retries 5xx, 429 and timeouts itself (`max_retries`), so one failure here is final.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import openai

from shared.ports import AssistantUnavailable, ChatTurn, TranscriptionFailed

log = logging.getLogger(__name__)
# Errors a retry later will not fix: the deployment is misconfigured, developers must act (ERROR log).
_CONFIGURATION_ERRORS = (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError)


def _reason(exc: openai.OpenAIError) -> str:
    status = getattr(exc, "status_code", None)
    return f"{type(exc).__name__} {status}" if status else type(exc).__name__


def _report(what: str, exc: openai.OpenAIError) -> None:
    level = logging.ERROR if isinstance(exc, _CONFIGURATION_ERRORS) else logging.WARNING
    log.log(level, "openai %s failed", what, extra={"reason": _reason(exc)})


class OpenAIClient:
    """Implements the Assistant and Transcriber ports with one SDK client (one connection pool)."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None,
        model: str,
        transcribe_model: str,
        timeout: float,
        max_retries: int,
        max_answer_tokens: int,
    ) -> None:
        self._client = openai.OpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )
        self._model = model
        self._transcribe_model = transcribe_model
        self._max_tokens = max_answer_tokens

    def answer(self, system_prompt: str, turns: Sequence[ChatTurn]) -> str:
        messages: list[Any] = [{"role": "system", "content": system_prompt}]
        messages += [{"role": turn.role, "content": turn.content} for turn in turns]
        try:
            completion = self._client.chat.completions.create(
                model=self._model,
                messages=messages,
                # No temperature: reasoning models refuse anything but the default, and OPENAI_MODEL may
                # name one. max_completion_tokens (not max_tokens) is accepted by every chat model.
                max_completion_tokens=self._max_tokens,
            )
        except openai.OpenAIError as exc:
            _report("chat completion", exc)
            raise AssistantUnavailable(_reason(exc)) from exc
        choice = completion.choices[0] if completion.choices else None
        content = choice.message.content if choice else None
        if not content:
            # A refusal or a content-filtered answer: nothing a parent can be shown.
            reason = choice.finish_reason if choice else "no choices"
            raise AssistantUnavailable(f"no content ({reason})")
        return content

    def transcribe(self, audio: bytes, filename: str, language: str) -> str:
        try:
            transcription = self._client.audio.transcriptions.create(
                model=self._transcribe_model, file=(filename, audio), language=language
            )
        except openai.OpenAIError as exc:
            _report("transcription", exc)
            raise TranscriptionFailed(_reason(exc)) from exc
        return transcription.text
