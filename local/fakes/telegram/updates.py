"""Telegram's side of the fake: realistic updates built and delivered to the bot's webhook."""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Mapping
from typing import Any

import httpx

from local.fakes.base import JSONDict
from local.fakes.telegram.api import SECRET_TOKEN_HEADER, log
from local.fakes.telegram.model import (
    _DEFAULT_CONTENT,
    _bot_id,
    _buttons,
    _command_entities,
    _reason,
    _update_kind,
    _UpdateRecord,
)


class Updates:
    """Builds updates as Telegram would and posts them to the webhook (mixed into TelegramFake)."""

    # ---- Python helpers: Telegram delivering updates ----------------------------------------------------
    def user(
        self,
        user_id: int,
        first_name: str = "Анна",
        username: str | None = None,
        language_code: str | None = "ru",
        *,
        last_name: str | None = None,
    ) -> JSONDict:
        """A User object (the `from` of a user's updates); remembered, so `user_id` alone finds it later."""
        user: JSONDict = {"id": int(user_id), "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        with self.lock:
            self._users[user["id"]] = user
        return dict(user)

    def known_user(self, user_id: int) -> JSONDict:
        """The user made with `user()` (or seen in an update) with this id, else a default one."""
        with self.lock:
            known = self._users.get(int(user_id))
        return dict(known) if known else self.user(user_id)

    def send_text(
        self, user: Mapping[str, Any], text: str, *, chat_id: int | None = None, reply_to: int | None = None
    ) -> int:
        """The user writes `text` to the bot (or in the group `chat_id`), replying to the message
        `reply_to` of that chat if given; returns the webhook's HTTP status (0 if not delivered)."""
        return self.deliver(self.text_update(user, text, chat_id=chat_id, reply_to=reply_to))

    def send_command(
        self, user: Mapping[str, Any], command: str, payload: str | None = None, *, chat_id: int | None = None
    ) -> int:
        """The user sends a command, e.g. `"/start"` with the deep-link `payload` (`/start TOKEN`), in
        their private chat or the group `chat_id`."""
        return self.deliver(self.command_update(user, command, payload, chat_id=chat_id))

    def send_contact(
        self,
        user: Mapping[str, Any],
        phone_number: str,
        contact_user_id: int | None = None,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> int:
        """The user shares a contact: their own (what a request_contact button sends) by default, someone
        else's when `contact_user_id` differs (0: a phone-book contact without a Telegram account)."""
        return self.deliver(
            self.contact_update(
                user, phone_number, contact_user_id, first_name=first_name, last_name=last_name
            )
        )

    def send_voice(
        self,
        user: Mapping[str, Any],
        file_id: str,
        duration: int,
        *,
        content: bytes | None = None,
        file_size: int | None = None,
    ) -> int:
        """The user records a voice message; an unknown `file_id` becomes a known voice file (with `content`,
        default a few OGG bytes), so the bot can getFile and download it."""
        return self.deliver(self.voice_update(user, file_id, duration, content=content, file_size=file_size))

    def press_button(
        self,
        user: Mapping[str, Any],
        message: Mapping[str, Any] | int | Any,
        callback_data: str,
        *,
        check_keyboard: bool = True,
        chat_id: int | None = None,
    ) -> int:
        """The user presses an inline button of `message` (a Message dict or object the bot sent to this
        user, or to the group `chat_id` the user is in, or its message_id): a callback_query with a fresh
        id that answerCallbackQuery accepts once. `check_keyboard=False` allows data the message's
        current keyboard does not have (a stale button)."""
        update = self.callback_update(
            user, message, callback_data, check_keyboard=check_keyboard, chat_id=chat_id
        )
        return self.deliver(update)

    def deliver(self, update: Any, *, timeout: float | None = None) -> int:
        """Record `update` (any JSON, malformed ones too) and POST it to the webhook; returns the status.

        0 means not delivered: no webhook set (the update waits for getUpdates), filtered out by the
        webhook's allowed_updates, a timeout or a connection error. A non-2xx or 0 is recorded in
        `deliveries()` and getWebhookInfo's last_error_*; the update stays pending for `redeliver()`."""
        return self._deliver(update, timeout)[1]

    def redeliver(self, update_id: int, *, timeout: float | None = None) -> int:
        """POST an earlier update again, the identical bytes (as Telegram retries after a failure)."""
        with self.lock:
            found = [r for r in self._records if r.update_id == update_id]
            if not found:
                raise KeyError(f"no update with update_id {update_id}")
            record = found[-1]
            record.pending = True
        return self._post(record, timeout)

    def _deliver(self, update: Any, timeout: float | None) -> tuple[_UpdateRecord, int]:
        body = json.dumps(update, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        update_id = update.get("update_id") if isinstance(update, Mapping) else None
        with self.lock:
            if isinstance(update_id, int) and update_id >= self._next_update_id:
                self._next_update_id = update_id + 1
            record = _UpdateRecord(update_id, copy.deepcopy(update), body, _update_kind(update))
            self._records.append(record)
        return record, self._post(record, timeout)

    def deliver_pending(self, *, timeout: float | None = None) -> list[int]:
        """POST every pending update in order (what Telegram does once a webhook is set); the statuses."""
        with self.lock:
            pending = [r for r in self._records if r.pending]
        return [self._post(record, timeout) for record in pending]

    def updates(self) -> list[Any]:
        """Every update built or delivered, oldest first (redeliveries not repeated)."""
        with self.lock:
            return [copy.deepcopy(r.update) for r in self._records]

    def update(self, update_id: int) -> Any:
        with self.lock:
            for record in reversed(self._records):
                if record.update_id == update_id:
                    return copy.deepcopy(record.update)
        raise KeyError(f"no update with update_id {update_id}")

    def deliveries(self) -> list[JSONDict]:
        """Each webhook POST: update_id, attempt (1 = first), status (0 = no HTTP answer), error, seconds."""
        with self.lock:
            return [dict(d) for d in self._deliveries]

    # ---- building updates ---------------------------------------------------------------------------------
    def text_update(
        self, user: Mapping[str, Any], text: str, *, chat_id: int | None = None, reply_to: int | None = None
    ) -> JSONDict:
        """A new message update with `text` from `user`, in their private chat or the group `chat_id` (bot
        commands in it get their entities), replying to the message `reply_to` of that chat (Telegram
        carries the whole replied message, without its own reply)."""
        if not text:
            raise ValueError("a message text can't be empty")
        with self.lock:
            replied = None
            if reply_to is not None:
                chat = user["id"] if chat_id is None else chat_id
                replied = self._bot_message(chat, reply_to) or self._user_message_by_id(chat, reply_to)
                if replied is None:
                    raise ValueError(f"no message {reply_to} in chat {chat} to reply to")
                replied = {k: v for k, v in copy.deepcopy(replied).items() if k != "reply_to_message"}
            message = self._user_message(
                user, chat_id, text=text, entities=_command_entities(text), reply_to_message=replied
            )
            self._keyboard_used(message["chat"]["id"], lambda b: b.get("text") == text and len(b) == 1)
            return self._new_update("message", message)

    def command_update(
        self,
        user: Mapping[str, Any],
        command: str,
        payload: str | None = None,
        *,
        chat_id: int | None = None,
    ) -> JSONDict:
        command = command if command.startswith("/") else f"/{command}"
        if not re.fullmatch(r"/[A-Za-z0-9_]{1,64}(@[A-Za-z0-9_]{3,32})?", command):
            raise ValueError(f"not a bot command: {command!r}")
        text = f"{command} {payload}" if payload else command
        entities = [{"offset": 0, "length": len(command), "type": "bot_command"}]
        with self.lock:
            return self._new_update(
                "message", self._user_message(user, chat_id, text=text, entities=entities)
            )

    def contact_update(
        self,
        user: Mapping[str, Any],
        phone_number: str,
        contact_user_id: int | None = None,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> JSONDict:
        sender = self._normalize_user(user)
        own = contact_user_id is None or contact_user_id == sender["id"]
        contact: JSONDict = {"phone_number": phone_number}
        if own:
            contact["first_name"] = first_name or sender["first_name"]
            if last_name or sender.get("last_name"):
                contact["last_name"] = last_name or sender["last_name"]
            contact["user_id"] = sender["id"]
        else:
            contact["first_name"] = first_name or "Контакт"
            if last_name:
                contact["last_name"] = last_name
            if contact_user_id:
                contact["user_id"] = contact_user_id
        with self.lock:
            message = self._user_message(sender, contact=contact)
            if own:
                self._keyboard_used(message["chat"]["id"], lambda b: bool(b.get("request_contact")))
            return self._new_update("message", message)

    def voice_update(
        self,
        user: Mapping[str, Any],
        file_id: str,
        duration: int,
        *,
        content: bytes | None = None,
        file_size: int | None = None,
    ) -> JSONDict:
        with self.lock:
            known = self._files.get(file_id)
            if known is None or known.file_type != "voice":
                known = self._store_file(
                    file_id,
                    "voice",
                    _DEFAULT_CONTENT["voice"] if content is None else content,
                    file_size=file_size,
                    duration=duration,
                    mime_type="audio/ogg",
                )
            voice = {**known.media(), "duration": duration}
            return self._new_update("message", self._user_message(user, voice=voice))

    def callback_update(
        self,
        user: Mapping[str, Any],
        message: Mapping[str, Any] | int | Any,
        callback_data: str,
        *,
        check_keyboard: bool = True,
        chat_id: int | None = None,
    ) -> JSONDict:
        sender = self._normalize_user(user)
        chat = sender["id"] if chat_id is None else chat_id
        if isinstance(message, int):
            message_id = message
        elif isinstance(message, Mapping):
            message_id = int(message["message_id"])
        else:
            message_id = int(message.message_id)
        with self.lock:
            if chat_id is not None and sender["id"] not in self._members.get(chat_id, set()):
                raise ValueError(f"user {sender['id']} is not a member of group {chat_id} (see add_group)")
            stored = self._bot_message(chat, message_id)
            if stored is None:
                raise ValueError(f"the bot sent no message {message_id} to chat {chat}")
            if check_keyboard:
                data = [
                    b.get("callback_data") for b in _buttons(stored.get("reply_markup"), "inline_keyboard")
                ]
                if callback_data not in data:
                    raise ValueError(
                        f"message {message_id} has no inline button with callback_data {callback_data!r}"
                        f" (it has {data}); pass check_keyboard=False to press a stale button"
                    )
            if chat_id is None:
                self._remember_user(sender)
                self._blocked.discard(sender["id"])
            else:
                self._users[sender["id"]] = dict(sender)
            query_id = str((abs(sender["id"]) % 1_000_000_000) * 1_000_000_000 + self._next_query)
            self._next_query += 1
            self._open_queries[query_id] = {"chat_id": chat, "message_id": message_id}
            query = {
                "id": query_id,
                "from": sender,
                "message": copy.deepcopy(stored),
                "chat_instance": str(-(abs(sender["id"]) * 7919 + _bot_id(self.tokens[0])) % 10**19),
                "data": callback_data,
            }
            return self._new_update("callback_query", query)

    def _post(self, record: _UpdateRecord, timeout: float | None) -> int:
        """One delivery attempt of `record` to the webhook (the lock is not held while posting: the bot
        calls the API back from its webhook handler)."""
        with self.lock:
            url, secret = self.webhook.url, self.webhook.secret_token
            allowed = self.webhook.allowed_updates
            attempt = 1 + sum(1 for d in self._deliveries if d["update_id"] == record.update_id)
            if not url:
                record.error = "no webhook set"
                return 0  # stays pending, for getUpdates
            if allowed and record.kind not in allowed:
                # Telegram does not send what the bot did not ask for; the update is gone.
                record.pending = False
                record.error = f"not sent: {record.kind!r} is not in allowed_updates {allowed}"
                self._deliveries.append(
                    {
                        "update_id": record.update_id,
                        "attempt": attempt,
                        "status": 0,
                        "error": record.error,
                        "time": self.clock(),
                        "seconds": 0.0,
                    }
                )
                return 0
        headers = {"Content-Type": "application/json"}
        if secret:
            headers[SECRET_TOKEN_HEADER] = secret
        started = time.monotonic()
        error: str | None = None
        try:
            with httpx.Client(timeout=timeout or self.deliver_timeout, trust_env=False) as client:
                response = client.post(url, content=record.body, headers=headers)
            status = response.status_code
            if not 200 <= status < 300:
                error = f"Wrong response from the webhook: {status} {_reason(status)}".rstrip()
        except httpx.TimeoutException:
            status, error = 0, "Read timeout expired"
        except httpx.ConnectError:
            status, error = 0, "Connection refused"
        except httpx.HTTPError as exc:
            status, error = 0, f"Failed to send the update: {type(exc).__name__}"
        seconds = round(time.monotonic() - started, 3)
        with self.lock:
            self._deliveries.append(
                {
                    "update_id": record.update_id,
                    "attempt": attempt,
                    "status": status,
                    "error": error,
                    "time": self.clock(),
                    "seconds": seconds,
                }
            )
            record.pending = error is not None
            record.error = error
            if error is not None and self.webhook.url == url:
                self.webhook.last_error_date = int(self.clock())
                self.webhook.last_error_message = error
        if error:
            log.info("telegram: update %s to %s failed: %s", record.update_id, url, error)
        return status
