"""The Bot API's limits and errors, request parameters, and the registry of methods."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from local.fakes.base import JSONDict, json_response

if TYPE_CHECKING:  # the fake imports this module: a runtime import would run in a circle
    from local.fakes.telegram.fake import TelegramFake

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
