"""Messages to the managers' and developers' Telegram chats over plain HTTP (no bot framework here)."""

from __future__ import annotations

import logging

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
    ) -> None:
        self._endpoint = f"{api_url}/bot{token}/sendMessage"
        self._managers = manager_chat_id
        self._developers = dev_chat_id
        self._http = httpx.Client(timeout=timeout)

    def message_parent(self, chat_id: int, text: str) -> None:
        """A message to a parent's private chat (reminders), outside the bot's conversation."""
        self._send(str(chat_id), text)

    def _send(self, chat_id: str, text: str) -> None:
        try:
            response = self._http.post(
                self._endpoint,
                json={"chat_id": chat_id, "text": text[:4096], "link_preview_options": {"is_disabled": True}},
            )
        except httpx.HTTPError as exc:
            raise NotifyError(f"telegram unreachable: {type(exc).__name__}") from exc
        if response.status_code != 200:
            try:
                description = response.json().get("description", "")
            except ValueError:
                description = ""
            raise NotifyError(f"telegram sendMessage {response.status_code}: {description}")

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
