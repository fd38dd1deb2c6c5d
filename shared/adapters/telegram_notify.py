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
        self._api = f"{api_url}/bot{token}"
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

    def _send(
        self,
        chat_id: str,
        text: str,
        reply_markup: dict[str, Any] | None = None,
        reply_to: int | None = None,
    ) -> int | None:
        """One message (its message_id; None when Telegram took it without answering in time)."""
        body: dict[str, Any] = {
            "chat_id": chat_id,
            "text": text[:4096],
            "link_preview_options": {"is_disabled": True},
        }
        if reply_markup is not None:
            body["reply_markup"] = reply_markup
        if reply_to is not None:  # a deleted message replied to: sent all the same, as a plain message
            body["reply_parameters"] = {"message_id": reply_to, "allow_sending_without_reply": True}
        result = self._call("sendMessage", body)
        return int(result["message_id"]) if isinstance(result, dict) and "message_id" in result else None

    def _call(self, method: str, body: dict[str, Any]) -> Any:
        """One Bot API call: a flood wait (429 retry_after) or a 5xx is waited out within the budget."""
        waited = 0.0
        while True:
            error, wait, result = self._post(method, body)
            if error is None:
                return result
            if wait is None or waited + wait > self._wait_budget:
                raise error
            self._sleep(wait)
            waited += wait

    def _post(self, method: str, body: dict[str, Any]) -> tuple[NotifyError | None, float | None, Any]:
        """The error, if any, how long to wait before this request may try again (None: it may not), and
        the call's result."""
        try:
            response = self._http.post(f"{self._api}/{method}", json=body)
        except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:  # never reached Telegram
            return NotifyError(f"telegram unreachable: {type(exc).__name__}"), None, None
        except httpx.TimeoutException:
            # Telegram had the message and did not answer in time: it usually delivers anyway, and sending
            # it again (now or from the outbox) would show it twice. Said once, at most.
            log.warning("telegram did not answer in time; the message is taken as sent")
            return None, None, None
        except httpx.HTTPError as exc:
            return NotifyError(f"telegram unreachable: {type(exc).__name__}"), 0.5, None
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if response.status_code == 200:
            return None, None, answer.get("result") if isinstance(answer, dict) else None
        description = str(answer.get("description", "")) if isinstance(answer, dict) else ""
        error = f"telegram {method} {response.status_code}: {description}"
        if response.status_code == 429:
            retry_after = float((answer.get("parameters") or {}).get("retry_after") or 1)
            return NotifyError(error, retry_after=retry_after), retry_after, None
        if response.status_code == 403:
            return NotifyError(error, blocked=True), None, None
        if response.status_code >= 500:
            return NotifyError(error), 0.5, None
        return NotifyError(error), None, None  # 400/401/404: waiting won't help

    def post_card(
        self, text: str, reply_markup: dict[str, Any] | None, reply_to: int | None = None
    ) -> int | None:
        """A card (or a reply to the message `reply_to`) in the managers' chat; its message_id, to edit it
        or find it from a reply later (None: not known)."""
        if not self._managers:
            raise NotifyError("MANAGER_CHAT_ID is not set")
        return self._send(self._managers, text, reply_markup, reply_to)

    def edit_card(self, message_id: int, text: str, reply_markup: dict[str, Any] | None) -> bool:
        """The card redrawn in place; False when Telegram no longer lets it be edited (deleted, too old):
        post a new one."""
        if not self._managers:
            raise NotifyError("MANAGER_CHAT_ID is not set")
        body: dict[str, Any] = {
            "chat_id": self._managers,
            "message_id": message_id,
            "text": text[:4096],
            "link_preview_options": {"is_disabled": True},
            "reply_markup": reply_markup or {"inline_keyboard": []},
        }
        try:
            self._call("editMessageText", body)
        except NotifyError as exc:
            if "not modified" in str(exc):
                return True  # it shows this already
            if " 400:" in str(exc):
                return False  # "message to edit not found", "message can't be edited"
            raise
        return True

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
