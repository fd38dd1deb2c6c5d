"""Fake of the Telegram Bot API server (https://api.telegram.org/bot<token>/<method>), for python-telegram-bot
and plain HTTP clients.

Like the real server (tdlib/telegram-bot-api) it takes GET or POST with parameters in the query string, a
urlencoded or multipart form (complex values JSON-encoded) or a JSON body; method names are case-insensitive;
every answer is `{"ok": true, "result": ...}` or `{"ok": false, "error_code": N, "description": "..."}`, a 429
adding `"parameters": {"retry_after": N}` and a `Retry-After` header. A wrong token is 401 "Unauthorized", an
unknown method 404 "Not Found".

Methods so far: getMe, sendMessage (text checks, HTML parse mode validated by a port of tdlib's `parse_html`,
so unbalanced or unknown tags fail with the real "can't parse entities" messages; reply_markup checks),
setWebhook / getWebhookInfo / deleteWebhook (URL and secret_token rules). Add one with `@telegram_method`:

    @telegram_method("editMessageText")
    def _edit_message_text(fake: TelegramFake, bot: JSONDict, params: Params) -> Any:
        ...  # raise TelegramApiError(400, "Bad Request: ...") or return the result

MarkdownV2 / Markdown texts are accepted without validation (the text comes back as sent, no entities).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from werkzeug.wrappers import Request, Response

from local.fakes.base import FakeService, JSONDict, flatten_multidict, json_response

MAX_TEXT_LENGTH = 4096
MAX_CALLBACK_DATA_BYTES = 64
WEBHOOK_PORTS = (80, 88, 443, 8443)
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")

DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class TelegramApiError(Exception):
    def __init__(self, code: int, description: str | None = None, parameters: JSONDict | None = None) -> None:
        super().__init__(description or DEFAULT_DESCRIPTIONS.get(code, "Error"))
        self.code = code
        self.description = description or DEFAULT_DESCRIPTIONS.get(code, "Error")
        self.parameters = parameters


def telegram_error(
    code: int,
    description: str | None = None,
    parameters: JSONDict | None = None,
    retry_after: int | None = None,
) -> Response:
    if code == 429:
        retry_after = 5 if retry_after is None else retry_after
        description = description or f"Too Many Requests: retry after {retry_after}"
        parameters = {**(parameters or {}), "retry_after": retry_after}
    body: JSONDict = {
        "ok": False,
        "error_code": code,
        "description": description or DEFAULT_DESCRIPTIONS.get(code, "Error"),
    }
    if parameters:
        body["parameters"] = parameters
    headers = [("Retry-After", str(retry_after))] if retry_after is not None else []
    return json_response(body, code, headers)


# ---- parameters ------------------------------------------------------------------------------------------
class Params:
    """A method's parameters merged from query, form and JSON body, with the server's type coercions."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = dict(values)

    def __contains__(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def get(self, name: str, default: Any = None) -> Any:
        value = self.values.get(name)
        return default if value is None else value

    def text(self, name: str, default: str = "") -> str:
        value = self.values.get(name)
        return default if value is None else str(value)

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise TelegramApiError(400, f'Bad Request: invalid value of parameter "{name}"') from None

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value in (None, ""):
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("true", "1")

    def object(self, name: str, error: str) -> Any:
        """An object parameter: sent as an object in a JSON body, or as a JSON string in a form."""
        value = self.values.get(name)
        if value is None or isinstance(value, dict | list):
            return value
        try:
            return json.loads(value)
        except (TypeError, ValueError):
            raise TelegramApiError(400, error) from None


MethodHandler = Callable[["TelegramFake", JSONDict, Params], Any]
_METHODS: dict[str, MethodHandler] = {}


def telegram_method(name: str) -> Callable[[MethodHandler], MethodHandler]:
    """Register a Bot API method on every TelegramFake (names are case-insensitive, as on the server)."""

    def register(handler: MethodHandler) -> MethodHandler:
        _METHODS[name.lower()] = handler
        return handler

    return register


# ---- HTML parse mode (port of tdlib's parse_html) -------------------------------------------------------
_HTML_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler", "tg-emoji", "span", "pre"}
    | {"code", "blockquote"}
)
_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
}
_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}
_SPACE = frozenset(b" \t\r\n\x0b\x0c\x00")
_NAMED_ENTITIES = {b"lt": 0x3C, b"gt": 0x3E, b"amp": 0x26, b"quot": 0x22}


class HtmlParseError(ValueError):
    pass


def _decode_entity(data: bytes, pos: int) -> tuple[int, int]:
    """(code point, position after it) of an HTML entity at `pos`, or (0, pos) if it is not one."""
    n = len(data)

    def at(i: int) -> int:
        return data[i] if i < n else 0

    end = pos + 1
    code = 0
    if at(end) == 0x23:  # '#'
        end += 1
        if at(end) in (0x78, 0x58):  # 'x'
            end += 1
            while chr(at(end)) in "0123456789abcdefABCDEF" and at(end):
                code = code * 16 + int(chr(at(end)), 16)
                end += 1
        else:
            while 0x30 <= at(end) <= 0x39:
                code = code * 10 + at(end) - 0x30
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while chr(at(end)).isascii() and chr(at(end)).isalpha() and at(end):
            end += 1
        code = _NAMED_ENTITIES.get(data[pos + 1 : end], 0)
        if not code:
            return 0, pos
    if at(end) == 0x3B:  # ';'
        end += 1
    return code, end


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> tuple[str, list[JSONDict]]:
    """Telegram's HTML parse mode: (plain text, entities with UTF-16 offsets), or HtmlParseError carrying the
    message the server puts after "can't parse entities: ". Byte offsets are of the UTF-8 text, as tdlib's."""
    data = text.encode("utf-8")
    n = len(data)

    def at(i: int) -> int:
        return data[i] if i < n else 0

    out = bytearray()
    utf16 = 0
    entities: list[JSONDict] = []
    stack: list[tuple[str, str, int, int]] = []  # tag, argument, utf16 offset, byte position in `out`
    i = 0
    while i < n:
        c = data[i]
        if c == 0x26:
            code, end = _decode_entity(data, i)
            if code:
                if 0xD800 <= code <= 0xDFFF:
                    raise HtmlParseError(
                        "Text contains invalid Unicode characters after decoding HTML entities, check for"
                        " unmatched surrogate code units"
                    )
                out += chr(code).encode("utf-8")
                utf16 += 2 if code > 0xFFFF else 1
                i = end
                continue
        if c != 0x3C:
            out.append(c)
            if c & 0xC0 != 0x80:  # the first byte of a character; 4-byte ones are surrogate pairs in UTF-16
                utf16 += 2 if c >= 0xF0 else 1
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != 0x2F:  # start tag
            while at(i) not in _SPACE and at(i) != 0x3E:
                i += 1
            if at(i) == 0:
                raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
            tag = data[begin + 1 : i].decode("utf-8", "replace").lower()
            if tag not in _HTML_TAGS:
                raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
            argument = ""
            while at(i) != 0x3E:
                while at(i) != 0 and at(i) in _SPACE:
                    i += 1
                if at(i) == 0x3E:
                    break
                attr_begin = i
                while at(i) not in _SPACE and at(i) not in (0x3D, 0x3E):
                    i += 1
                attr = data[attr_begin:i].decode("utf-8", "replace").lower()
                if not attr:
                    raise HtmlParseError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
                while at(i) != 0 and at(i) in _SPACE:
                    i += 1
                if at(i) != 0x3D:
                    if tag == "blockquote" and attr == "expandable":
                        argument = "expandable"
                        continue
                    if at(i) == 0:
                        raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                    raise HtmlParseError(
                        "Expected equal sign in declaration of an attribute of the tag"
                        f' "{tag}" at byte offset {begin}'
                    )
                i += 1
                while at(i) != 0 and at(i) in _SPACE:
                    i += 1
                if at(i) == 0:
                    raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                value = bytearray()
                if at(i) not in (0x22, 0x27):
                    token_begin = i
                    while at(i) and (chr(at(i)).isascii() and chr(at(i)).isalnum() or at(i) in (0x2E, 0x2D)):
                        i += 1
                    value += data[token_begin:i]
                    if at(i) not in _SPACE and at(i) != 0x3E:
                        raise HtmlParseError(f"Unexpected end of name token at byte offset {token_begin}")
                else:
                    quote = at(i)
                    i += 1
                    while at(i) != quote and at(i) != 0:
                        if at(i) == 0x26:
                            code, end = _decode_entity(data, i)
                            if code:
                                value += chr(code).encode("utf-8")
                                i = end
                                continue
                        value.append(at(i))
                        i += 1
                    if at(i) == quote:
                        i += 1
                if at(i) == 0:
                    raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
                decoded = value.decode("utf-8", "replace")
                if tag == "a" and attr == "href":
                    argument = decoded
                elif tag == "code" and attr == "class" and decoded.startswith("language-"):
                    argument = decoded[len("language-") :]
                elif tag == "span" and attr == "class" and decoded.startswith("tg-"):
                    argument = decoded[len("tg-") :]
                elif tag == "tg-emoji" and attr == "emoji-id":
                    argument = decoded
            if tag == "span" and argument != "spoiler":
                raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
            stack.append((tag, argument, utf16, len(out)))
        else:  # end tag
            if not stack:
                raise HtmlParseError(f"Unexpected end tag at byte offset {begin}")
            i += 1
            name_begin = i
            while at(i) not in _SPACE and at(i) != 0x3E:
                i += 1
            end_tag = data[name_begin:i].decode("utf-8", "replace").lower()
            while at(i) != 0 and at(i) in _SPACE:
                i += 1
            if at(i) != 0x3E:
                raise HtmlParseError(f"Unclosed end tag at byte offset {begin}")
            tag, argument, offset, _ = stack[-1]
            if end_tag and end_tag != tag:
                raise HtmlParseError(
                    f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", found "</{end_tag}>"'
                )
            stack.pop()
            if utf16 > offset:
                entities.extend(_html_entity(tag, argument, offset, utf16 - offset, entities))
        i += 1
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    # tdlib's order: by offset, longer first, then by type priority (so <pre> comes before its <code>).
    entities.sort(key=lambda e: (e["offset"], -e["length"], _PRIORITY.get(e["type"], 50)))
    return out.decode("utf-8"), entities


def _html_entity(tag: str, argument: str, offset: int, length: int, done: list[JSONDict]) -> list[JSONDict]:
    """The Bot API MessageEntity for a closed tag (may merge `<pre><code class="language-x">`)."""
    entity: JSONDict = {"offset": offset, "length": length}
    if tag == "a":
        if not argument:
            return []
        url = argument if "://" in argument or argument.startswith("tg:") else f"http://{argument}"
        return [{"type": "text_link", **entity, "url": url}]
    if tag == "tg-emoji":
        return [{"type": "custom_emoji", **entity, "custom_emoji_id": argument}]
    if tag == "blockquote":
        return [{"type": "expandable_blockquote" if argument else "blockquote", **entity}]
    if tag == "code" and argument:
        return [{"type": "code", **entity, "language": argument}]  # merged into the enclosing <pre> below
    if tag == "pre":
        inner = done[-1] if done else None
        if inner and inner["type"] == "code" and (inner["offset"], inner["length"]) == (offset, length):
            if inner.get("language"):
                done.pop()
                return [{"type": "pre", **entity, "language": inner["language"]}]
        return [{"type": "pre", **entity}]
    return [{"type": _ENTITY_TYPES[tag], **entity}]


def _trim(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Telegram strips leading and trailing whitespace of a message; entities follow (UTF-16 offsets)."""
    stripped = text.lstrip()
    shift = _utf16_len(text) - _utf16_len(stripped)
    stripped = stripped.rstrip()
    total = _utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, total)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


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


def _bot_id(token: str) -> int:
    prefix = token.split(":", 1)[0]
    return int(prefix) if prefix.isdigit() else 1_000_000_001


class TelegramFake(FakeService):
    """Stateful Bot API fake.

    `tokens`: the valid bot token(s) (`"123456:ABC..."`; the number before the colon becomes the bot's id).
    `username`: the bot's username for getMe and the `from` of sent messages.
    `allow_http_webhook`: accept `http://` webhook URLs on any port (the real server demands HTTPS on
    80/88/443/8443); for `make dev`, where the functions listen on plain localhost.
    `known_chats_only`: unknown chat ids are "chat not found" unless added with `add_chat()`.
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
        self._extra_methods: dict[str, MethodHandler] = {}
        self._messages: list[JSONDict] = []
        self._last_id: dict[int, int] = {}
        self._chats: dict[int, JSONDict] = {}
        self._blocked: set[int] = set()
        self.webhook = Webhook()

    # ---- Python helpers --------------------------------------------------------------------------------
    def messages(self, chat_id: int | str | None = None) -> list[JSONDict]:
        """Messages the bot sent (the Message objects it got back), oldest first; optionally for one chat."""
        with self.lock:
            return [
                copy.deepcopy(message)
                for message in self._messages
                if chat_id is None or str(message["chat"]["id"]) == str(chat_id)
            ]

    def add_chat(self, chat_id: int, chat_type: str | None = None, **fields: Any) -> None:
        """Make a chat known (with e.g. `username=`, `first_name=`, `title=`); needed for @username ids."""
        with self.lock:
            self._chats[chat_id] = {"id": chat_id, "type": chat_type or self._chat_type(chat_id), **fields}

    def block_chat(self, chat_id: int) -> None:
        """The user blocked the bot: sends to them fail with 403 like the real API."""
        with self.lock:
            self._blocked.add(chat_id)

    def register_method(self, name: str, handler: MethodHandler) -> None:
        """Add a method to this instance only (e.g. a one-off in a test)."""
        with self.lock:
            self._extra_methods[name.lower()] = handler

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
        self._messages = []
        self._last_id = {}
        self._chats = {}
        self._blocked = set()
        self.webhook = Webhook()

    def dump_state(self) -> JSONDict:
        return {
            "bot": self.bot_user(),
            "messages": copy.deepcopy(self._messages),
            "webhook": {
                "url": self.webhook.url,
                "secret_token": self.webhook.secret_token,
                "max_connections": self.webhook.max_connections,
                "allowed_updates": self.webhook.allowed_updates,
                **self.webhook.extra,
            },
            "chats": {str(k): v for k, v in self._chats.items()},
            "blocked": sorted(self._blocked),
        }

    def error_response(
        self, status: int, message: str | None = None, retry_after: int | None = None
    ) -> Response:
        return telegram_error(status, message, retry_after=retry_after)

    def handle(self, request: Request) -> Response:
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
        if request.mimetype == "application/json":
            body = request.get_json(silent=True)
            if body is None and request.get_data(cache=True):
                raise TelegramApiError(400, "Bad Request: can't parse JSON object")
            if body is not None and not isinstance(body, dict):
                raise TelegramApiError(400, "Bad Request: JSON object expected")
            values.update(body or {})
        else:
            values.update(flatten_multidict(request.form))
            for name, storage in request.files.items():
                values[name] = storage.filename or name
        return Params(values)

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
        """Store and return a Message from the bot in `chat`; message_id counts per chat."""
        if chat["id"] in self._blocked:
            raise TelegramApiError(403, "Forbidden: bot was blocked by the user")
        message_id = self._last_id.get(chat["id"], 0) + 1
        self._last_id[chat["id"]] = message_id
        message: JSONDict = {
            "message_id": message_id,
            "from": bot,
            "chat": chat,
            "date": int(self.clock()),
            **{k: v for k, v in content.items() if v not in (None, [], {})},
        }
        self._messages.append(message)
        return message

    def message_exists(self, chat_id: int, message_id: int) -> bool:
        return any(m["chat"]["id"] == chat_id and m["message_id"] == message_id for m in self._messages)


@dataclass
class _WithDescription:
    """A result the server sends with a `description` (setWebhook / deleteWebhook)."""

    result: Any
    description: str


# ---- methods ---------------------------------------------------------------------------------------------
@telegram_method("getMe")
def _get_me(fake: TelegramFake, bot: JSONDict, params: Params) -> JSONDict:
    return {
        **bot,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


_BUTTON_ERROR = "Bad Request: can't parse inline keyboard button"


def _reply_markup(params: Params) -> JSONDict | None:
    """Validate reply_markup like the server; returns what a Message echoes (inline keyboards only)."""
    error = "Bad Request: can't parse reply keyboard markup JSON object"
    markup = params.object("reply_markup", error)
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise TelegramApiError(400, error)
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise TelegramApiError(400, f'{_BUTTON_ERROR}: Field "text" must be of type String')
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise TelegramApiError(
                        400,
                        f'{_BUTTON_ERROR}: Field "text" must be of type String',
                    )
                actions = set(button) - {"text"}
                if not actions:
                    raise TelegramApiError(
                        400,
                        f"{_BUTTON_ERROR}: Text buttons are unallowed in the inline keyboard",
                    )
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
                    raise TelegramApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup
    if not {"keyboard", "remove_keyboard", "force_reply"} & set(markup):
        raise TelegramApiError(400, error)
    return None


@telegram_method("sendMessage")
def _send_message(fake: TelegramFake, bot: JSONDict, params: Params) -> JSONDict:
    chat = fake.chat(params)
    text = params.get("text")
    if text is None or str(text) == "":
        raise TelegramApiError(400, "Bad Request: message text is empty")
    text = str(text)
    parse_mode = params.text("parse_mode")
    entities: list[JSONDict] = []
    if parse_mode.lower() == "html":
        try:
            text, entities = parse_html(text)
        except HtmlParseError as exc:
            raise TelegramApiError(400, f"Bad Request: can't parse entities: {exc}") from None
    elif parse_mode.lower() in ("markdown", "markdownv2"):
        pass  # not validated by the fake
    elif parse_mode:
        raise TelegramApiError(400, "Bad Request: unsupported parse_mode")
    else:
        given = params.object("entities", "Bad Request: can't parse entities JSON object")
        entities = list(given or [])
    text, entities = _trim(text, entities)
    if not text:
        raise TelegramApiError(400, "Bad Request: message text is empty")
    if len(text) > MAX_TEXT_LENGTH:
        raise TelegramApiError(400, "Bad Request: message is too long")
    markup = _reply_markup(params)
    reply_params = params.object("reply_parameters", "Bad Request: can't parse reply parameters JSON object")
    reply_to = (reply_params or {}).get("message_id") if isinstance(reply_params, dict) else None
    reply_to = reply_to or params.integer("reply_to_message_id")
    allow_without = params.flag("allow_sending_without_reply") or bool(
        isinstance(reply_params, dict) and reply_params.get("allow_sending_without_reply")
    )
    reply_message = None
    if reply_to:
        found = [m for m in fake.messages(chat["id"]) if m["message_id"] == int(reply_to)]
        if not found and not allow_without:
            raise TelegramApiError(400, "Bad Request: message to be replied not found")
        reply_message = found[0] if found else None
    return fake.new_message(
        bot,
        chat,
        text=text,
        entities=entities,
        reply_markup=markup,
        reply_to_message=reply_message,
    )


def _webhook_info(fake: TelegramFake) -> JSONDict:
    info: JSONDict = {"url": fake.webhook.url, "has_custom_certificate": False, "pending_update_count": 0}
    if fake.webhook.url:
        info["max_connections"] = fake.webhook.max_connections
        if fake.webhook.ip_address:
            info["ip_address"] = fake.webhook.ip_address
        if fake.webhook.allowed_updates is not None:
            info["allowed_updates"] = fake.webhook.allowed_updates
    return info


@telegram_method("setWebhook")
def _set_webhook(fake: TelegramFake, bot: JSONDict, params: Params) -> _WithDescription:
    url = params.text("url").strip()
    if not url:
        return _delete_webhook(fake, bot, params)
    parts = urlsplit(url if "://" in url else f"https://{url}")
    if not parts.hostname:
        raise TelegramApiError(
            400, "Bad Request: bad webhook: Failed to resolve host: Name or service not known"
        )
    if not fake.allow_http_webhook:
        if parts.scheme != "https":
            raise TelegramApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        if (parts.port or 443) not in WEBHOOK_PORTS:
            raise TelegramApiError(
                400, "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
            )
    secret = params.get("secret_token")
    if secret is not None and secret != "":
        secret = str(secret)
        if len(secret) > 256:
            raise TelegramApiError(400, "Bad Request: secret token is too long")
        if not _SECRET_TOKEN.match(secret):
            raise TelegramApiError(400, "Bad Request: secret token contains unallowed characters")
    max_connections = params.integer("max_connections", 40) or 40
    if not 1 <= max_connections <= 100:
        raise TelegramApiError(400, "Bad Request: max_connections must be between 1 and 100")
    allowed = params.object("allowed_updates", "Bad Request: can't parse allowed updates JSON object")
    if allowed is not None and not isinstance(allowed, list):
        raise TelegramApiError(400, "Bad Request: can't parse allowed updates JSON object")
    already = fake.webhook.url == url and fake.webhook.secret_token == (secret or None)
    fake.webhook = Webhook(
        url=url,
        secret_token=secret or None,
        max_connections=max_connections,
        allowed_updates=allowed,
        ip_address=params.text("ip_address") or None,
        set_at=fake.clock(),
        extra={"drop_pending_updates": params.flag("drop_pending_updates")},
    )
    return _WithDescription(True, "Webhook is already set" if already else "Webhook was set")


@telegram_method("deleteWebhook")
def _delete_webhook(fake: TelegramFake, bot: JSONDict, params: Params) -> _WithDescription:
    was_set = bool(fake.webhook.url)
    fake.webhook = Webhook()
    return _WithDescription(True, "Webhook was deleted" if was_set else "Webhook is already deleted")


@telegram_method("getWebhookInfo")
def _get_webhook_info(fake: TelegramFake, bot: JSONDict, params: Params) -> JSONDict:
    return _webhook_info(fake)
