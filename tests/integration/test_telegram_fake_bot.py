"""The Telegram fake driven by python-telegram-bot, and the fake delivering updates to a (Flask) webhook."""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from flask import Flask, request
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Conflict

from local.fakes import TelegramFake
from local.httpserver import ServerThread

TOKEN = "123456:TEST-token"
SECRET = "s3cr3t_-Token"
VIDEO_NOTE_ID = "DQACAgIAAxkBAAIBvideo-note-known"
VIDEO_NOTE_BYTES = b"\x00\x00\x00\x18ftypmp42 a tiny video note"
VOICE_ID = "AwACAgIAAxkBAAIBvoice-known"
USER_ID = 1001

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly the"
    " same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


# ---- a webhook that records what Telegram posts --------------------------------------------------------
@dataclass
class Webhook:
    """A tiny Flask bot endpoint: records each request; answers the queued statuses (default 200); can
    hang, and can run `on_update` (e.g. call the Bot API back) before answering."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    hang: float = 0.0
    release: threading.Event = field(default_factory=threading.Event)
    on_update: Callable[[Any], None] | None = None
    errors: list[BaseException] = field(default_factory=list)

    def reset(self) -> None:
        self.requests.clear()
        self.statuses.clear()
        self.errors.clear()
        self.hang = 0.0
        self.release.set()
        self.release = threading.Event()
        self.on_update = None

    def app(self) -> Flask:
        app = Flask("webhook")

        @app.post("/tg")
        def hook() -> Any:
            self.requests.append(
                {"headers": dict(request.headers), "body": request.get_data(), "json": request.get_json()}
            )
            if self.hang:
                self.release.wait(self.hang)
            if self.on_update is not None:
                try:
                    self.on_update(request.get_json())
                except BaseException as exc:  # surfaced by the test, not lost in a server thread
                    self.errors.append(exc)
                    return {"error": repr(exc)}, 500
            status = self.statuses.pop(0) if self.statuses else 200
            return {"ok": status < 300}, status

        return app

    def updates(self, bot: Bot) -> list[Update]:
        return [Update.de_json(r["json"], bot) for r in self.requests]


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[TelegramFake, ServerThread, Webhook]]:
    fake = TelegramFake(
        tokens=[TOKEN],
        username="allin_academy_bot",
        allow_http_webhook=True,
        files={
            VIDEO_NOTE_ID: {
                "file_type": "video_note",
                "duration": 7,
                "length": 384,
                "content": VIDEO_NOTE_BYTES,
            },
            VOICE_ID: {"file_type": "voice", "duration": 3},
        },
        first_update_id=700_000_001,
    )
    webhook = Webhook()
    with fake.server() as fake_server, ServerThread(webhook.app()) as hook_server:
        webhook.url = hook_server.url + "/tg"
        yield fake, fake_server, webhook
    webhook.release.set()


@pytest.fixture
def fake(servers: tuple[TelegramFake, ServerThread, Webhook]) -> TelegramFake:
    telegram = servers[0]
    telegram.reset()
    telegram.deliver_timeout = 5.0
    return telegram


@pytest.fixture
def url(servers: tuple[TelegramFake, ServerThread, Webhook]) -> str:
    return servers[1].url


@pytest.fixture
def webhook(servers: tuple[TelegramFake, ServerThread, Webhook], fake: TelegramFake) -> Iterator[Webhook]:
    hook = servers[2]
    hook.reset()
    yield hook
    hook.release.set()
    assert not hook.errors, hook.errors


@pytest.fixture
def api(url: str, fake: TelegramFake) -> Iterator[httpx.Client]:
    """Raw HTTP to the Bot API: for the exact descriptions (PTB rewrites them: strips "Bad Request: ")."""
    with httpx.Client(base_url=f"{url}/bot{TOKEN}/", timeout=10) as client:
        yield client


def make_bot(url: str) -> Bot:
    return Bot(TOKEN, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot")


def description(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["ok"] is False and body["error_code"] == 400
    return str(body["description"])


# ---- Bot API methods through python-telegram-bot ----------------------------------------------------------
def test_reply_keyboard_with_request_contact_then_removed(url: str, fake: TelegramFake) -> None:
    anna = fake.user(USER_ID)
    fake.send_command(anna, "/start")  # the user opened the bot (no webhook: the update just waits)
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton("📱 Поделиться номером", request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )

    async def scenario() -> Any:
        async with make_bot(url) as bot:
            asked = await bot.send_message(USER_ID, "Оставьте номер телефона", reply_markup=keyboard)
            with pytest.raises(BadRequest, match="Phone number can be requested in private chats only"):
                await bot.send_message(-100123, "в группе", reply_markup=keyboard)
            return asked

    asked = run(scenario())

    assert asked.message_id == 2  # /start was message 1 of this chat
    assert asked.chat.first_name == "Анна" and asked.chat.type == "private"
    assert asked.reply_markup is None  # the Bot API only echoes inline keyboards
    [sent] = fake.messages(USER_ID, with_markup=True)
    assert sent["reply_markup"]["keyboard"] == [[{"text": "📱 Поделиться номером", "request_contact": True}]]
    assert fake.reply_keyboard(USER_ID)["one_time_keyboard"] is True

    fake.send_contact(anna, "+79991234567")  # pressing the button shares the user's own contact
    assert fake.reply_keyboard(USER_ID) is None  # a one-time keyboard hides after use

    async def remove() -> Any:
        async with make_bot(url) as bot:
            await bot.send_message(USER_ID, "Ещё раз", reply_markup=keyboard)
            assert fake.reply_keyboard(USER_ID) is not None
            return await bot.send_message(USER_ID, "Спасибо!", reply_markup=ReplyKeyboardRemove())

    thanks = run(remove())
    assert thanks.reply_markup is None
    assert fake.reply_keyboard(USER_ID) is None
    assert fake.messages(USER_ID, with_markup=True)[-1]["reply_markup"] == {"remove_keyboard": True}


def test_inline_keyboard_press_and_answer_callback_once(url: str, fake: TelegramFake) -> None:
    anna = fake.user(USER_ID)
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Да", callback_data="consent:yes"),
                InlineKeyboardButton("Нет", callback_data="no"),
            ]
        ]
    )

    async def send() -> Any:
        async with make_bot(url) as bot:
            return await bot.send_message(USER_ID, "Согласны?", reply_markup=markup)

    question = run(send())
    assert question.reply_markup == markup
    assert fake.press_button(anna, question, "consent:yes") == 0  # no webhook set: the update waits
    query = fake.updates()[-1]["callback_query"]
    assert query["data"] == "consent:yes" and query["message"]["message_id"] == question.message_id

    async def answer() -> list[Any]:
        async with make_bot(url) as bot:
            results: list[Any] = [await bot.answer_callback_query(query["id"], text="Принято")]
            for query_id in (query["id"], "4242424242"):
                try:
                    await bot.answer_callback_query(query_id)
                except BadRequest as exc:
                    results.append(exc.message)
            return results

    first, twice, unknown = run(answer())

    assert first is True
    assert twice.lower() == unknown.lower() == QUERY_TOO_OLD.removeprefix("Bad Request: ").lower()
    assert fake.callback_answers() == [
        {
            "callback_query_id": query["id"],
            "text": "Принято",
            "show_alert": False,
            "url": None,
            "cache_time": None,
        }
    ]


def test_press_button_refuses_what_a_user_could_not_press(url: str, fake: TelegramFake) -> None:
    anna, boris = fake.user(USER_ID), fake.user(USER_ID + 1, "Борис")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Да", callback_data="yes")]])

    async def send() -> Any:
        async with make_bot(url) as bot:
            return await bot.send_message(USER_ID, "Согласны?", reply_markup=markup)

    question = run(send())

    with pytest.raises(ValueError, match="no inline button with callback_data 'nope'"):
        fake.press_button(anna, question, "nope")
    with pytest.raises(ValueError, match="sent no message"):
        fake.press_button(boris, question, "yes")
    fake.press_button(anna, question.message_id, "stale", check_keyboard=False)
    assert fake.updates()[-1]["callback_query"]["data"] == "stale"


def test_callback_data_must_be_1_to_64_bytes(url: str, fake: TelegramFake, api: httpx.Client) -> None:
    def send(data: str) -> httpx.Response:
        markup = {"inline_keyboard": [[{"text": "x", "callback_data": data}]]}
        return api.post("sendMessage", json={"chat_id": USER_ID, "text": "x", "reply_markup": markup})

    assert send("я" * 32).json()["ok"] is True  # 64 bytes of UTF-8
    assert description(send("я" * 33)) == "Bad Request: BUTTON_DATA_INVALID"
    assert description(send("")) == "Bad Request: BUTTON_DATA_INVALID"

    async def ptb() -> None:
        async with make_bot(url) as bot:
            too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
            with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
                await bot.send_message(USER_ID, "x", reply_markup=too_long)

    run(ptb())
    assert len(fake.messages()) == 1


def test_reply_markup_errors(api: httpx.Client) -> None:
    def send(chat_id: int, markup: Any) -> httpx.Response:
        return api.post("sendMessage", data={"chat_id": chat_id, "text": "x", "reply_markup": markup})

    assert (
        description(send(-100555, '{"keyboard": [[{"text": "Телефон", "request_contact": true}]]}'))
        == "Bad Request: phone number can be requested in private chats only"
    )
    assert description(send(5, '{"keyboard": [[{"text": ""}]]}')) == (
        "Bad Request: keyboard button text must be non-empty"
    )
    assert description(send(5, "{not json")) == "Bad Request: can't parse reply keyboard markup JSON object"
    assert (
        description(send(5, '{"something": 1}'))
        == "Bad Request: can't parse reply keyboard markup JSON object"
    )
    assert send(5, '{"keyboard": [["plain string button"]]}').json()["ok"] is True
    assert send(5, '{"force_reply": true}').json()["ok"] is True


def test_edit_message_text_and_reply_markup(url: str, fake: TelegramFake, api: httpx.Client) -> None:
    anna = fake.user(USER_ID)
    fake.send_text(anna, "Привет")  # message 1, the user's
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Записаться", callback_data="book")]])

    async def scenario() -> dict[str, Any]:
        async with make_bot(url) as bot:
            sent = await bot.send_message(USER_ID, "<b>Занятие</b> в 18:00", parse_mode=ParseMode.HTML)
            edited = await bot.edit_message_text(
                "<b>Занятие</b> в 19:00",
                chat_id=USER_ID,
                message_id=sent.message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard,
            )
            errors = {}
            try:
                await bot.edit_message_text(
                    "Занятие в 19:00",
                    chat_id=USER_ID,
                    message_id=sent.message_id,
                    entities=edited.entities,
                    reply_markup=keyboard,
                )
            except BadRequest as exc:
                errors["same"] = exc.message
            bare = await bot.edit_message_reply_markup(USER_ID, sent.message_id)  # removes the keyboard
            for name, call in {
                "markup again": bot.edit_message_reply_markup(USER_ID, sent.message_id),
                "unknown": bot.edit_message_text("x", chat_id=USER_ID, message_id=99),
                "users": bot.edit_message_text("x", chat_id=USER_ID, message_id=1),
            }.items():
                try:
                    await call
                except BadRequest as exc:
                    errors[name] = exc.message
            return {"sent": sent, "edited": edited, "bare": bare, "errors": errors}

    result = run(scenario())

    sent, edited, bare, errors = result["sent"], result["edited"], result["bare"], result["errors"]
    assert sent.message_id == 2 and sent.edit_date is None
    assert edited.message_id == 2 and edited.text == "Занятие в 19:00" and edited.edit_date is not None
    assert edited.reply_markup == keyboard
    assert bare.reply_markup is None and bare.text == "Занятие в 19:00"
    assert set(errors) == {"same", "markup again", "unknown", "users"}
    assert errors["same"].lower() == errors["markup again"].lower() == NOT_MODIFIED[13:].lower()
    assert errors["unknown"].lower() == "message to edit not found"
    assert errors["users"].lower() == "message can't be edited"
    [stored] = fake.messages(USER_ID)
    assert stored["text"] == "Занятие в 19:00" and "reply_markup" not in stored

    # the exact server texts
    same = {"chat_id": USER_ID, "message_id": 2, "text": "Занятие в 19:00", "entities": stored["entities"]}
    assert description(api.post("editMessageText", json=same)) == NOT_MODIFIED
    assert description(api.post("editMessageReplyMarkup", json={"chat_id": USER_ID, "message_id": 2})) == (
        NOT_MODIFIED
    )
    assert description(
        api.post("editMessageText", json={"chat_id": USER_ID, "message_id": 42, "text": "x"})
    ) == ("Bad Request: message to edit not found")
    assert description(api.post("editMessageText", json={"chat_id": USER_ID, "text": "x"})) == (
        "Bad Request: message identifier is not specified"
    )
    reply_keyboard = {"keyboard": [["a"]]}
    edit_to_reply_keyboard = {
        "chat_id": USER_ID,
        "message_id": 2,
        "text": "y",
        "reply_markup": reply_keyboard,
    }
    assert description(api.post("editMessageText", json=edit_to_reply_keyboard)) == (
        "Bad Request: inline keyboard expected"
    )


def test_video_note_by_file_id_upload_and_errors(url: str, fake: TelegramFake, api: httpx.Client) -> None:
    async def scenario() -> dict[str, Any]:
        async with make_bot(url) as bot:
            known = await bot.send_video_note(USER_ID, VIDEO_NOTE_ID)
            uploaded = await bot.send_video_note(
                USER_ID, b"\x00\x00\x00\x18ftypmp42 new", duration=4, length=240
            )
            again = await bot.send_video_note(USER_ID, uploaded.video_note.file_id)
            errors = {}
            for name, file_id in {"unknown": "no-such-file-id", "voice": VOICE_ID}.items():
                try:
                    await bot.send_video_note(USER_ID, file_id)
                except BadRequest as exc:
                    errors[name] = exc.message
            try:
                await bot.edit_message_text("x", chat_id=USER_ID, message_id=known.message_id)
            except BadRequest as exc:
                errors["edit"] = exc.message
            return {"known": known, "uploaded": uploaded, "again": again, "errors": errors}

    result = run(scenario())

    known, uploaded, again = result["known"], result["uploaded"], result["again"]
    assert known.video_note.file_id == VIDEO_NOTE_ID
    assert fake.messages(USER_ID)[0]["video_note"]["duration"] == 7  # (PTB's own `duration` type is changing)
    assert known.video_note.length == 384 and known.video_note.file_size == len(VIDEO_NOTE_BYTES)
    assert known.video_note.file_unique_id
    assert uploaded.video_note.file_id not in (VIDEO_NOTE_ID, "")
    assert again.video_note.file_id == uploaded.video_note.file_id
    assert fake.file(uploaded.video_note.file_id).content == b"\x00\x00\x00\x18ftypmp42 new"  # type: ignore[union-attr]
    assert result["errors"]["unknown"].lower() == "wrong file identifier/http url specified"
    assert result["errors"]["voice"].lower() == "can't use file of type voice as videonote"
    assert result["errors"]["edit"].lower() == "there is no text in the message to edit"
    assert [m["message_id"] for m in fake.messages(USER_ID)] == [1, 2, 3]

    unknown = api.post("sendVideoNote", data={"chat_id": USER_ID, "video_note": "AgACAgIAAxkBAAnope"})
    assert description(unknown) == "Bad Request: wrong file identifier/HTTP URL specified"
    missing = api.post("sendVideoNote", data={"chat_id": USER_ID})
    assert description(missing) == "Bad Request: there is no video_note in the request"


def test_get_file_and_download(url: str, fake: TelegramFake, api: httpx.Client) -> None:
    voice = fake.add_file("voice-from-test", "voice", duration=2, content=b"OggS voice bytes")

    async def scenario() -> tuple[Any, bytes, bytes, str]:
        async with make_bot(url) as bot:
            video = await bot.get_file(VIDEO_NOTE_ID)
            video_bytes = bytes(await video.download_as_bytearray())
            voice_file = await bot.get_file(voice["file_id"])
            voice_bytes = bytes(await voice_file.download_as_bytearray())
            with pytest.raises(BadRequest) as unknown:
                await bot.get_file("nope")
            return video, video_bytes, voice_bytes, unknown.value.message

    video, video_bytes, voice_bytes, unknown = run(scenario())

    assert video.file_path.startswith(f"{url}/file/bot{TOKEN}/video_notes/file_")
    assert video.file_size == len(VIDEO_NOTE_BYTES)
    assert video_bytes == VIDEO_NOTE_BYTES
    assert voice_bytes == b"OggS voice bytes"
    assert unknown.lower() == "invalid file_id"
    raw = api.post("getFile", data={"file_id": voice["file_id"]}).json()["result"]
    assert raw["file_path"].startswith("voice/") and raw["file_path"].endswith(".oga")
    assert httpx.get(f"{url}/file/bot{TOKEN}/voice/nope.oga").status_code == 404
    assert httpx.get(f"{url}/file/bot999:wrong/{raw['file_path']}").status_code == 401
    assert description(api.post("getFile", data={"file_id": "nope"})) == "Bad Request: invalid file_id"


def test_delete_message(url: str, fake: TelegramFake, api: httpx.Client) -> None:
    anna = fake.user(USER_ID)
    fake.send_text(anna, "удалите меня")  # message 1

    async def scenario() -> list[Any]:
        async with make_bot(url) as bot:
            sent = await bot.send_message(USER_ID, "временное")
            results: list[Any] = [
                await bot.delete_message(USER_ID, sent.message_id),
                await bot.delete_message(USER_ID, 1),  # bots may delete incoming messages in private chats
            ]
            try:
                await bot.delete_message(USER_ID, sent.message_id)
            except BadRequest as exc:
                results.append(exc.message)
            return results

    assert run(scenario()) == [True, True, "Message to delete not found"]
    assert fake.messages(USER_ID) == [] and fake.incoming_messages(USER_ID) == []
    assert fake.state()["deleted_messages"] == [
        {"chat_id": USER_ID, "message_id": 2, "outgoing": True},
        {"chat_id": USER_ID, "message_id": 1, "outgoing": False},
    ]
    assert description(api.post("deleteMessage", json={"chat_id": USER_ID})) == (
        "Bad Request: message identifier is not specified"
    )


def test_old_messages_cannot_be_deleted() -> None:
    now = [1_700_000_000.0]
    fake = TelegramFake(TOKEN, clock=lambda: now[0])
    with fake.server() as server, httpx.Client(base_url=f"{server.url}/bot{TOKEN}/") as api:
        api.post("sendMessage", json={"chat_id": 5, "text": "old"})
        now[0] += 49 * 3600
        refused = api.post("deleteMessage", json={"chat_id": 5, "message_id": 1})
        assert description(refused) == "Bad Request: message can't be deleted for everyone"


def test_set_my_commands_and_chat_action(url: str, fake: TelegramFake, api: httpx.Client) -> None:
    commands = [BotCommand("start", "Начать"), BotCommand("help", "Помощь")]

    async def scenario() -> dict[str, Any]:
        async with make_bot(url) as bot:
            out: dict[str, Any] = {
                "set": await bot.set_my_commands(commands),
                "set_ru": await bot.set_my_commands(
                    commands[:1], scope=BotCommandScopeAllPrivateChats(), language_code="ru"
                ),
                "get": await bot.get_my_commands(),
                "get_ru": await bot.get_my_commands(
                    scope=BotCommandScopeAllPrivateChats(), language_code="ru"
                ),
                "typing": await bot.send_chat_action(USER_ID, ChatAction.TYPING),
                "video_note": await bot.send_chat_action(USER_ID, ChatAction.RECORD_VIDEO_NOTE),
            }
            for name, call in {
                "bad command": bot.set_my_commands([BotCommand("Start", "Начать")]),
                "bad action": bot.send_chat_action(USER_ID, "dancing"),
            }.items():
                try:
                    await call
                except BadRequest as exc:
                    out[name] = exc.message
            return out

    out = run(scenario())

    assert out["set"] is True and out["set_ru"] is True
    assert out["get"] == tuple(commands) and out["get_ru"] == (commands[0],)
    assert fake.commands() == [
        {"command": "start", "description": "Начать"},
        {"command": "help", "description": "Помощь"},
    ]
    assert fake.commands({"type": "all_private_chats"}, "ru") == [
        {"command": "start", "description": "Начать"}
    ]
    assert out["typing"] is True and out["video_note"] is True
    assert [a["action"] for a in fake.chat_actions(USER_ID)] == ["typing", "record_video_note"]
    assert out["bad command"].lower() == "bot_command_invalid"
    assert out["bad action"].lower() == "wrong parameter action in request"
    empty = api.post("setMyCommands", json={"commands": [{"command": "", "description": "x"}]})
    assert description(empty) == "Bad Request: command must be non-empty"
    no_description = api.post("setMyCommands", json={"commands": [{"command": "start", "description": ""}]})
    assert description(no_description) == "Bad Request: command description must be non-empty"


# ---- updates delivered to the webhook ---------------------------------------------------------------------
def set_webhook(url: str, webhook: Webhook, **kwargs: Any) -> None:
    async def scenario() -> None:
        async with make_bot(url) as bot:
            assert await bot.set_webhook(webhook.url, secret_token=SECRET, **kwargs) is True

    run(scenario())


def test_updates_reach_the_webhook_with_the_secret_and_parse(
    url: str, fake: TelegramFake, webhook: Webhook
) -> None:
    set_webhook(url, webhook)
    anna = fake.user(USER_ID, "Анна", username="anna_k")

    statuses = [
        fake.send_command(anna, "/start", "TOKEN_abc-123"),
        fake.send_text(anna, "Здравствуйте! Хочу на курс"),
        fake.send_contact(anna, "79991234567"),
        fake.send_contact(anna, "+79990000000", contact_user_id=2002, first_name="Борис"),
        fake.send_voice(anna, VOICE_ID, 3),
        fake.send_voice(anna, "voice-new-file", 5, content=b"OggS new voice"),
    ]

    assert statuses == [200] * 6
    for recorded in webhook.requests:
        assert recorded["headers"]["X-Telegram-Bot-Api-Secret-Token"] == SECRET
        assert recorded["headers"]["Content-Type"] == "application/json"
    bot = make_bot(url)
    start, text, own, other, voice, new_voice = webhook.updates(bot)
    ids = [u.update_id for u in (start, text, own, other, voice, new_voice)]
    assert ids == list(range(ids[0], ids[0] + 6))
    assert [u.message.message_id for u in (start, text, own, other, voice, new_voice)] == [1, 2, 3, 4, 5, 6]

    assert start.message.text == "/start TOKEN_abc-123"
    [entity] = start.message.entities
    assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, 6)
    assert start.message.from_user.id == USER_ID and start.message.from_user.username == "anna_k"
    assert start.message.from_user.language_code == "ru" and start.message.from_user.is_bot is False
    assert start.message.chat.id == USER_ID and start.message.chat.type == "private"
    assert start.effective_user.first_name == "Анна"
    assert text.message.text == "Здравствуйте! Хочу на курс" and not text.message.entities

    assert own.message.contact.user_id == own.message.from_user.id == USER_ID
    assert own.message.contact.phone_number == "79991234567" and own.message.contact.first_name == "Анна"
    assert other.message.contact.user_id == 2002 != other.message.from_user.id
    assert other.message.contact.first_name == "Борис"

    assert voice.message.voice.file_id == VOICE_ID and voice.message.voice.mime_type == "audio/ogg"
    assert new_voice.message.voice.file_id == "voice-new-file"

    async def download() -> bytes:
        async with make_bot(url) as api_bot:
            return bytes(await (await api_bot.get_file("voice-new-file")).download_as_bytearray())

    assert run(download()) == b"OggS new voice"
    assert [d["status"] for d in fake.deliveries()] == [200] * 6


def test_bot_and_user_messages_share_the_chat_sequence(
    url: str, fake: TelegramFake, webhook: Webhook
) -> None:
    set_webhook(url, webhook)
    anna = fake.user(USER_ID)

    fake.send_command(anna, "start")

    async def reply() -> Any:
        async with make_bot(url) as bot:
            return await bot.send_message(USER_ID, "Добро пожаловать")

    assert run(reply()).message_id == 2
    fake.send_text(anna, "/help please")
    [help_update] = webhook.updates(make_bot(url))[1:]
    assert help_update.message.message_id == 3
    assert (
        help_update.message.entities[0].type == "bot_command" and help_update.message.entities[0].length == 5
    )


def test_a_groups_members_write_there_and_others_cannot(
    url: str, fake: TelegramFake, webhook: Webhook
) -> None:
    set_webhook(url, webhook)
    group = -1002000000001
    fake.add_group(group, "Managers", members=[USER_ID])
    anna, stranger = fake.user(USER_ID), fake.user(USER_ID + 1)

    async def post() -> Any:
        async with make_bot(url) as bot:
            return await bot.send_message(group, "🆕 new lead")

    assert run(post()).chat.type == "supergroup"
    fake.send_command(anna, "/lead@allin_bot", "+79161234567", chat_id=group)
    [update] = webhook.updates(make_bot(url))
    message = update.message
    assert (message.chat.id, message.chat.title, message.from_user.id) == (group, "Managers", USER_ID)
    assert message.message_id == 2 and message.text == "/lead@allin_bot +79161234567"  # the group's sequence
    with pytest.raises(ValueError, match="not a member"):
        fake.send_text(stranger, "hello", chat_id=group)

    async def card() -> Any:
        async with make_bot(url) as bot:
            button = InlineKeyboardButton("📞", callback_data="mark")
            return await bot.send_message(group, "card", reply_markup=InlineKeyboardMarkup([[button]]))

    sent = run(card())
    fake.press_button(anna, sent.message_id, "mark", chat_id=group)
    press_update = webhook.updates(make_bot(url))[-1]
    assert (
        press_update.callback_query.message.chat.id == group
        and press_update.callback_query.from_user.id == USER_ID
    )

    async def answer() -> Any:
        async with make_bot(url) as bot:
            return await bot.answer_callback_query(press_update.callback_query.id, "✅")

    assert run(answer()) is True
    with pytest.raises(ValueError, match="not a member"):
        fake.press_button(stranger, sent.message_id, "mark", chat_id=group)
    with pytest.raises(ValueError, match="negative"):
        fake.add_group(5, "not a group", members=[])


def test_callback_round_trip_through_the_webhook(url: str, fake: TelegramFake, webhook: Webhook) -> None:
    set_webhook(url, webhook)
    anna = fake.user(USER_ID)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Записаться", callback_data="book:lesson-7")]])

    async def send() -> Any:
        async with make_bot(url) as bot:
            return await bot.send_message(USER_ID, "Занятие в 19:00", reply_markup=keyboard)

    question = run(send())
    seen: list[str] = []

    def bot_handles(data: Any) -> None:
        # What the bot does in its webhook handler: calls the API back while Telegram waits for the answer.
        async def handle() -> None:
            async with make_bot(url) as bot:
                update = Update.de_json(data, bot)
                query = update.callback_query
                seen.append(query.data)
                await query.answer("Записали!")
                await query.edit_message_reply_markup(None)

        asyncio.run(handle())

    webhook.on_update = bot_handles
    assert fake.press_button(anna, question, "book:lesson-7") == 200

    assert seen == ["book:lesson-7"]
    [answer] = fake.callback_answers()
    assert answer["text"] == "Записали!"
    query_id = webhook.requests[0]["json"]["callback_query"]["id"]
    assert answer["callback_query_id"] == query_id
    assert webhook.requests[0]["json"]["callback_query"]["message"]["reply_markup"] == keyboard.to_dict()
    assert "reply_markup" not in fake.messages(USER_ID)[0]  # the handler removed the keyboard

    async def late_answer() -> str:
        async with make_bot(url) as bot:
            with pytest.raises(BadRequest) as exc:
                await bot.answer_callback_query(query_id)
            return exc.value.message

    assert "query is too old" in run(late_answer()).lower()


def test_failed_delivery_is_recorded_and_redelivered_identically(
    url: str, fake: TelegramFake, webhook: Webhook
) -> None:
    set_webhook(url, webhook)
    anna = fake.user(USER_ID)
    webhook.statuses = [500]

    assert fake.send_text(anna, "первая попытка") == 500

    update_id = webhook.requests[0]["json"]["update_id"]
    [failed] = fake.deliveries()
    assert failed["update_id"] == update_id and failed["status"] == 500 and failed["attempt"] == 1
    assert failed["error"] == "Wrong response from the webhook: 500 Internal Server Error"

    async def info() -> Any:
        async with make_bot(url) as bot:
            return await bot.get_webhook_info()

    before = run(info())
    assert before.pending_update_count == 1
    assert before.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"

    assert fake.redeliver(update_id) == 200

    first, second = webhook.requests
    assert second["body"] == first["body"]  # the same bytes, the same update_id
    assert second["headers"]["X-Telegram-Bot-Api-Secret-Token"] == SECRET
    assert [(d["attempt"], d["status"]) for d in fake.deliveries()] == [(1, 500), (2, 200)]
    assert run(info()).pending_update_count == 0
    with pytest.raises(KeyError):
        fake.redeliver(123)


def test_timeout_no_webhook_and_get_updates(url: str, fake: TelegramFake, webhook: Webhook) -> None:
    set_webhook(url, webhook)
    anna = fake.user(USER_ID)
    fake.deliver_timeout = 0.3
    webhook.hang = 5

    assert fake.send_text(anna, "медленно") == 0

    webhook.release.set()
    [timed_out] = fake.deliveries()
    assert timed_out["status"] == 0 and timed_out["error"] == "Read timeout expired"
    assert timed_out["seconds"] < 3

    async def scenario() -> tuple[Any, Any, Any]:
        async with make_bot(url) as bot:
            with pytest.raises(Conflict):
                await bot.get_updates()
            await bot.delete_webhook()
            assert fake.send_text(anna, "без вебхука") == 0
            pending = await bot.get_updates()
            confirmed = await bot.get_updates(offset=pending[-1].update_id + 1)
            return pending, confirmed, await bot.get_webhook_info()

    pending, confirmed, info = run(scenario())

    assert [u.message.text for u in pending] == ["медленно", "без вебхука"]
    assert confirmed == () and info.pending_update_count == 0 and info.url == ""


def test_raw_unknown_and_malformed_updates(url: str, fake: TelegramFake, webhook: Webhook) -> None:
    set_webhook(url, webhook)
    next_id = fake.text_update(fake.user(USER_ID), "строим, но не отправляем")["update_id"] + 1

    unknown_kind = {"update_id": next_id + 10, "some_future_update": {"x": 1}}
    assert fake.deliver(unknown_kind) == 200
    assert fake.deliver(["not", "an", "update"]) == 200
    assert fake.deliver({"message": {"text": "no update_id"}}) == 200

    assert [r["json"] for r in webhook.requests] == [
        unknown_kind,
        ["not", "an", "update"],
        {"message": {"text": "no update_id"}},
    ]
    assert Update.de_json(webhook.requests[0]["json"], make_bot(url)).effective_message is None
    # numbering continues after the highest id seen
    assert fake.text_update(fake.user(USER_ID), "дальше")["update_id"] == next_id + 11


def test_allowed_updates_filter_like_telegram(url: str, fake: TelegramFake, webhook: Webhook) -> None:
    set_webhook(url, webhook, allowed_updates=["message"])
    anna = fake.user(USER_ID)

    async def send() -> Any:
        async with make_bot(url) as bot:
            markup = InlineKeyboardMarkup([[InlineKeyboardButton("Да", callback_data="yes")]])
            return await bot.send_message(USER_ID, "?", reply_markup=markup)

    question = run(send())

    assert fake.press_button(anna, question, "yes") == 0
    assert fake.send_text(anna, "текст доходит") == 200
    assert [r["json"]["message"]["text"] for r in webhook.requests] == ["текст доходит"]
    assert "allowed_updates" in fake.deliveries()[0]["error"]


def test_update_ids_keep_increasing_across_reset(fake: TelegramFake) -> None:
    before = fake.text_update(fake.user(USER_ID), "a")["update_id"]
    fake.reset()
    assert fake.text_update(fake.user(USER_ID), "b")["update_id"] == before + 1


# ---- the HTTP control endpoints -----------------------------------------------------------------------
def test_http_control_endpoints(url: str, fake: TelegramFake, webhook: Webhook, api: httpx.Client) -> None:
    set_webhook(url, webhook)
    control = httpx.Client(base_url=f"{url}/_fake/", timeout=10)
    user = {"id": USER_ID, "is_bot": False, "first_name": "Анна", "language_code": "ru"}

    start = control.post(
        "updates", json={"kind": "command", "user": user, "command": "/start", "payload": "T0K"}
    )
    assert start.status_code == 200
    assert start.json()["webhook_status"] == 200
    assert start.json()["update"]["message"]["text"] == "/start T0K"
    text = control.post("updates", json={"kind": "text", "user_id": USER_ID, "text": "Привет"}).json()
    assert text["update"]["message"]["from"] == user  # the user given before, found by id
    contact = control.post(
        "updates", json={"kind": "contact", "user_id": USER_ID, "phone_number": "+79991234567"}
    ).json()
    assert contact["update"]["message"]["contact"]["user_id"] == USER_ID
    voice = control.post(
        "updates",
        json={
            "kind": "voice",
            "user_id": USER_ID,
            "file_id": "voice-http",
            "duration": 4,
            "content_base64": base64.b64encode(b"OggS http").decode(),
        },
    ).json()
    assert voice["update"]["message"]["voice"]["duration"] == 4
    assert fake.file("voice-http").content == b"OggS http"  # type: ignore[union-attr]

    # the bot answers with an inline keyboard; the test finds the button over HTTP and presses it
    markup = {"inline_keyboard": [[{"text": "Да", "callback_data": "consent:yes"}]]}
    api.post("sendMessage", json={"chat_id": USER_ID, "text": "Согласны?", "reply_markup": markup})
    api.post(
        "sendMessage", json={"chat_id": USER_ID, "text": "Телефон?", "reply_markup": {"keyboard": [["Да"]]}}
    )
    listed = control.get("messages", params={"chat_id": USER_ID}).json()
    assert [m["text"] for m in listed] == ["Согласны?", "Телефон?"]
    assert listed[1]["reply_markup"] == {"keyboard": [["Да"]]}
    button = listed[0]["reply_markup"]["inline_keyboard"][0][0]
    pressed = control.post(
        "updates",
        json={
            "kind": "callback",
            "user_id": USER_ID,
            "message_id": listed[0]["message_id"],
            "callback_data": button["callback_data"],
        },
    ).json()
    assert pressed["webhook_status"] == 200
    query_id = pressed["update"]["callback_query"]["id"]
    assert api.post("answerCallbackQuery", json={"callback_query_id": query_id}).json()["result"] is True
    assert description(api.post("answerCallbackQuery", json={"callback_query_id": query_id})) == QUERY_TOO_OLD
    assert [a["callback_query_id"] for a in control.get("callback_answers").json()] == [query_id]

    raw = control.post("updates", json={"kind": "raw", "update": {"update_id": 1, "junk": True}}).json()
    assert raw == {"update": {"update_id": 1, "junk": True}, "webhook_status": 200}

    webhook.statuses = [503]
    failed = control.post("updates", json={"kind": "text", "user_id": USER_ID, "text": "упало"}).json()
    assert failed["webhook_status"] == 503
    assert failed["webhook_error"] == "Wrong response from the webhook: 503 Service Unavailable"
    again = control.post("redeliver", json={"update_id": failed["update"]["update_id"]}).json()
    assert again == {"update": failed["update"], "webhook_status": 200}
    deliveries = control.get("deliveries").json()
    assert [d["status"] for d in deliveries][-2:] == [503, 200]
    assert len(control.get("updates").json()) == len(webhook.requests) - 1  # minus the redelivery

    added = control.post(
        "files",
        json={"file_id": "vn-http", "file_type": "video_note", "duration": 9, "content_base64": "AAAA"},
    ).json()
    assert added["ok"] is True and added["file"]["duration"] == 9
    sent = api.post("sendVideoNote", data={"chat_id": USER_ID, "video_note": "vn-http"}).json()
    assert sent["result"]["video_note"]["file_id"] == "vn-http"

    bad = [
        control.post("updates", json={"kind": "dance", "user_id": USER_ID}),
        control.post("updates", json={"kind": "text", "text": "no user"}),
        control.post(
            "updates", json={"kind": "callback", "user_id": USER_ID, "message_id": 999, "callback_data": "x"}
        ),
        control.post("redeliver", json={"update_id": 424242}),
    ]
    assert [r.status_code for r in bad] == [400, 400, 400, 400]
    assert all(r.json()["ok"] is False and r.json()["error"] for r in bad)
    assert control.get("state").json()["webhook"]["secret_token"] == SECRET
    control.close()
