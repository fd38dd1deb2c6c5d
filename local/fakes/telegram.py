"""Fake of the Telegram Bot API server (https://api.telegram.org/bot<token>/<method>), for python-telegram-bot
and plain HTTP clients, and a fake of Telegram itself delivering updates to the bot's webhook.

Like the real server (tdlib/telegram-bot-api) it takes GET or POST with parameters in the query string, a
urlencoded or multipart form (complex values JSON-encoded) or a JSON body; method names are case-insensitive;
every answer is `{"ok": true, "result": ...}` or `{"ok": false, "error_code": N, "description": "..."}`, a 429
adding `"parameters": {"retry_after": N}` and a `Retry-After` header. A wrong token is 401 "Unauthorized", an
unknown method 404 "Not Found".

Methods: getMe; sendMessage (text checks, HTML parse mode validated by a port of tdlib's `parse_html`, so
unbalanced or unknown tags fail with the real "can't parse entities" messages; reply_markup checks: inline
keyboards, reply keyboards with request_contact, remove_keyboard, force_reply); sendVideoNote (a known file_id
or an upload); sendChatAction; editMessageText / editMessageReplyMarkup / deleteMessage (of messages in the
fake's history, with the server's "not found" / "not modified" errors); answerCallbackQuery (only queries the
fake delivered, each once); setMyCommands / getMyCommands / deleteMyCommands; getFile, with the content served
at /file/bot<token>/<file_path>; setWebhook / getWebhookInfo / deleteWebhook (URL and secret_token rules);
getUpdates (while no webhook is set). Add one with `@telegram_method`:

    @telegram_method("sendPhoto")
    def _send_photo(fake: TelegramFake, bot: JSONDict, params: Params) -> Any:
        ...  # raise TelegramApiError(400, "Bad Request: ...") or return the result

MarkdownV2 / Markdown texts are accepted without validation (the text comes back as sent, no entities).

Updates (the fake as Telegram): `user()` builds a User; `send_text`, `send_command`, `send_contact`,
`send_voice`, `press_button` build realistic Updates (increasing update_id, message ids in the chat's
sequence) and POST them to the webhook set with setWebhook (with `X-Telegram-Bot-Api-Secret-Token`),
returning the webhook's HTTP status (0: no webhook, timeout or connection error); `deliver()` posts raw
updates, `redeliver()` posts an update again byte for byte, as Telegram does after a failed delivery.
Nothing is retried on its own. Over HTTP (for `make dev` and end-to-end tests), besides the common /_fake/
endpoints of `local.fakes.base`:

    POST /_fake/updates   {"kind": "text"|"command"|"contact"|"callback"|"voice"|"raw",
                           "user": {...} | "user_id": N, ...fields}
                          -> {"update": {...}, "webhook_status": N[, "webhook_error": "..."]}
        text: "text"; command: "command" ("/start"), "payload"; contact: "phone_number", "contact_user_id",
        "first_name"; callback: "message_id", "callback_data"; voice: "file_id", "duration",
        "content_base64"; raw: "update" (any JSON, posted as is)
    GET  /_fake/updates                the updates built or delivered so far
    GET  /_fake/deliveries             the webhook POSTs: update_id, attempt, status, error
    POST /_fake/redeliver              {"update_id": N} -> {"update": {...}, "webhook_status": N}
    GET  /_fake/messages[?chat_id=N]   what the bot sent, reply_markup as sent (reply keyboards included)
    POST /_fake/files                  {"file_id": "...", "file_type": "voice", "content_base64": "...",
                                        "duration": N} -> {"ok": true, "file": {...}}
    GET  /_fake/callback_answers       the answerCallbackQuery calls that succeeded
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import httpx
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Request, Response

from local.fakes.base import CONTROL_PREFIX, FakeService, JSONDict, flatten_multidict, json_response

log = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 4096
MAX_CALLBACK_DATA_BYTES = 64
MAX_COMMANDS = 100
MAX_COMMAND_LENGTH = 32
MAX_COMMAND_DESCRIPTION_LENGTH = 256
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile refuses bigger files ("file is too big")
DELETE_WINDOW_SECONDS = 48 * 3600  # a message older than this can't be deleted for everyone
DEFAULT_DELIVER_TIMEOUT = 30.0
WEBHOOK_PORTS = (80, 88, 443, 8443)
SECRET_TOKEN_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CHAT_ACTIONS = frozenset(
    {"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice"}
    | {"upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note"}
)
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")
_COMMAND_NAME = re.compile(r"^[a-z0-9_]+$")
# How clients and the server find bot commands in a text: "/word" not glued to a preceding word character.
_BOT_COMMAND_IN_TEXT = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")

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
    """A method's parameters merged from query, form and JSON body, with the server's type coercions;
    `files` holds the uploads of a multipart request by field name."""

    def __init__(self, values: Mapping[str, Any], files: Mapping[str, FileStorage] | None = None) -> None:
        self.values = dict(values)
        self.files = dict(files or {})

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

    def upload(self, name: str) -> FileStorage | None:
        """The file uploaded for parameter `name`: a multipart field of that name or `attach://<field>`."""
        if name in self.files:
            return self.files[name]
        value = self.values.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            return self.files.get(value[len("attach://") :])
        return None


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
    last_error_date: int | None = None
    last_error_message: str | None = None


# Where getFile puts each kind of file, and the name tdlib gives its type in "can't use file of type X as Y".
_FILE_KINDS: dict[str, tuple[str, str, str]] = {
    # file_type: (file_path folder, extension, tdlib type name)
    "video_note": ("video_notes", ".mp4", "VideoNote"),
    "voice": ("voice", ".oga", "Voice"),
    "audio": ("music", ".mp3", "Audio"),
    "video": ("videos", ".mp4", "Video"),
    "document": ("documents", "", "Document"),
    "photo": ("photos", ".jpg", "Photo"),
    "animation": ("animations", ".mp4", "Animation"),
    "sticker": ("stickers", ".webp", "Sticker"),
}
_DEFAULT_CONTENT = {
    "video_note": b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 40,
    "voice": b"OggS\x00\x02" + b"\x00" * 20 + b"OpusHead\x01\x01" + b"\x00" * 30,
}
_DEFAULT_MIME = {"voice": "audio/ogg", "audio": "audio/mpeg", "video": "video/mp4", "animation": "video/mp4"}


@dataclass
class FakeFile:
    """A file the fake's Telegram stores: known ids for sendVideoNote, getFile and downloads."""

    file_id: str
    file_unique_id: str
    file_type: str
    content: bytes
    file_size: int
    file_path: str
    duration: int | None = None
    length: int | None = None
    mime_type: str | None = None

    def media(self) -> JSONDict:
        """The object as it appears in a Message (`video_note`, `voice`, ...)."""
        data: JSONDict = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        if self.file_type == "video_note":
            data["length"] = self.length or 240
        if self.file_type in ("video_note", "voice", "audio", "video", "animation"):
            data["duration"] = self.duration or 0
        if self.mime_type:
            data["mime_type"] = self.mime_type
        data["file_size"] = self.file_size
        return data

    def file_object(self) -> JSONDict:
        """The File object getFile returns (file_path relative, as the real server gives it)."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "file_path": self.file_path,
        }

    def to_json(self) -> JSONDict:
        """For state dumps: everything but the bytes."""
        return {**self.media(), "file_type": self.file_type, "file_path": self.file_path}


@dataclass
class _UpdateRecord:
    """An update Telegram has for the bot: the JSON as built and the exact bytes it posts (and reposts)."""

    update_id: Any
    update: Any
    body: bytes
    kind: str | None
    pending: bool = True  # not yet delivered with a 2xx (or fetched and confirmed with getUpdates)
    error: str | None = None  # why the last attempt failed


def _bot_id(token: str) -> int:
    prefix = token.split(":", 1)[0]
    return int(prefix) if prefix.isdigit() else 1_000_000_001


def _unique_id(file_id: str) -> str:
    digest = hashlib.sha256(file_id.encode("utf-8")).digest()[:9]
    return "AgAD" + base64.urlsafe_b64encode(digest).decode("ascii")


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _update_kind(update: Any) -> str | None:
    if not isinstance(update, Mapping):
        return None
    return next((key for key in update if key != "update_id"), None)


def _utf16_offset(text: str, index: int) -> int:
    return _utf16_len(text[:index])


def _command_entities(text: str) -> list[JSONDict]:
    return [
        {"offset": _utf16_offset(text, m.start()), "length": _utf16_len(m.group()), "type": "bot_command"}
        for m in _BOT_COMMAND_IN_TEXT.finditer(text)
    ]


def _buttons(markup: Any, kind: str) -> list[JSONDict]:
    """The buttons of a keyboard (`inline_keyboard` or `keyboard`), flattened; plain strings become dicts."""
    if not isinstance(markup, Mapping) or not isinstance(markup.get(kind), list):
        return []
    found = []
    for row in markup[kind]:
        for button in row if isinstance(row, list) else []:
            found.append({"text": button} if isinstance(button, str) else dict(button))
    return found


class TelegramFake(FakeService):
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

    def send_text(self, user: Mapping[str, Any], text: str) -> int:
        """The user writes `text` to the bot; returns the webhook's HTTP status (0 if not delivered)."""
        return self.deliver(self.text_update(user, text))

    def send_command(self, user: Mapping[str, Any], command: str, payload: str | None = None) -> int:
        """The user sends a command, e.g. `"/start"` with the deep-link `payload` (`/start TOKEN`)."""
        return self.deliver(self.command_update(user, command, payload))

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
    ) -> int:
        """The user presses an inline button of `message` (a Message dict or object the bot sent to this
        user, or its message_id): a callback_query with a fresh id that answerCallbackQuery accepts once.
        `check_keyboard=False` allows data the message's current keyboard does not have (a stale button)."""
        return self.deliver(self.callback_update(user, message, callback_data, check_keyboard=check_keyboard))

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
    def text_update(self, user: Mapping[str, Any], text: str) -> JSONDict:
        """A new message update with `text` from `user` (bot commands in it get their entities)."""
        if not text:
            raise ValueError("a message text can't be empty")
        with self.lock:
            message = self._user_message(user, text=text, entities=_command_entities(text))
            self._keyboard_used(message["chat"]["id"], lambda b: b.get("text") == text and len(b) == 1)
            return self._new_update("message", message)

    def command_update(self, user: Mapping[str, Any], command: str, payload: str | None = None) -> JSONDict:
        command = command if command.startswith("/") else f"/{command}"
        if not re.fullmatch(r"/[A-Za-z0-9_]{1,64}(@[A-Za-z0-9_]{3,32})?", command):
            raise ValueError(f"not a bot command: {command!r}")
        text = f"{command} {payload}" if payload else command
        entities = [{"offset": 0, "length": len(command), "type": "bot_command"}]
        with self.lock:
            return self._new_update("message", self._user_message(user, text=text, entities=entities))

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
    ) -> JSONDict:
        sender = self._normalize_user(user)
        if isinstance(message, int):
            message_id = message
        elif isinstance(message, Mapping):
            message_id = int(message["message_id"])
        else:
            message_id = int(message.message_id)
        with self.lock:
            stored = self._bot_message(sender["id"], message_id)
            if stored is None:
                raise ValueError(f"the bot sent no message {message_id} to user {sender['id']}")
            if check_keyboard:
                data = [
                    b.get("callback_data") for b in _buttons(stored.get("reply_markup"), "inline_keyboard")
                ]
                if callback_data not in data:
                    raise ValueError(
                        f"message {message_id} has no inline button with callback_data {callback_data!r}"
                        f" (it has {data}); pass check_keyboard=False to press a stale button"
                    )
            self._remember_user(sender)
            self._blocked.discard(sender["id"])
            query_id = str((abs(sender["id"]) % 1_000_000_000) * 1_000_000_000 + self._next_query)
            self._next_query += 1
            self._open_queries[query_id] = {"chat_id": sender["id"], "message_id": message_id}
            query = {
                "id": query_id,
                "from": sender,
                "message": copy.deepcopy(stored),
                "chat_instance": str(-(abs(sender["id"]) * 7919 + _bot_id(self.tokens[0])) % 10**19),
                "data": callback_data,
            }
            return self._new_update("callback_query", query)

    # ---- FakeService -------------------------------------------------------------------------------------
    def reset_state(self) -> None:
        self._messages: list[JSONDict] = []
        self._incoming: list[JSONDict] = []
        self._deleted: list[JSONDict] = []
        self._sent_markup: dict[tuple[int, int], JSONDict] = {}
        self._keyboards: dict[int, JSONDict] = {}
        self._last_id: dict[int, int] = {}
        self._chats: dict[int, JSONDict] = {}
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

    # ---- control endpoints -------------------------------------------------------------------------------
    def _control(self, request: Request) -> Response:
        action = request.path[len(CONTROL_PREFIX) :].strip("/")
        method = request.method
        try:
            if action == "updates" and method == "POST":
                update = self._update_from_control(request.get_json(silent=True))
                return self._delivered(*self._deliver(update, None))
            if action == "updates" and method == "GET":
                return json_response(self.updates())
            if action == "deliveries" and method == "GET":
                return json_response(self.deliveries())
            if action == "redeliver" and method == "POST":
                spec = request.get_json(silent=True)
                if not isinstance(spec, dict) or not isinstance(spec.get("update_id"), int):
                    raise ValueError('body must be {"update_id": N}')
                status = self.redeliver(spec["update_id"])
                with self.lock:
                    record = [r for r in self._records if r.update_id == spec["update_id"]][-1]
                return self._delivered(record, status)
            if action == "messages" and method == "GET":
                return json_response(self.messages(request.args.get("chat_id"), with_markup=True))
            if action == "callback_answers" and method == "GET":
                return json_response(self.callback_answers())
            if action == "files" and method == "POST":
                return json_response(
                    {"ok": True, "file": self._file_from_control(request.get_json(silent=True))}
                )
        except (ValueError, KeyError, TypeError) as exc:
            text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
            return json_response({"ok": False, "error": str(text)}, 400)
        return super()._control(request)

    @staticmethod
    def _delivered(record: _UpdateRecord, status: int) -> Response:
        body: JSONDict = {"update": record.update, "webhook_status": status}
        if record.error:
            body["webhook_error"] = record.error
        return json_response(body)

    def _control_user(self, spec: JSONDict) -> JSONDict:
        if isinstance(spec.get("user"), dict):
            return self._normalize_user(spec["user"])
        if isinstance(spec.get("user_id"), int):
            return self.known_user(spec["user_id"])
        raise ValueError('give "user": {...} or "user_id": N')

    def _update_from_control(self, spec: Any) -> Any:
        if not isinstance(spec, dict):
            raise ValueError('body must be a JSON object with "kind"')
        kind = spec.get("kind")
        if kind == "raw":
            if "update" not in spec:
                raise ValueError('kind raw needs "update"')
            return spec["update"]
        user = self._control_user(spec)
        if kind == "text":
            return self.text_update(user, str(spec.get("text", "")))
        if kind == "command":
            return self.command_update(user, str(spec.get("command", "/start")), spec.get("payload"))
        if kind == "contact":
            if not isinstance(spec.get("phone_number"), str):
                raise ValueError('kind contact needs "phone_number"')
            return self.contact_update(
                user,
                str(spec["phone_number"]),
                spec.get("contact_user_id"),
                first_name=spec.get("first_name"),
                last_name=spec.get("last_name"),
            )
        if kind == "callback":
            data = spec.get("callback_data", spec.get("data"))
            if not isinstance(data, str) or not isinstance(spec.get("message_id"), int):
                raise ValueError('kind callback needs "message_id" and "callback_data"')
            return self.callback_update(
                user, spec["message_id"], data, check_keyboard=spec.get("check_keyboard", True)
            )
        if kind == "voice":
            if not isinstance(spec.get("file_id"), str):
                raise ValueError('kind voice needs "file_id" (and "duration")')
            content = spec.get("content_base64")
            return self.voice_update(
                user,
                str(spec["file_id"]),
                int(spec.get("duration", 1)),
                content=base64.b64decode(content) if content is not None else None,
                file_size=spec.get("file_size"),
            )
        raise ValueError(f"unknown kind {kind!r}: text, command, contact, callback, voice or raw")

    def _file_from_control(self, spec: Any) -> JSONDict:
        if not isinstance(spec, dict) or not isinstance(spec.get("file_id"), str):
            raise ValueError('body must be {"file_id": ..., "file_type": ..., "content_base64": ...}')
        content = spec.get("content_base64")
        return self.add_file(
            spec["file_id"],
            spec.get("file_type", "video_note"),
            file_size=spec.get("file_size"),
            duration=spec.get("duration"),
            content=base64.b64decode(content) if content is not None else None,
            length=spec.get("length"),
            mime_type=spec.get("mime_type"),
        )

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

    def _user_message(self, user: Mapping[str, Any], **content: Any) -> JSONDict:
        """A message from `user` in their private chat with the bot (the chat becomes known, unblocked)."""
        sender = self._normalize_user(user)
        chat = self._remember_user(sender)
        self._blocked.discard(sender["id"])
        message: JSONDict = {
            "message_id": self._next_message_id(sender["id"]),
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

    @staticmethod
    def _commands_key(scope: Any, language_code: str) -> tuple[str, str]:
        scope = scope or {"type": "default"}
        return json.dumps(scope, sort_keys=True, ensure_ascii=False), language_code or ""


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
_MARKUP_ERROR = "Bad Request: can't parse reply keyboard markup JSON object"
# tdlib's errors for request buttons outside private chats (keyboard button type -> description).
_PRIVATE_ONLY_BUTTONS = {
    "request_contact": "Bad Request: phone number can be requested in private chats only",
    "request_location": "Bad Request: location can be requested in private chats only",
    "request_poll": "Bad Request: poll can be requested in private chats only",
    "request_users": "Bad Request: users can be requested in private chats only",
    "request_chat": "Bad Request: chats can be requested in private chats only",
    "web_app": "Bad Request: web App buttons can be used in private chats only",
}


def _check_inline_keyboard(markup: JSONDict) -> None:
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise TelegramApiError(400, f'{_BUTTON_ERROR}: Field "text" must be of type String')
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise TelegramApiError(400, f'{_BUTTON_ERROR}: Field "text" must be of type String')
            if not set(button) - {"text"}:
                raise TelegramApiError(
                    400, f"{_BUTTON_ERROR}: Text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
                raise TelegramApiError(400, "Bad Request: BUTTON_DATA_INVALID")


def _check_reply_keyboard(markup: JSONDict, chat: JSONDict | None) -> None:
    rows = markup["keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise TelegramApiError(400, _MARKUP_ERROR)
    for row in rows:
        for button in row:
            if isinstance(button, dict):
                text = button.get("text")
                if not isinstance(text, str):
                    raise TelegramApiError(
                        400, 'Bad Request: can\'t parse keyboard button: Field "text" must be of type String'
                    )
            elif isinstance(button, str):
                text, button = button, {}
            else:
                raise TelegramApiError(
                    400,
                    "Bad Request: can't parse keyboard button: KeyboardButton must be a String or an Object",
                )
            if not text:
                raise TelegramApiError(400, "Bad Request: keyboard button text must be non-empty")
            if chat is not None and chat.get("type") != "private":
                for kind, error in _PRIVATE_ONLY_BUTTONS.items():
                    if button.get(kind):
                        raise TelegramApiError(400, error)


def _reply_markup(params: Params, chat: JSONDict | None = None) -> JSONDict | None:
    """Validate reply_markup like the server: an inline keyboard, a reply keyboard (request buttons only in
    private chats), remove_keyboard or force_reply. Returns the markup as sent."""
    markup = params.object("reply_markup", _MARKUP_ERROR)
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise TelegramApiError(400, _MARKUP_ERROR)
    if "inline_keyboard" in markup:
        _check_inline_keyboard(markup)
    elif "keyboard" in markup:
        _check_reply_keyboard(markup, chat)
    elif not {"remove_keyboard", "force_reply"} & set(markup):
        raise TelegramApiError(400, _MARKUP_ERROR)
    return markup


def _inline_markup(params: Params) -> JSONDict | None:
    """The reply_markup of an edit: absent (the keyboard goes) or an inline keyboard."""
    markup = _reply_markup(params)
    if markup is not None and "inline_keyboard" not in markup:
        raise TelegramApiError(400, "Bad Request: inline keyboard expected")
    return markup


def _message_text(params: Params) -> tuple[str, list[JSONDict]]:
    """`text` with `parse_mode` / `entities` applied and trimmed, or the server's errors."""
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
    return text, entities


def _replied_message(fake: TelegramFake, chat: JSONDict, params: Params) -> JSONDict | None:
    reply_params = params.object("reply_parameters", "Bad Request: can't parse reply parameters JSON object")
    reply_to = (reply_params or {}).get("message_id") if isinstance(reply_params, dict) else None
    reply_to = reply_to or params.integer("reply_to_message_id")
    allow_without = params.flag("allow_sending_without_reply") or bool(
        isinstance(reply_params, dict) and reply_params.get("allow_sending_without_reply")
    )
    if not reply_to:
        return None
    found = fake._bot_message(chat["id"], int(reply_to)) or fake._user_message_by_id(
        chat["id"], int(reply_to)
    )
    if not found and not allow_without:
        raise TelegramApiError(400, "Bad Request: message to be replied not found")
    return copy.deepcopy(found) if found else None


@telegram_method("sendMessage")
def _send_message(fake: TelegramFake, bot: JSONDict, params: Params) -> JSONDict:
    chat = fake.chat(params)
    text, entities = _message_text(params)
    markup = _reply_markup(params, chat)
    reply_message = _replied_message(fake, chat, params)
    return fake.new_message(
        bot,
        chat,
        text=text,
        entities=entities,
        reply_markup=markup,
        reply_to_message=reply_message,
    )


@telegram_method("sendVideoNote")
def _send_video_note(fake: TelegramFake, bot: JSONDict, params: Params) -> JSONDict:
    chat = fake.chat(params)
    upload = params.upload("video_note")
    if upload is not None:
        content = upload.read()
        if not content:
            raise TelegramApiError(400, "Bad Request: file must be non-empty")
        stored = fake._store_file(
            fake._new_file_id("video_note"),
            "video_note",
            content,
            duration=params.integer("duration"),
            length=params.integer("length"),
        )
    else:
        reference = params.text("video_note").strip()
        if not reference:
            raise TelegramApiError(400, "Bad Request: there is no video_note in the request")
        found = fake._files.get(reference)
        if found is None:
            # Video notes can't be sent by URL either; the server gives the same answer.
            raise TelegramApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        if found.file_type != "video_note":
            kind = _FILE_KINDS[found.file_type][2]
            raise TelegramApiError(400, f"Bad Request: can't use file of type {kind} as VideoNote")
        stored = found
    markup = _reply_markup(params, chat)
    reply_message = _replied_message(fake, chat, params)
    return fake.new_message(
        bot, chat, video_note=stored.media(), reply_markup=markup, reply_to_message=reply_message
    )


@telegram_method("sendChatAction")
def _send_chat_action(fake: TelegramFake, bot: JSONDict, params: Params) -> bool:
    chat = fake.chat(params)
    action = params.text("action").strip()
    if action not in CHAT_ACTIONS:
        raise TelegramApiError(400, "Bad Request: wrong parameter action in request")
    if chat["id"] in fake._blocked:
        raise TelegramApiError(403, "Forbidden: bot was blocked by the user")
    fake._chat_actions.append({"chat_id": chat["id"], "action": action, "time": fake.clock()})
    return True


@telegram_method("answerCallbackQuery")
def _answer_callback_query(fake: TelegramFake, bot: JSONDict, params: Params) -> bool:
    query_id = params.text("callback_query_id").strip()
    if query_id not in fake._open_queries:
        raise TelegramApiError(
            400, "Bad Request: query is too old and response timeout expired or query ID is invalid"
        )
    del fake._open_queries[query_id]
    fake._callback_answers.append(
        {
            "callback_query_id": query_id,
            "text": params.get("text"),
            "show_alert": params.flag("show_alert"),
            "url": params.get("url"),
            "cache_time": params.integer("cache_time"),
        }
    )
    return True


def _message_to_edit(fake: TelegramFake, params: Params) -> tuple[JSONDict, int]:
    """(chat, message_id) of an edit, before its content is parsed."""
    if params.text("inline_message_id"):
        raise TelegramApiError(400, "Bad Request: MESSAGE_ID_INVALID")  # inline messages: not in the fake
    message_id = params.integer("message_id")
    if not message_id:
        raise TelegramApiError(400, "Bad Request: message identifier is not specified")
    return fake.chat(params), message_id


def _stored_for_edit(fake: TelegramFake, chat: JSONDict, message_id: int) -> JSONDict:
    message = fake._bot_message(chat["id"], message_id)
    if message is not None:
        return message
    if fake._user_message_by_id(chat["id"], message_id) is not None:
        raise TelegramApiError(400, "Bad Request: message can't be edited")
    raise TelegramApiError(400, "Bad Request: message to edit not found")


_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly the"
    " same as a current content and reply markup of the message"
)


@telegram_method("editMessageText")
def _edit_message_text(fake: TelegramFake, bot: JSONDict, params: Params) -> JSONDict:
    chat, message_id = _message_to_edit(fake, params)
    text, entities = _message_text(params)
    markup = _inline_markup(params)
    message = _stored_for_edit(fake, chat, message_id)
    if "text" not in message:
        raise TelegramApiError(400, "Bad Request: there is no text in the message to edit")
    if (message["text"], message.get("entities", []), message.get("reply_markup")) == (
        text,
        entities,
        markup,
    ):
        raise TelegramApiError(400, _NOT_MODIFIED)
    message["text"] = text
    if entities:
        message["entities"] = entities
    else:
        message.pop("entities", None)
    if markup is None:
        message.pop("reply_markup", None)  # an edit without reply_markup removes the inline keyboard
    else:
        message["reply_markup"] = markup
    message["edit_date"] = int(fake.clock())
    return copy.deepcopy(message)


@telegram_method("editMessageReplyMarkup")
def _edit_message_reply_markup(fake: TelegramFake, bot: JSONDict, params: Params) -> JSONDict:
    chat, message_id = _message_to_edit(fake, params)
    markup = _inline_markup(params)
    message = _stored_for_edit(fake, chat, message_id)
    if message.get("reply_markup") == markup:
        raise TelegramApiError(400, _NOT_MODIFIED)
    if markup is None:
        message.pop("reply_markup", None)
    else:
        message["reply_markup"] = markup
    return copy.deepcopy(message)


@telegram_method("deleteMessage")
def _delete_message(fake: TelegramFake, bot: JSONDict, params: Params) -> bool:
    chat = fake.chat(params)
    message_id = params.integer("message_id")
    if not message_id:
        raise TelegramApiError(400, "Bad Request: message identifier is not specified")
    message = fake._bot_message(chat["id"], message_id)
    outgoing = message is not None
    if message is None:
        # Bots may delete incoming messages in private chats too.
        message = fake._user_message_by_id(chat["id"], message_id)
    if message is None:
        raise TelegramApiError(400, "Bad Request: message to delete not found")
    if fake.clock() - message["date"] > DELETE_WINDOW_SECONDS:
        raise TelegramApiError(400, "Bad Request: message can't be deleted for everyone")
    (fake._messages if outgoing else fake._incoming).remove(message)
    fake._deleted.append({"chat_id": chat["id"], "message_id": message_id, "outgoing": outgoing})
    return True


_SCOPE_TYPES = frozenset(
    {"default", "all_private_chats", "all_group_chats", "all_chat_administrators"}
    | {"chat", "chat_administrators", "chat_member"}
)


def _command_scope(params: Params) -> tuple[JSONDict | None, str]:
    scope = params.object("scope", "Bad Request: can't parse BotCommandScope JSON object")
    if scope is not None and (not isinstance(scope, dict) or scope.get("type") not in _SCOPE_TYPES):
        raise TelegramApiError(400, "Bad Request: can't parse BotCommandScope JSON object")
    language_code = params.text("language_code").strip()
    if language_code and not re.fullmatch(r"[a-z]{2}", language_code):
        raise TelegramApiError(400, "Bad Request: invalid language code specified")
    return scope, language_code


@telegram_method("setMyCommands")
def _set_my_commands(fake: TelegramFake, bot: JSONDict, params: Params) -> bool:
    error = "Bad Request: can't parse commands JSON object"
    commands = params.object("commands", error)
    commands = [] if commands is None else commands
    if not isinstance(commands, list):
        raise TelegramApiError(400, error)
    if len(commands) > MAX_COMMANDS:
        raise TelegramApiError(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
    checked = []
    for item in commands:
        if not isinstance(item, dict):
            raise TelegramApiError(400, "Bad Request: can't parse BotCommand JSON object")
        command = str(item.get("command") or "").strip().removeprefix("/")
        description = str(item.get("description") or "").strip()
        if not command:
            raise TelegramApiError(400, "Bad Request: command must be non-empty")
        if len(command) > MAX_COMMAND_LENGTH:
            raise TelegramApiError(400, f"Bad Request: command length must not exceed {MAX_COMMAND_LENGTH}")
        if not description:
            raise TelegramApiError(400, "Bad Request: command description must be non-empty")
        if len(description) > MAX_COMMAND_DESCRIPTION_LENGTH:
            raise TelegramApiError(
                400,
                f"Bad Request: command description length must not exceed {MAX_COMMAND_DESCRIPTION_LENGTH}",
            )
        if not _COMMAND_NAME.match(command):
            raise TelegramApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        checked.append({"command": command, "description": description})
    scope, language_code = _command_scope(params)
    key = fake._commands_key(scope, language_code)
    if checked:
        fake._commands[key] = checked
    else:
        fake._commands.pop(key, None)
    return True


@telegram_method("getMyCommands")
def _get_my_commands(fake: TelegramFake, bot: JSONDict, params: Params) -> list[JSONDict]:
    scope, language_code = _command_scope(params)
    return copy.deepcopy(fake._commands.get(fake._commands_key(scope, language_code), []))


@telegram_method("deleteMyCommands")
def _delete_my_commands(fake: TelegramFake, bot: JSONDict, params: Params) -> bool:
    scope, language_code = _command_scope(params)
    fake._commands.pop(fake._commands_key(scope, language_code), None)
    return True


@telegram_method("getFile")
def _get_file(fake: TelegramFake, bot: JSONDict, params: Params) -> JSONDict:
    stored = fake._files.get(params.text("file_id").strip())
    if stored is None:
        raise TelegramApiError(400, "Bad Request: invalid file_id")
    if stored.file_size > MAX_DOWNLOAD_BYTES:
        raise TelegramApiError(400, "Bad Request: file is too big")
    return stored.file_object()


def _webhook_info(fake: TelegramFake) -> JSONDict:
    pending = sum(1 for record in fake._records if record.pending)
    info: JSONDict = {
        "url": fake.webhook.url,
        "has_custom_certificate": False,
        "pending_update_count": pending,
    }
    if fake.webhook.url:
        info["max_connections"] = fake.webhook.max_connections
        if fake.webhook.ip_address:
            info["ip_address"] = fake.webhook.ip_address
        if fake.webhook.allowed_updates is not None:
            info["allowed_updates"] = fake.webhook.allowed_updates
        if fake.webhook.last_error_date is not None:
            info["last_error_date"] = fake.webhook.last_error_date
            info["last_error_message"] = fake.webhook.last_error_message
    return info


def _drop_pending(fake: TelegramFake) -> None:
    for record in fake._records:
        record.pending = False


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
    if params.flag("drop_pending_updates"):
        _drop_pending(fake)
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
    if params.flag("drop_pending_updates"):
        _drop_pending(fake)
    fake.webhook = Webhook()
    return _WithDescription(True, "Webhook was deleted" if was_set else "Webhook is already deleted")


@telegram_method("getWebhookInfo")
def _get_webhook_info(fake: TelegramFake, bot: JSONDict, params: Params) -> JSONDict:
    return _webhook_info(fake)


@telegram_method("getUpdates")
def _get_updates(fake: TelegramFake, bot: JSONDict, params: Params) -> list[Any]:
    """Long polling without the wait: the pending updates at once. An offset confirms the ones before it."""
    if fake.webhook.url:
        raise TelegramApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete"
            " the webhook first",
        )
    offset = params.integer("offset", 0) or 0
    limit = params.integer("limit", 100) or 100
    if not 1 <= limit <= 100:
        limit = 100
    ready: list[Any] = []
    for record in fake._records:
        if not record.pending or not isinstance(record.update_id, int):
            continue
        if record.update_id < offset:
            record.pending = False
        elif len(ready) < limit:
            ready.append(copy.deepcopy(record.update))
    return ready
