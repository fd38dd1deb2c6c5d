"""`TelegramFake`: the Bot API server's state (chats, messages, files, commands) and its endpoint."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Request, Response

from local.fakes.base import FakeService, JSONDict, flatten_multidict, json_response
from local.fakes.telegram.api import (
    _METHODS,
    DEFAULT_DELIVER_TIMEOUT,
    MethodHandler,
    Params,
    TelegramApiError,
    telegram_error,
)
from local.fakes.telegram.control import ControlEndpoints
from local.fakes.telegram.methods import _WithDescription
from local.fakes.telegram.model import (
    _DEFAULT_CONTENT,
    _DEFAULT_MIME,
    _FILE_KINDS,
    FakeFile,
    Webhook,
    _bot_id,
    _buttons,
    _unique_id,
    _UpdateRecord,
)
from local.fakes.telegram.updates import Updates


class TelegramFake(Updates, ControlEndpoints, FakeService):
    """Stateful Bot API fake, and Telegram delivering user updates to the bot's webhook.

    `tokens`: the valid bot token(s) (`"123456:ABC..."`; the number before the colon becomes the bot's id).
    `username`: the bot's username for getMe and the `from` of sent messages.
    `allow_http_webhook`: accept `http://` webhook URLs on any port (the real server demands HTTPS on
    80/88/443/8443); for `make dev`, where the functions listen on plain localhost.
    `known_chats_only`: unknown chat ids are "chat not found" unless added with `add_chat()` or the user
    wrote to the bot (any `send_*`).
    `files`: known files, `{file_id: {"file_type": "video_note", "duration": 5, "content": b"..."}}` (the
    arguments of `add_file`) or just file ids (video notes); they survive `reset()`.
    `deliver_timeout`: seconds the webhook may take to answer an update (Telegram waits about a minute; the
    fake 30 s by default), after which the delivery counts as failed with status 0.
    `first_update_id`: the first update_id; by default derived from the clock like Telegram's (which starts
    anywhere). Update ids and callback query ids keep increasing across `reset()`, so a bot that remembers
    the ids it processed never mistakes a new update for a duplicate.
    """

    name = "telegram"
    recorded_headers = ("Content-Type", "User-Agent")

    def __init__(
        self,
        tokens: str | Iterable[str],
        username: str = "allin_academy_bot",
        *,
        first_name: str | None = None,
        allow_http_webhook: bool = False,
        known_chats_only: bool = False,
        files: Mapping[str, Mapping[str, Any]] | Iterable[str] | None = None,
        deliver_timeout: float = DEFAULT_DELIVER_TIMEOUT,
        first_update_id: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.tokens = [tokens] if isinstance(tokens, str) else list(tokens)
        self.username = username
        self.first_name = (
            first_name or username.removesuffix("_bot").removesuffix("bot").replace("_", " ").title()
        )
        self.allow_http_webhook = allow_http_webhook
        self.known_chats_only = known_chats_only
        self.deliver_timeout = deliver_timeout
        if isinstance(files, Mapping):
            self._initial_files: dict[str, JSONDict] = {fid: dict(spec) for fid, spec in files.items()}
        else:
            self._initial_files = {fid: {} for fid in files or ()}
        # Never reset: ids stay unique for the life of the fake.
        self._next_update_id = first_update_id or int(self.clock()) % 1_000_000 * 100 + 1
        self._next_query = 1
        self._next_file = 1
        self._extra_methods: dict[str, MethodHandler] = {}
        self.reset_state()

    # ---- Python helpers: the Bot API side ---------------------------------------------------------------
    def messages(self, chat_id: int | str | None = None, *, with_markup: bool = False) -> list[JSONDict]:
        """Messages the bot sent (the Message objects it got back, as edited since), oldest first; optionally
        for one chat. `with_markup=True` shows `reply_markup` as the bot sent it, reply keyboards included
        (the Bot API only echoes inline keyboards), which is what a user sees under the message."""
        with self.lock:
            found = []
            for message in self._messages:
                if chat_id is not None and str(message["chat"]["id"]) != str(chat_id):
                    continue
                message = copy.deepcopy(message)
                sent = self._sent_markup.get((message["chat"]["id"], message["message_id"]))
                if with_markup and "reply_markup" not in message and sent and "inline_keyboard" not in sent:
                    message["reply_markup"] = copy.deepcopy(sent)
                found.append(message)
            return found

    def incoming_messages(self, chat_id: int | str | None = None) -> list[JSONDict]:
        """Messages users sent to the bot (through the `send_*` helpers), oldest first."""
        with self.lock:
            return [
                copy.deepcopy(m)
                for m in self._incoming
                if chat_id is None or str(m["chat"]["id"]) == str(chat_id)
            ]

    def reply_keyboard(self, chat_id: int | str) -> JSONDict | None:
        """The reply keyboard the user of `chat_id` currently sees (None after remove_keyboard, or after
        using a one_time_keyboard)."""
        with self.lock:
            keyboard = self._keyboards.get(int(chat_id))
            return copy.deepcopy(keyboard) if keyboard else None

    def add_chat(self, chat_id: int, chat_type: str | None = None, **fields: Any) -> None:
        """Make a chat known (with e.g. `username=`, `first_name=`, `title=`); needed for @username ids."""
        with self.lock:
            self._chats[chat_id] = {"id": chat_id, "type": chat_type or self._chat_type(chat_id), **fields}

    def add_group(self, chat_id: int, title: str, members: list[int]) -> None:
        """A group the bot is in (a supergroup for -100… ids), whose `members` may write in it."""
        if chat_id >= 0:
            raise ValueError("a group's chat id is negative")
        with self.lock:
            self._chats[chat_id] = {"id": chat_id, "type": self._chat_type(chat_id), "title": title}
            self._members[chat_id] = set(members)

    def block_chat(self, chat_id: int) -> None:
        """The user blocked the bot: sends to them fail with 403 like the real API (until they write)."""
        with self.lock:
            self._blocked.add(chat_id)

    def register_method(self, name: str, handler: MethodHandler) -> None:
        """Add a method to this instance only (e.g. a one-off in a test)."""
        with self.lock:
            self._extra_methods[name.lower()] = handler

    def add_file(
        self,
        file_id: str,
        file_type: str = "video_note",
        *,
        file_size: int | None = None,
        duration: int | None = None,
        content: bytes | None = None,
        length: int | None = None,
        mime_type: str | None = None,
    ) -> JSONDict:
        """Make a file known to Telegram (e.g. a video note uploaded once, whose file_id the bot keeps);
        returns the object as a Message shows it (`{"file_id", "file_unique_id", "duration", ...}`)."""
        if file_type not in _FILE_KINDS:
            raise ValueError(f"unknown file_type {file_type!r}; one of {sorted(_FILE_KINDS)}")
        with self.lock:
            stored = self._store_file(
                file_id,
                file_type,
                _DEFAULT_CONTENT.get(file_type, b"fake file content") if content is None else content,
                file_size=file_size,
                duration=duration,
                length=length,
                mime_type=mime_type,
            )
            return stored.media()

    def file(self, file_id: str) -> FakeFile | None:
        with self.lock:
            return self._files.get(file_id)

    def callback_answers(self) -> list[JSONDict]:
        """The successful answerCallbackQuery calls: callback_query_id, text, show_alert, url, cache_time."""
        with self.lock:
            return copy.deepcopy(self._callback_answers)

    def reactions(self, chat_id: int, message_id: int) -> list[str]:
        """The bot's reaction on a message (setMessageReaction): [] for none."""
        with self.lock:
            return list(self._reactions.get((chat_id, message_id), []))

    def chat_actions(self, chat_id: int | str | None = None) -> list[JSONDict]:
        with self.lock:
            return [
                dict(a) for a in self._chat_actions if chat_id is None or str(a["chat_id"]) == str(chat_id)
            ]

    def commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        """The bot's command list set with setMyCommands for `scope` (default scope) and language."""
        with self.lock:
            return copy.deepcopy(self._commands.get(self._commands_key(scope, language_code), []))

    def bot_user(self, token: str | None = None) -> JSONDict:
        token = token or self.tokens[0]
        return {
            "id": _bot_id(token),
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    # ---- FakeService -------------------------------------------------------------------------------------
    def reset_state(self) -> None:
        self._messages: list[JSONDict] = []
        self._incoming: list[JSONDict] = []
        self._deleted: list[JSONDict] = []
        self._reactions: dict[tuple[int, int], list[str]] = {}  # the bot's, by (chat, message)
        self._sent_markup: dict[tuple[int, int], JSONDict] = {}
        self._keyboards: dict[int, JSONDict] = {}
        self._last_id: dict[int, int] = {}
        self._chats: dict[int, JSONDict] = {}
        self._members: dict[int, set[int]] = {}  # groups made with add_group: who may write there
        self._users: dict[int, JSONDict] = {}
        self._blocked: set[int] = set()
        self._files: dict[str, FakeFile] = {}
        self._open_queries: dict[str, JSONDict] = {}
        self._callback_answers: list[JSONDict] = []
        self._chat_actions: list[JSONDict] = []
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._records: list[_UpdateRecord] = []
        self._deliveries: list[JSONDict] = []
        self.webhook = Webhook()
        for file_id, spec in self._initial_files.items():
            self.add_file(file_id, **spec)

    def dump_state(self) -> JSONDict:
        return {
            "bot": self.bot_user(),
            "messages": copy.deepcopy(self._messages),
            "incoming_messages": copy.deepcopy(self._incoming),
            "deleted_messages": copy.deepcopy(self._deleted),
            "reactions": [
                {"chat_id": chat, "message_id": message, "emoji": list(emoji)}
                for (chat, message), emoji in self._reactions.items()
            ],
            "reply_keyboards": {str(k): v for k, v in self._keyboards.items()},
            "webhook": {
                "url": self.webhook.url,
                "secret_token": self.webhook.secret_token,
                "max_connections": self.webhook.max_connections,
                "allowed_updates": self.webhook.allowed_updates,
                "last_error_date": self.webhook.last_error_date,
                "last_error_message": self.webhook.last_error_message,
                **self.webhook.extra,
            },
            "chats": {str(k): v for k, v in self._chats.items()},
            "blocked": sorted(self._blocked),
            "files": {fid: f.to_json() for fid, f in self._files.items()},
            "open_callback_queries": sorted(self._open_queries),
            "callback_answers": copy.deepcopy(self._callback_answers),
            "chat_actions": [dict(a) for a in self._chat_actions],
            "commands": [
                {"scope": json.loads(scope), "language_code": lang, "commands": commands}
                for (scope, lang), commands in self._commands.items()
            ],
            "updates": [copy.deepcopy(r.update) for r in self._records],
            "pending_update_ids": [r.update_id for r in self._records if r.pending],
            "deliveries": [dict(d) for d in self._deliveries],
        }

    def error_response(
        self, status: int, message: str | None = None, retry_after: int | None = None
    ) -> Response:
        return telegram_error(status, message, retry_after=retry_after)

    def handle(self, request: Request) -> Response:
        file_match = re.fullmatch(r"/file/bot([^/]*)/(.+)", request.path)
        if file_match:
            return self._download(request, *file_match.groups())
        match = re.fullmatch(r"/bot([^/]*)/([^/]*)", request.path)
        if not match or not match.group(1):
            return telegram_error(404, "Not Found")
        token, name = match.groups()
        if token not in self.tokens:
            return telegram_error(401, "Unauthorized")
        handler = self._extra_methods.get(name.lower()) or _METHODS.get(name.lower())
        if handler is None:
            return telegram_error(404, "Not Found")
        try:
            params = self._params(request)
            result = handler(self, self.bot_user(token), params)
        except TelegramApiError as exc:
            return telegram_error(exc.code, exc.description, exc.parameters)
        if isinstance(result, _WithDescription):
            return json_response({"ok": True, "result": result.result, "description": result.description})
        return json_response({"ok": True, "result": result})

    # ---- internals -------------------------------------------------------------------------------------
    @staticmethod
    def _params(request: Request) -> Params:
        values: JSONDict = flatten_multidict(request.args)
        files: dict[str, FileStorage] = {}
        if request.mimetype == "application/json":
            body = request.get_json(silent=True)
            if body is None and request.get_data(cache=True):
                raise TelegramApiError(400, "Bad Request: can't parse JSON object")
            if body is not None and not isinstance(body, dict):
                raise TelegramApiError(400, "Bad Request: JSON object expected")
            values.update(body or {})
        else:
            values.update(flatten_multidict(request.form))
            files = dict(request.files.items())
        return Params(values, files)

    @staticmethod
    def _chat_type(chat_id: int) -> str:
        if chat_id > 0:
            return "private"
        return "supergroup" if str(chat_id).startswith("-100") else "group"

    def chat(self, params: Params) -> JSONDict:
        """The chat named by `chat_id` (a number or an @username), with the server's errors."""
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise TelegramApiError(400, "Bad Request: chat_id is empty")
        text = str(raw).strip()
        if text.startswith("@"):
            for known in self._chats.values():
                if str(known.get("username", "")).lower() == text[1:].lower():
                    return dict(known)
            raise TelegramApiError(400, "Bad Request: chat not found")
        if not re.fullmatch(r"-?\d+", text):
            raise TelegramApiError(400, "Bad Request: chat not found")
        chat_id = int(text)
        if chat_id in self._chats:
            return dict(self._chats[chat_id])
        if self.known_chats_only or chat_id == 0:
            raise TelegramApiError(400, "Bad Request: chat not found")
        chat: JSONDict = {"id": chat_id, "type": self._chat_type(chat_id)}
        if chat["type"] != "private":
            chat["title"] = "Fake group"
        return chat

    def new_message(self, bot: JSONDict, chat: JSONDict, **content: Any) -> JSONDict:
        """Store and return a Message from the bot in `chat`; message_id counts per chat (shared with the
        users' messages). A `reply_markup` is echoed only if it is an inline keyboard, as the API does; any
        markup is remembered as sent (see `messages(with_markup=True)`, `reply_keyboard()`)."""
        if chat["id"] in self._blocked:
            raise TelegramApiError(403, "Forbidden: bot was blocked by the user")
        markup = content.pop("reply_markup", None)
        message_id = self._next_message_id(chat["id"])
        message: JSONDict = {
            "message_id": message_id,
            "from": bot,
            "chat": chat,
            "date": int(self.clock()),
            **{k: v for k, v in content.items() if v not in (None, [], {})},
        }
        if isinstance(markup, dict):
            if "inline_keyboard" in markup:
                message["reply_markup"] = markup
            self._sent_markup[(chat["id"], message_id)] = copy.deepcopy(markup)
            if "keyboard" in markup:
                self._keyboards[chat["id"]] = copy.deepcopy(markup)
            elif markup.get("remove_keyboard"):
                self._keyboards.pop(chat["id"], None)
        self._messages.append(message)
        return message

    def message_exists(self, chat_id: int, message_id: int) -> bool:
        return any(m["chat"]["id"] == chat_id and m["message_id"] == message_id for m in self._messages)

    def _next_message_id(self, chat_id: int) -> int:
        message_id = self._last_id.get(chat_id, 0) + 1
        self._last_id[chat_id] = message_id
        return message_id

    def _bot_message(self, chat_id: int, message_id: int) -> JSONDict | None:
        for message in self._messages:
            if message["chat"]["id"] == chat_id and message["message_id"] == message_id:
                return message
        return None

    def _user_message_by_id(self, chat_id: int, message_id: int) -> JSONDict | None:
        for message in self._incoming:
            if message["chat"]["id"] == chat_id and message["message_id"] == message_id:
                return message
        return None

    @staticmethod
    def _normalize_user(user: Mapping[str, Any]) -> JSONDict:
        if not isinstance(user, Mapping) or not isinstance(user.get("id"), int):
            raise ValueError('a user needs an integer "id" (make one with fake.user(user_id))')
        return {"id": user["id"], "is_bot": False, "first_name": "Анна", **user}

    def _remember_user(self, user: JSONDict) -> JSONDict:
        self._users[user["id"]] = dict(user)
        chat: JSONDict = {"id": user["id"], "first_name": user["first_name"]}
        for name in ("last_name", "username"):
            if user.get(name):
                chat[name] = user[name]
        chat["type"] = "private"
        self._chats[user["id"]] = chat
        return chat

    def _user_message(self, user: Mapping[str, Any], chat_id: int | None = None, **content: Any) -> JSONDict:
        """A message from `user` in their private chat with the bot (the chat becomes known, unblocked),
        or in the group `chat_id` (made with add_group; Telegram lets only its members write there)."""
        sender = self._normalize_user(user)
        if chat_id is None:
            chat = self._remember_user(sender)
            self._blocked.discard(sender["id"])
        else:
            if sender["id"] not in self._members.get(chat_id, set()):
                raise ValueError(f"user {sender['id']} is not a member of group {chat_id} (see add_group)")
            self._users[sender["id"]] = dict(sender)
            chat = self._chats[chat_id]
        message: JSONDict = {
            "message_id": self._next_message_id(chat["id"]),
            "from": sender,
            "chat": dict(chat),
            "date": int(self.clock()),
            **{k: v for k, v in content.items() if v not in (None, [], {})},
        }
        self._incoming.append(message)
        return copy.deepcopy(message)

    def _keyboard_used(self, chat_id: int, pressed: Callable[[JSONDict], bool]) -> None:
        """A one_time_keyboard hides once the user presses one of its buttons."""
        keyboard = self._keyboards.get(chat_id)
        if keyboard and keyboard.get("one_time_keyboard"):
            if any(pressed(button) for button in _buttons(keyboard, "keyboard")):
                self._keyboards.pop(chat_id, None)

    def _new_update(self, kind: str, payload: JSONDict) -> JSONDict:
        update = {"update_id": self._next_update_id, kind: payload}
        self._next_update_id += 1
        return update

    def _store_file(
        self,
        file_id: str,
        file_type: str,
        content: bytes,
        *,
        file_size: int | None = None,
        duration: int | None = None,
        length: int | None = None,
        mime_type: str | None = None,
        file_name: str | None = None,
    ) -> FakeFile:
        folder, extension, _ = _FILE_KINDS[file_type]
        number = self._next_file
        self._next_file += 1
        stored = FakeFile(
            file_id=file_id,
            file_unique_id=_unique_id(file_id),
            file_type=file_type,
            content=bytes(content),
            file_size=len(content) if file_size is None else file_size,
            file_path=f"{folder}/file_{number}{extension}",
            duration=duration,
            length=length,
            mime_type=mime_type or _DEFAULT_MIME.get(file_type),
            file_name=file_name,
        )
        self._files[file_id] = stored
        return stored

    def _new_file_id(self, file_type: str) -> str:
        prefix = {"video_note": "DQACAgIAAxkDAAI", "voice": "AwACAgIAAxkBAAI"}.get(
            file_type, "BQACAgIAAxkDAAI"
        )
        return (
            f"{prefix}{self._next_file:06d}fake{hashlib.sha1(str(self._next_file).encode()).hexdigest()[:12]}"
        )

    def _download(self, request: Request, token: str, file_path: str) -> Response:
        if request.method not in ("GET", "HEAD"):
            return telegram_error(404, "Not Found")
        if token not in self.tokens:
            return telegram_error(401, "Unauthorized")
        for stored in self._files.values():
            if stored.file_path == file_path:
                return Response(stored.content, mimetype=stored.mime_type or "application/octet-stream")
        return telegram_error(404, "Not Found")

    @staticmethod
    def _commands_key(scope: Any, language_code: str) -> tuple[str, str]:
        scope = scope or {"type": "default"}
        return json.dumps(scope, sort_keys=True, ensure_ascii=False), language_code or ""
