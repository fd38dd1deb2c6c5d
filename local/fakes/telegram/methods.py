"""The Bot API methods the fake serves; add one with `@telegram_method`."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from local.fakes.base import JSONDict
from local.fakes.telegram.api import (
    _COMMAND_NAME,
    _SECRET_TOKEN,
    CHAT_ACTIONS,
    DELETE_WINDOW_SECONDS,
    MAX_CALLBACK_DATA_BYTES,
    MAX_COMMAND_DESCRIPTION_LENGTH,
    MAX_COMMAND_LENGTH,
    MAX_COMMANDS,
    MAX_DOWNLOAD_BYTES,
    MAX_TEXT_LENGTH,
    WEBHOOK_PORTS,
    Params,
    TelegramApiError,
    telegram_method,
)
from local.fakes.telegram.entities import HtmlParseError, _trim, parse_html
from local.fakes.telegram.model import Webhook

if TYPE_CHECKING:  # the fake imports this module: a runtime import would run in a circle
    from local.fakes.telegram.fake import TelegramFake


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


# The emoji a bot may react with (Bot API, ReactionTypeEmoji).
_REACTION_EMOJI = frozenset(
    "❤ 👍 👎 🔥 🥰 👏 😁 🤔 🤯 😱 🤬 😢 🎉 🤩 🤮 💩 🙏 👌 🕊 🤡 🥱 🥴 😍 🐳 ❤‍🔥 🌚 🌭 💯 🤣 ⚡ 🍌 🏆 💔 🤨 😐"
    " 🍓 🍾 💋 🖕 😈 😴 😭 🤓 👻 👨‍💻 👀 🎃 🙈 😇 😨 🤝 ✍ 🤗 🫡 🎅 🎄 ☃ 💅 🤪 🗿 🆒 💘 🙉 🦄 😘 💊 🙊 😎 👾"
    " 🤷‍♂ 🤷 🤷‍♀ 😡".split()
)


@telegram_method("setMessageReaction")
def _set_message_reaction(fake: TelegramFake, bot: JSONDict, params: Params) -> bool:
    """A bot sets its (one) reaction on a message; an empty list takes it away."""
    chat = fake.chat(params)
    message_id = params.integer("message_id")
    if not message_id:
        raise TelegramApiError(400, "Bad Request: message identifier is not specified")
    reaction = params.object("reaction", "Bad Request: can't parse reaction types JSON object") or []
    if not isinstance(reaction, list) or len(reaction) > 1:
        raise TelegramApiError(400, "Bad Request: REACTIONS_TOO_MANY")
    for kind in reaction:
        if (
            not isinstance(kind, dict)
            or kind.get("type") != "emoji"
            or kind.get("emoji") not in _REACTION_EMOJI
        ):
            raise TelegramApiError(400, "Bad Request: REACTION_INVALID")
    message = fake._bot_message(chat["id"], message_id) or fake._user_message_by_id(chat["id"], message_id)
    if message is None:
        raise TelegramApiError(400, "Bad Request: message to react not found")
    fake._reactions[(chat["id"], message_id)] = [kind["emoji"] for kind in reaction]
    return True
