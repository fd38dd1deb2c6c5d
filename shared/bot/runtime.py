"""python-telegram-bot in webhook mode, one update per request.

The Application and its Bot are built once per instance (`updater(None)`: no polling, no persistence:
PTB's persistence loads every user's data at start and cannot serve a fleet of instances). A single
TypeHandler reduces each update to an `Incoming`, hands it to the conversation (which takes the chat's
lock and routes it to the steps or the assistant) and sends the replies. PTB is asynchronous and the
functions framework is not: the Application lives on a private event loop thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable
from typing import Any, Literal

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application, ContextTypes, TypeHandler

from shared.bot.callbacks import Forget, HandoverDone, Mark, decode
from shared.bot.conversation import Conversation, UpdateBusy, UpdateHandled
from shared.bot.desk import ManagerDesk
from shared.bot.poison import MalformedUpdate
from shared.bot.replies import Reply
from shared.domain.conversation import Incoming
from shared.i18n import language_for, t

log = logging.getLogger(__name__)

# handled (or given to the error handler), a duplicate of a handled one, or being handled elsewhere now
Outcome = Literal["handled", "duplicate", "busy"]


def to_incoming(update: Update) -> Incoming | None:
    """What the conversation understands of an update; None for update types the bot does not handle.

    A parent's chat with the bot is private, and its id is the parent's user id: a message or a button
    press whose chat is anyone else's (another parent's, a group's) is not the sender's to act on."""
    if (query := update.callback_query) is not None:
        chat_id = query.message.chat.id if query.message else query.from_user.id
        if chat_id != query.from_user.id:
            return None
        return Incoming(
            "callback",
            update_id=update.update_id,
            chat_id=chat_id,
            user_id=query.from_user.id,
            username=query.from_user.username,
            language_code=query.from_user.language_code,
            callback_data=query.data,
        )
    message = update.message
    if message is None or message.from_user is None or message.chat.type != "private":
        return None
    if message.chat.id != message.from_user.id:
        return None
    user = message.from_user
    common: dict[str, Any] = {
        "update_id": update.update_id,
        "chat_id": message.chat.id,
        "user_id": user.id,
        "username": user.username,
        "language_code": user.language_code,
    }
    if message.contact is not None:
        return Incoming(
            "contact",
            contact_phone=message.contact.phone_number,
            contact_user_id=message.contact.user_id,
            **common,
        )
    if message.text is not None:
        text = message.text[:4096]
        if text.startswith("/"):
            command, _, payload = text[1:].partition(" ")
            return Incoming("command", text=command.split("@")[0].lower(), payload=payload.strip(), **common)
        return Incoming("text", text=text, **common)
    if message.voice is not None:
        return Incoming(
            "voice",
            voice_file_id=message.voice.file_id,
            # As sent (seconds); the attribute warns that its type will change in PTB 23.
            voice_seconds=int(message.voice.to_dict().get("duration", 0)),
            voice_bytes=message.voice.file_size,
            **common,
        )
    return Incoming("other", **common)


class BotRuntime:
    def __init__(
        self,
        *,
        token: str,
        api_url: str,
        conversation: Callable[[], Conversation],
        manager_link: str,
        undelivered: Callable[[int, int, list[tuple[Reply, dict[str, Any] | None]]], None] | None = None,
        wait_budget: float = 3.0,
        desk: Callable[[], ManagerDesk] | None = None,
        managers_chat: str | None = None,
    ) -> None:
        """`undelivered(chat_id, update_id, replies)`: what to do with the replies Telegram refused even
        after waiting `wait_budget` seconds (the bootstrap records them in the outbox). `desk` answers the
        commands typed in `managers_chat` (MANAGER_CHAT_ID: a numeric id or an @username)."""
        self._desk = desk
        self._managers_chat = (managers_chat or "").lower() or None
        self._undelivered = undelivered
        self._wait_budget = wait_budget
        self._token = token
        self._api_url = api_url
        self._conversation = conversation
        self._manager_link = manager_link
        self._app: Application | None = None
        # What `_route` made of an update other than handling it (read back by `_process`: PTB's
        # process_update returns nothing).
        self._outcomes: dict[int, Outcome] = {}
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, name="ptb-loop", daemon=True).start()

    # The slowest update: a voice note sent on to the assistant (download ≤ 10 s, then transcription and
    # a chat completion, each ≤ 2 × OPENAI_TIMEOUT_SECONDS with the SDK's retry). Below the function's
    # 90 s timeout (infra/terraform) and the 2-minute lease of a question being answered.
    def process(self, data: dict[str, Any], timeout: float = 80.0) -> Outcome:
        """Handle one update (already checked for its secret); errors end in a reply.

        An update still running after `timeout` goes on in the background and counts as handled: failing
        it would make Telegram deliver it again and the parent pay for (and get) the answer twice."""
        # The task starts in a copy of this thread's context (its round-trip counter), and the threads
        # `asyncio.to_thread` runs the conversation in copy the task's.
        future = asyncio.run_coroutine_threadsafe(self._process(data), self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            log.warning("update still being handled", extra={"update_id": data.get("update_id")})
            return "handled"

    async def _process(self, data: dict[str, Any]) -> Outcome:
        app = await self._application()
        try:
            update = Update.de_json(data, app.bot)
        except Exception as exc:  # inner objects of the wrong shape: no handler could ever take it
            raise MalformedUpdate(type(exc).__name__) from None
        try:
            _check_ids(update)
            await app.process_update(update)
            return self._outcomes.pop(update.update_id, "handled")
        except MalformedUpdate:
            raise
        except Exception as exc:
            # Our handler's errors go to `_on_error`; what escapes is PTB's own bookkeeping choking on
            # the update (a user id that is a list): it would choke on every redelivery.
            raise MalformedUpdate(type(exc).__name__) from None

    async def _application(self) -> Application:
        if self._app is None:
            app = (
                Application.builder()
                .token(self._token)
                .base_url(f"{self._api_url}/bot")
                .base_file_url(f"{self._api_url}/file/bot")
                .updater(None)
                .build()
            )
            app.add_handler(TypeHandler(Update, self._route))
            app.add_error_handler(self._on_error)
            await app.initialize()  # one getMe per instance
            self._app = app
        return self._app

    async def _route(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if self._desk is not None and update.effective_chat is not None and self._is_managers(update):
            await self._managers_update(update, context)
            return
        if update.callback_query is not None and isinstance(
            decode(update.callback_query.data), Mark | Forget | HandoverDone
        ):
            await self._answer(update, t(self._desk_language(), "desk_not_manager"))  # a card forwarded
            return
        event = to_incoming(update)
        if event is None:
            log.info("update ignored", extra={"update_id": update.update_id})
            return
        if update.callback_query is not None:
            await self._answer(update)
        # The store, Cloud Tasks and the assistant are blocking clients: keep them off the event loop.
        try:
            replies = await asyncio.to_thread(self._conversation().handle, event)
        except UpdateHandled:
            self._outcomes[update.update_id] = "duplicate"
            return
        except UpdateBusy:
            self._outcomes[update.update_id] = "busy"
            return
        await self._send_all(context, event.chat_id, update.update_id, replies)

    def _is_managers(self, update: Update) -> bool:
        chat = update.effective_chat
        if chat is None or chat.type == "private":
            return False
        names = {str(chat.id), f"@{chat.username}".lower() if chat.username else ""}
        return self._managers_chat in names

    async def _managers_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A command typed in the managers' chat, a card's button pressed there, or a manager's reply to a
        parent's handover (anything else there is the managers' own talk)."""
        if update.callback_query is not None:
            await self._card_pressed(update)
            return
        message = update.message
        if self._desk is None or message is None:
            return
        if not message.text or not message.text.startswith("/"):
            if message.reply_to_message is not None:
                await self._manager_replied(update, context)
            return
        command, _, payload = message.text[1:4096].partition(" ")
        name, _, addressee = command.partition("@")
        if addressee and addressee.lower() != (context.bot.username or "").lower():
            return  # another bot's command
        replies = await asyncio.to_thread(self._desk().command, name.lower(), payload.strip())
        for reply in replies:
            try:  # a manager can ask again: nothing is kept for later
                await self._send(context, message.chat.id, reply)
            except TelegramError as exc:
                log.warning("desk answer not sent", extra={"reason": str(exc)})

    async def _manager_replied(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A manager answers a parent by replying to their handover card or message: sent on (👌 on the
        manager's message), or why not, as a reply."""
        message = update.message
        if self._desk is None or message is None or message.reply_to_message is None:
            return
        desk = self._desk()
        if message.from_user is None or not desk.may_press(message.from_user.id):
            return  # only managers speak for the school
        replied_to = message.reply_to_message.message_id
        relayed = await asyncio.to_thread(desk.reply, replied_to, message.text or "", update.update_id)
        if relayed is None:
            return  # a reply to another of the bot's messages: the managers' own talk
        try:
            if relayed.problem is None:
                await context.bot.set_message_reaction(message.chat.id, message.message_id, "👌")
            else:
                await message.reply_text(relayed.problem)
        except TelegramError as exc:  # best effort: the reply went (or not) all the same
            log.warning("desk reply not acknowledged", extra={"reason": str(exc)})

    async def _card_pressed(self, update: Update) -> None:
        """A lead card's button: the mark applied (or refused), or the lead forgotten; told on the button,
        the card redrawn."""
        query = update.callback_query
        button = decode(query.data) if query is not None else None
        if query is None or self._desk is None or not isinstance(button, Mark | Forget | HandoverDone):
            if query is not None:
                await self._answer(update)
            return
        desk = self._desk()
        if not desk.may_press(query.from_user.id):
            await self._answer(update, t(desk.settings.language, "desk_not_manager"))
            return
        who = query.from_user.full_name + (
            f" (@{query.from_user.username})" if query.from_user.username else ""
        )
        if isinstance(button, HandoverDone):
            card_text = query.message.text if isinstance(query.message, Message) else ""
            pressed = await asyncio.to_thread(desk.handover_done, button, who, card_text or "")
        elif isinstance(button, Forget):
            pressed = await asyncio.to_thread(desk.forget, button.lead_id, who)
        else:
            pressed = await asyncio.to_thread(desk.press, button, who, query.id)
        await self._answer(update, pressed.answer)
        if pressed.card is not None:
            try:  # best effort: the mark is made and recorded; the card catches up on the next look
                await query.edit_message_text(pressed.card.text, reply_markup=_markup(pressed.card))
            except TelegramError as exc:
                log.warning("lead card not redrawn", extra={"reason": str(exc)})

    def _desk_language(self) -> str:
        return self._desk().settings.language if self._desk is not None else "ru"

    @staticmethod
    async def _answer(update: Update, text: str | None = None) -> None:
        """Best effort: the spinner on the button stops (with `text` shown briefly). A query too old to
        answer (a redelivered update) or a Telegram hiccup never decides whether the press is handled."""
        try:
            await update.callback_query.answer(text)  # type: ignore[union-attr]
        except TelegramError as exc:
            log.warning("callback query not answered", extra={"reason": str(exc)})

    async def _send_all(
        self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, update_id: int, replies: list[Reply]
    ) -> None:
        """Send the replies in order. What Telegram still refuses after the wait budget (a flood wait, an
        outage) goes to `undelivered` with the rest, so the parent gets it later instead of an error:
        what the update did (a booking) is done and must be told."""
        for index, reply in enumerate(replies):
            if reply.video_note:
                await self._send_video_note(context, chat_id, reply.video_note)
            if reply.document is not None:
                await self._send_document(context, chat_id, reply)
                continue
            if not reply.text:
                continue
            try:
                await self._send_patiently(context, chat_id, reply)
            except BadRequest:
                raise  # the message itself is refused: sending it later would be refused too
            except (RetryAfter, NetworkError) as exc:  # TimedOut is a NetworkError too
                if isinstance(exc, TimedOut) and _may_have_arrived(exc):
                    # Telegram had the request and did not answer in time: it usually delivers anyway, and
                    # sending it again would show it twice. Said once, at most.
                    log.warning("reply timed out; not sent again", extra={"update_id": update_id})
                    continue
                if self._undelivered is None:
                    raise
                log.warning("replies left for the outbox", extra={"reason": str(exc), "update_id": update_id})
                rest = [(r, _markup_json(r)) for r in replies[index:] if r.text and r.document is None]
                await asyncio.to_thread(self._undelivered, chat_id, update_id, rest)
                return

    async def _send_patiently(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, reply: Reply) -> None:
        waited = 0.0
        while True:
            try:
                await self._send(context, chat_id, reply)
                return
            except RetryAfter as exc:
                error: TelegramError = exc
                wait = _seconds(exc.retry_after)
            except (TimedOut, BadRequest):
                raise  # a timeout may have been delivered (a second send could show it twice)
            except NetworkError as exc:  # a 5xx or a connection failure
                error, wait = exc, 0.5
            if waited + wait > self._wait_budget:
                raise error
            await asyncio.sleep(wait)
            waited += wait

    async def _send(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, reply: Reply) -> None:
        await context.bot.send_message(chat_id, reply.text, reply_markup=_markup(reply))

    @staticmethod
    async def _send_video_note(context: ContextTypes.DEFAULT_TYPE, chat_id: int, video_note: str) -> None:
        """Best effort: the welcome video is a greeting; the texts after it are what must arrive."""
        try:
            await context.bot.send_video_note(chat_id, video_note=video_note)
        except TelegramError as exc:
            log.warning("video note not sent", extra={"reason": str(exc)})

    @staticmethod
    async def _send_document(context: ContextTypes.DEFAULT_TYPE, chat_id: int, reply: Reply) -> None:
        """Best effort, like the video note: a file for the parent's calendar adds to the texts that must
        arrive; it is not kept for later."""
        from telegram import InputFile

        assert reply.document is not None
        document = InputFile(reply.document.content, filename=reply.document.filename)
        try:
            await context.bot.send_document(
                chat_id, document=document, caption=reply.text or None, reply_markup=_markup(reply)
            )
        except TelegramError as exc:
            log.warning("document not sent", extra={"reason": str(exc)})

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The global error handler: log it, and tell the parent what to do, in their language."""
        log.error("bot update failed", exc_info=context.error)
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        language = language_for(update.effective_user.language_code if update.effective_user else None)
        try:
            await context.bot.send_message(
                update.effective_chat.id, t(language, "error_generic", manager_link=self._manager_link)
            )
        except Exception:
            log.exception("error reply not delivered")


def _check_ids(update: Update) -> None:
    """PTB reads any JSON into its objects without checking types: a chat or user id that is not a
    number would become a store key and a sendMessage target. Such an update is unreadable."""
    for found in (update.effective_user, update.effective_chat):
        if found is not None and (not isinstance(found.id, int) or isinstance(found.id, bool)):
            raise MalformedUpdate(f"{type(found).__name__} id is not a number")


def _markup(reply: Reply) -> Any:
    """The reply's keyboard as PTB objects (None: none)."""
    if reply.buttons:
        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(b.text, callback_data=b.callback_data, url=b.url) for b in row]
                for row in reply.buttons
            ]
        )
    if reply.contact_button:
        return ReplyKeyboardMarkup(
            [[KeyboardButton(reply.contact_button, request_contact=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
    if reply.remove_keyboard:
        return ReplyKeyboardRemove()
    return None


def _markup_json(reply: Reply) -> dict[str, Any] | None:
    markup = _markup(reply)
    return markup.to_dict() if markup is not None else None


def _may_have_arrived(exc: TimedOut) -> bool:
    """A timeout after the request was sent (reading the answer), not one connecting or queuing for a
    connection: Telegram may have the message."""
    import httpx

    return not isinstance(exc.__cause__, httpx.ConnectTimeout | httpx.PoolTimeout)


def _seconds(retry_after: Any) -> float:
    """RetryAfter.retry_after: int seconds, or a timedelta in newer PTB versions."""
    return float(retry_after.total_seconds() if hasattr(retry_after, "total_seconds") else retry_after)
