"""Messages to the managers' and developers' Telegram chats over plain HTTP (no bot framework here)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from shared.ports import NotifyError

log = logging.getLogger(__name__)


class TelegramNotifier:
    def __init__(
        self,
        *,
        api_url: str,
        token: str,
        manager_chat_id: str | None,
        dev_chat_id: str | None,
        timeout: float = 10.0,
        wait_budget: float = 3.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._endpoint = f"{api_url}/bot{token}/sendMessage"
        self._managers = manager_chat_id
        self._developers = dev_chat_id or manager_chat_id  # no developers' chat: the managers hear of it
        self._http = httpx.Client(timeout=timeout)
        # Waiting for Telegram inside a request is worth a few seconds at most; what is still unsent
        # then stays in the outbox, whose reconciler tries again later.
        self._wait_budget = wait_budget
        self._sleep = sleep

    def message_parent(self, chat_id: int, text: str, reply_markup: dict[str, Any] | None = None) -> None:
        """A message to a parent's private chat (reminders, replies the bot could not send at the time)."""
        self._send(str(chat_id), text, reply_markup)

    def _send(self, chat_id: str, text: str, reply_markup: dict[str, Any] | None = None) -> None:
        """One message: a flood wait (429 retry_after) or a 5xx is waited out within the budget."""
        waited = 0.0
        while True:
            error, wait = self._post(chat_id, text, reply_markup)
            if error is None:
                return
            if wait is None or waited + wait > self._wait_budget:
                raise error
            self._sleep(wait)
            waited += wait

    def _post(
        self, chat_id: str, text: str, reply_markup: dict[str, Any] | None
    ) -> tuple[NotifyError | None, float | None]:
        """The error, if any, and how long to wait before this request may try again (None: it may not)."""
        body: dict[str, Any] = {
            "chat_id": chat_id,
            "text": text[:4096],
            "link_preview_options": {"is_disabled": True},
        }
        if reply_markup is not None:
            body["reply_markup"] = reply_markup
        try:
            response = self._http.post(self._endpoint, json=body)
        except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:  # never reached Telegram
            return NotifyError(f"telegram unreachable: {type(exc).__name__}"), None
        except httpx.TimeoutException:
            # Telegram had the message and did not answer in time: it usually delivers anyway, and sending
            # it again (now or from the outbox) would show it twice. Said once, at most.
            log.warning("telegram did not answer in time; the message is taken as sent")
            return None, None
        except httpx.HTTPError as exc:
            return NotifyError(f"telegram unreachable: {type(exc).__name__}"), 0.5
        if response.status_code == 200:
            return None, None
        try:
            body = response.json()
        except ValueError:
            body = {}
        description = str(body.get("description", ""))
        error = f"telegram sendMessage {response.status_code}: {description}"
        if response.status_code == 429:
            retry_after = float((body.get("parameters") or {}).get("retry_after") or 1)
            return NotifyError(error, retry_after=retry_after), retry_after
        if response.status_code == 403:
            return NotifyError(error, blocked=True), None
        if response.status_code >= 500:
            return NotifyError(error), 0.5
        return NotifyError(error), None  # 400/401/404: waiting won't help

    def notify_managers(self, text: str) -> None:
        if not self._managers:
            raise NotifyError("MANAGER_CHAT_ID is not set")
        self._send(self._managers, text)

    def alert_developers(self, text: str) -> None:
        """Best effort: the ERROR log line is the alert of record (Cloud Monitoring watches it)."""
        log.error("developer alert", extra={"alert": text})
        if not self._developers:
            return
        try:
            self._send(self._developers, text)
        except NotifyError as exc:
            log.error("developer alert not delivered", extra={"reason": str(exc)})
