"""Fake of the Telegram Bot API server (https://api.telegram.org/bot<token>/<method>), for python-telegram-bot
and plain HTTP clients, and a fake of Telegram itself delivering updates to the bot's webhook.

Like the real server (tdlib/telegram-bot-api) it takes GET or POST with parameters in the query string, a
urlencoded or multipart form (complex values JSON-encoded) or a JSON body; method names are case-insensitive;
every answer is `{"ok": true, "result": ...}` or `{"ok": false, "error_code": N, "description": "..."}`, a 429
adding `"parameters": {"retry_after": N}` and a `Retry-After` header. A wrong token is 401 "Unauthorized", an
unknown method 404 "Not Found".

Methods: getMe; sendMessage (text checks, HTML parse mode validated by a port of tdlib's `parse_html`, so
unbalanced or unknown tags fail with the real "can't parse entities" messages; reply_markup checks: inline
keyboards, reply keyboards with request_contact, remove_keyboard, force_reply; reply_parameters);
sendVideoNote and sendDocument (a known file_id or an upload, the document's file name kept);
sendChatAction; setMessageReaction (the emoji bots may use); editMessageText / editMessageReplyMarkup /
deleteMessage (of messages in the fake's history, with the server's "not found" / "not modified" errors);
answerCallbackQuery (only queries the fake delivered, each once); setMyCommands / getMyCommands /
deleteMyCommands; getFile, with the content served at /file/bot<token>/<file_path>; setWebhook /
getWebhookInfo / deleteWebhook (URL and secret_token rules); getUpdates (while no webhook is set). Add one
with `@telegram_method`:

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
        text: "text", "reply_to_message_id" (a message of that chat: the whole message comes along);
        command: "command" ("/start"), "payload"; (these and callback: "chat_id" of a group,
        else the user's private chat); contact: "phone_number", "contact_user_id",
        "first_name"; callback: "message_id", "callback_data"; voice: "file_id", "duration",
        "content_base64"; raw: "update" (any JSON, posted as is)
    GET  /_fake/updates                the updates built or delivered so far
    GET  /_fake/deliveries             the webhook POSTs: update_id, attempt, status, error
    POST /_fake/redeliver              {"update_id": N} -> {"update": {...}, "webhook_status": N}
    GET  /_fake/messages[?chat_id=N]   what the bot sent, reply_markup as sent (reply keyboards included)
    POST /_fake/files                  {"file_id": "...", "file_type": "voice", "content_base64": "...",
                                        "duration": N} -> {"ok": true, "file": {...}}
    GET  /_fake/callback_answers       the answerCallbackQuery calls that succeeded
    POST /_fake/groups                 {"chat_id": -100N, "title": "...", "members": [user ids]}: a group
                                       the bot is in, where only its members can write

    api.py        limits, errors, parameters and the method registry (`telegram_method`)
    entities.py   the HTML parse mode (a port of tdlib's parse_html) and message entities
    model.py      the webhook, files and delivered updates
    fake.py       `TelegramFake`: chats, messages and the Bot API endpoint
    updates.py    Telegram's side: building updates and delivering them to the webhook
    control.py    the /_fake/ control endpoints
    methods.py    the Bot API methods
"""

from local.fakes.telegram import media as _media  # noqa: F401  (registers the methods that send files)
from local.fakes.telegram import methods as _methods  # noqa: F401  (registers the Bot API methods)
from local.fakes.telegram.api import (
    MAX_CALLBACK_DATA_BYTES,
    MAX_TEXT_LENGTH,
    SECRET_TOKEN_HEADER,
    MethodHandler,
    Params,
    TelegramApiError,
    telegram_error,
    telegram_method,
)
from local.fakes.telegram.entities import HtmlParseError, parse_html
from local.fakes.telegram.fake import TelegramFake
from local.fakes.telegram.model import FakeFile, Webhook

__all__ = [
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_TEXT_LENGTH",
    "SECRET_TOKEN_HEADER",
    "FakeFile",
    "HtmlParseError",
    "MethodHandler",
    "Params",
    "TelegramApiError",
    "TelegramFake",
    "Webhook",
    "parse_html",
    "telegram_error",
    "telegram_method",
]
