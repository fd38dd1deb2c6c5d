"""OpenAI through its SDK: chat completions for the assistant, audio transcriptions for voice notes.

Imported only by the paths that ask the model: `import openai` alone costs about half a second of cold
start. Retries are done here, not by the SDK: the SDK honours a `Retry-After` of up to two minutes, and
a parent waiting for an answer (and Telegram waiting for the webhook) cannot. Each call gets a total
budget of `timeout × (max_retries + 1)`; 5xx, 408, 409, 429 and network errors are retried within it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import openai

from shared.ports import AssistantUnavailable, ChatTurn, TranscriptionFailed

log = logging.getLogger(__name__)
# Errors a retry later will not fix: the deployment is misconfigured, developers must act (ERROR log).
_CONFIGURATION_ERRORS = (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError)
_MIN_ATTEMPT_SECONDS = 1.0  # less than this left of the budget: another attempt could not succeed
T = TypeVar("T")


def _reason(exc: openai.OpenAIError) -> str:
    status = getattr(exc, "status_code", None)
    return f"{type(exc).__name__} {status}" if status else type(exc).__name__


def _retryable(exc: openai.OpenAIError) -> bool:
    if isinstance(exc, openai.APIConnectionError):  # timeouts included
        return True
    status = getattr(exc, "status_code", 0) or 0
    return status in (408, 409, 429) or status >= 500


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
        self._client = openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)
        self._timeout = timeout
        self._retries = max_retries
        self._model = model
        self._transcribe_model = transcribe_model
        self._max_tokens = max_answer_tokens

    def answer(self, system_prompt: str, turns: Sequence[ChatTurn]) -> str:
        messages: list[Any] = [{"role": "system", "content": system_prompt}]
        messages += [{"role": turn.role, "content": turn.content} for turn in turns]
        try:
            completion = self._within_budget(
                "chat completion",
                lambda timeout: self._client.chat.completions.create(
                    model=self._model,
                    messages=messages,
                    # No temperature: reasoning models refuse anything but the default, and OPENAI_MODEL
                    # may name one. max_completion_tokens (not max_tokens) is accepted by every chat model.
                    max_completion_tokens=self._max_tokens,
                    timeout=timeout,
                ),
            )
        except openai.OpenAIError as exc:
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
            transcription = self._within_budget(
                "transcription",
                lambda timeout: self._client.audio.transcriptions.create(
                    model=self._transcribe_model, file=(filename, audio), language=language, timeout=timeout
                ),
            )
        except openai.OpenAIError as exc:
            raise TranscriptionFailed(_reason(exc)) from exc
        return transcription.text

    def _within_budget(self, what: str, request: Callable[[float], T]) -> T:
        """`request(timeout)`, retried on transient errors while the call's total budget lasts."""
        deadline = time.monotonic() + self._timeout * (self._retries + 1)
        attempt = 0
        while True:
            try:
                return request(min(self._timeout, max(deadline - time.monotonic(), _MIN_ATTEMPT_SECONDS)))
            except openai.OpenAIError as exc:
                attempt += 1
                pause = 0.5 * 2 ** (attempt - 1)
                left = deadline - time.monotonic() - pause
                if not _retryable(exc) or attempt > self._retries or left < _MIN_ATTEMPT_SECONDS:
                    _report(what, exc)
                    raise
                log.info("openai %s retried", what, extra={"reason": _reason(exc), "attempt": attempt})
                time.sleep(pause)
