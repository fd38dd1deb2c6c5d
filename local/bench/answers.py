"""What the bench accepts as a function's answer, and how it names the calls the fakes recorded."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from local.bench.constants import CONSENT, PARENT_LANGUAGE, POLL_SECONDS, START_TIMEOUT_SECONDS, BenchError
from local.processes import Service
from shared.i18n import t


def is_created(response: httpx.Response) -> bool:
    return response.status_code == 200 and response.json().get("outcome") == "created"


def is_done(response: httpx.Response) -> bool:
    return response.status_code == 200 and response.json().get("outcome") == "done"


def is_sent(response: httpx.Response) -> bool:
    """reminders' 200 for a reminder it sent."""
    return response.status_code == 200 and response.json().get("outcome") == "sent"


def template_value(text: str, key: str, name: str, **values: object) -> str | None:
    """The value `text` holds for the field `name` of the Russian message `key` (the other fields given),
    or None when `text` is not that message."""
    marker = "\x00"
    prefix, _, suffix = t(PARENT_LANGUAGE, key, **values, **{name: marker}).partition(marker)
    if len(text) <= len(prefix) + len(suffix) or not (text.startswith(prefix) and text.endswith(suffix)):
        return None
    return text[len(prefix) : len(text) - len(suffix)]


def request_name(call: dict[str, Any]) -> str:
    """ "METHOD /path" of a call a fake recorded; for Calendar, from `events` on, the event id shortened."""
    parts = str(call["path"]).strip("/").split("/")
    if "events" in parts:
        parts = ["events", *(["{id}"] if parts[-1] != "events" else [])]
    return f"{call['method']} /{'/'.join(parts)}"


def is_handled(response: httpx.Response) -> bool:
    """tg_webhook's 200 for an update it handled (not a duplicate)."""
    return response.status_code == 200 and response.json().get("status") == "ok"


def is_welcome(messages: list[dict[str, Any]]) -> bool:
    """The bot's answer to a new parent's /start: the welcome text, the video note, the consent keyboard."""
    if len(messages) != 3:
        return False
    welcome, video, consent = messages
    keyboard = consent.get("reply_markup", {}).get("inline_keyboard", [])
    return (
        welcome.get("text") == t(PARENT_LANGUAGE, "welcome")
        and "video_note" in video
        and any(button.get("callback_data") == CONSENT for row in keyboard for button in row)
    )


def telegram_method(call: dict[str, Any]) -> str:
    """The Bot API method of a call the Telegram fake recorded (`/bot<token>/<method>`; a file download,
    `/file/bot<token>/<path>`, is "download")."""
    path = str(call["path"])
    return "download" if path.startswith("/file/") else path.rstrip("/").rsplit("/", 1)[-1]


def wait_for_answer(
    service: Service,
    send: Callable[[], httpx.Response],
    correct: Callable[[httpx.Response], bool],
    started: float | None = None,
) -> tuple[float, httpx.Response]:
    """Send until the function answers (10 ms between refused connections); return (seconds, answer).

    5xx answers are retried; any other wrong answer is an error.
    """
    started = time.perf_counter() if started is None else started
    deadline = started + START_TIMEOUT_SECONDS
    while time.perf_counter() < deadline:
        if service.process.poll() is not None:
            raise BenchError(
                f"{service.name} exited with {service.process.returncode}:\n{service.log_tail()}"
            )
        try:
            response = send()
        except (httpx.ConnectError, httpx.RemoteProtocolError):
            time.sleep(POLL_SECONDS)
            continue
        if response.status_code >= 500:
            time.sleep(POLL_SECONDS)
            continue
        if not correct(response):
            raise BenchError(f"{service.name} answered {response.status_code}: {response.text}")
        return time.perf_counter() - started, response
    raise BenchError(f"{service.name} gave no correct answer in {START_TIMEOUT_SECONDS:.0f}s")
