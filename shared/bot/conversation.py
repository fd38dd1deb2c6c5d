"""One update of a parent's chat: the scenes on the chat's document, the assistant and voice around them.

The chat's document (shared/bot/chat_document.py) holds the session and the update bookkeeping, so an
ordinary message or button press costs one read and one compare-and-set write, and two updates of one
chat arriving together are applied one after the other. A step that reaches outside the session (books,
registers, erases) first takes the chat's lock in that document (`SceneContext.claim`), so its effects
happen once. The slow, paid parts (transcribing a voice note, asking the model) run without the lock: a
parent's buttons stay responsive while the assistant thinks, and the rate limit, not the lock, is what
bounds the cost.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared.bot import scenes
from shared.bot.callbacks import AiBack, HandoverAsk, decode
from shared.bot.chat_document import SESSIONS, ChatDocument, UpdateBusy, UpdateHandled
from shared.bot.replies import Button, Reply
from shared.bot.scenes.base import SceneContext, follow_telegram_language
from shared.domain.conversation import Incoming, Session, assistant_question
from shared.domain.handover import HandoverReason, HandoverState, asks_for_person
from shared.i18n import t
from shared.ports import Clock, NotifyError, StateStore, StoreConflict

if TYPE_CHECKING:  # built on first use: a /start pays neither for the AI filters nor for the model
    from shared.flows.assistant import AssistantFlow
    from shared.flows.handover import Handover
    from shared.flows.voice import Unheard, VoiceInput

__all__ = ["SESSIONS", "Conversation", "UpdateBusy", "UpdateHandled"]
log = logging.getLogger(__name__)

# Longer than the slowest step under the lock (store and Cloud Tasks calls, the Calendar when booking).
_CHAT_LEASE = timedelta(seconds=60)
# Longer than the slowest answer (BotRuntime.process gives an update 80 s).
_ASK_LEASE = timedelta(minutes=2)
_WAIT_FOR_LOCK = 10.0  # seconds an update waits for another one's step before failing


# What a slow step asks of the session once it is done (e.g. "a manager has the chat now").
SessionChange = Callable[[Session], None]
Worked = tuple[list[Reply], SessionChange | None]


class _Lost(Exception):
    """The document changed since it was read, before this update did anything outside it: read again."""


class Conversation:
    def __init__(
        self,
        *,
        store: StateStore,
        scenes: Callable[[], SceneContext],
        assistant: Callable[[], AssistantFlow],
        voice: Callable[[], VoiceInput],
        clock: Clock | None = None,
        retention: timedelta | None = None,
        handover: Callable[[], Handover] | None = None,
        nudge: Callable[[int, datetime], None] | None = None,
    ) -> None:
        """`handover`: the managers can take a chat over from the assistant (None: no managers' chat).
        `nudge(chat_id, since)`: start the nudges of a chat that began, or registered, at `since`."""
        self._handover = handover
        self._nudge = nudge
        self._store = store
        self._clock = clock
        self._retention = retention  # a chat's session expires after this long without a message
        self._scenes = scenes
        self._assistant = assistant
        self._voice = voice

    def handle(self, event: Incoming) -> list[Reply]:
        """What to send back for `event`; UpdateHandled for a duplicate, UpdateBusy while another delivery
        of it is being handled."""
        if event.kind == "voice":
            return self._voice_note(event)
        return self._in_chat(event, noted=False)

    def _in_chat(self, event: Incoming, *, noted: bool) -> list[Reply]:
        """A step or a question (`noted`: a voice note's text, already noted as being answered)."""
        while True:
            chat = self._read(event, noted=noted)
            session = _session(chat, event)
            try:
                if self._handover is not None and isinstance(decode(event.callback_data), HandoverAsk):
                    return self._free_text(chat, session, event, "", noted=noted)
                if (question := self._question(session, event)) is not None:
                    return self._free_text(chat, session, event, question, noted=noted)
                return self._step(chat, session, event)
            except _Lost:
                continue

    def _question(self, session: Session, event: Incoming) -> str | None:
        """Free text for the assistant (or the managers); a request for a person counts as one even where
        typed text is a step's answer ("позовите менеджера" is nobody's phone number)."""
        question = assistant_question(session, event)
        if question is None and self._handover is not None and event.kind == "text":
            return event.text if asks_for_person(event.text) else None
        return question

    def _step(self, chat: ChatDocument, session: Session, event: Incoming) -> list[Reply]:
        """One scene step, saved with the update marked handled in one compare-and-set write. Losing
        that write before the step claimed the chat means it changed nothing else: it runs again."""
        key = str(event.chat_id)
        claim = _Claim(self, chat, event.update_id, key)
        try:
            turn = scenes.advance(dataclasses.replace(self._scenes(), claim=claim), session, event)
        except _Lost:
            raise
        except BaseException:
            claim.release()
            raise
        if turn.forget_session:
            self._store.delete(SESSIONS, key)
            return turn.replies
        registered = session.lead_id is not None and chat.session_data.get("lead_id") is None
        session.progress_at = self._moment()  # a step: nudges wait from here
        saved = claim.document.with_(session.model_dump(mode="json"), done=event.update_id, now=self._now())
        if self._write(key, saved, claim.document.version) is None:
            if claim.held:  # the step outlived its lease and another update took the chat
                raise StoreConflict("the chat's lock was taken over during a step")
            raise _Lost
        if chat.version is None or registered:
            self._start_nudges(event.chat_id, session.progress_at)
        return turn.replies

    def _start_nudges(self, chat_id: int, since: datetime) -> None:
        """Best effort: a chat left without its nudges loses a reminder, never a step."""
        if self._nudge is None:
            return
        try:
            self._nudge(chat_id, since)
        except Exception as exc:
            log.warning("nudges not scheduled", extra={"chat_id": chat_id, "reason": str(exc)})

    def _free_text(
        self, chat: ChatDocument, session: Session, event: Incoming, question: str, *, noted: bool
    ) -> list[Reply]:
        """Typed (or spoken) free text: for the manager who has the chat, a request for one (or 🙋
        pressed: `question` ""), or a question for the assistant. Each is slow or reaches outside the
        session: the update is noted as being answered meanwhile, and handled after."""
        if not noted:
            chat = self._note_asking(chat, event)
        change: SessionChange | None = None
        try:
            if event.kind == "callback":
                if session.handover is not None and session.handover.active(self._moment()):
                    return [Reply(t(session.language, "handover_already"))]
                replies, change = self._hand_over(session, event, question, HandoverReason.NOT_HELPED)
                return replies
            if self._handover is not None and event.kind == "text":
                if session.handover is not None and session.handover.active(self._moment()):
                    replies, change = self._relay(session, event, question, session.handover.card)
                    return replies
                if asks_for_person(question):
                    replies, change = self._hand_over(session, event, question, HandoverReason.ASKED)
                    return replies
            replies, change = self._answer(session, event, question)
            return replies
        finally:
            self._done(event, chat, change)

    def _answer(self, session: Session, event: Incoming, question: str) -> Worked:
        """The assistant's answer, with "↩ Back"; from the second in a row that did not help, with 🙋 to
        call a manager too (offered, not forced: an outage of the model must not page the managers for
        every parent, nor silence the assistant for a parent who did not ask for a person)."""
        answer = self._assistant().answer(
            event.chat_id,
            question,
            session.language,
            admitted=event.from_voice,
            # Before consenting, a parent's messages are answered but not kept.
            remember=session.consent_at is not None,
        )
        misses = 0 if answer.helped else session.ai_misses + 1
        buttons = [[Button(t(session.language, "ai_back"), AiBack())]]
        if misses >= 2 and self._handover is not None:
            buttons.insert(0, [Button(t(session.language, "handover_offer"), HandoverAsk())])

        def count(fresh: Session) -> None:
            fresh.ai_misses = misses

        return [Reply(answer.text, buttons=buttons)], (count if misses != session.ai_misses else None)

    def _hand_over(self, session: Session, event: Incoming, question: str, reason: HandoverReason) -> Worked:
        """The managers get the chat's card; the parent is told a manager will answer here."""
        from shared.flows.handover import Parent

        language = session.language
        if not event.from_voice and not self._assistant().admit(event.chat_id):
            return [Reply(t(language, "ai_rate_limited"))], None  # the summary is paid for like an answer
        parent = Parent(event.chat_id, language, session.name, event.username, session.lead_id)
        try:
            card = self._managers().open(parent, question, reason)
        except NotifyError as exc:
            log.warning("handover not opened", extra={"reason": str(exc)})
            return [Reply(t(language, "handover_unreachable", manager_link=self._manager_link()))], None
        state = HandoverState(card=card, at=self._moment())

        def hand_over(fresh: Session) -> None:
            fresh.handover, fresh.ai_misses = state, 0

        return [Reply(t(language, f"handover_started_{reason.value}"))], hand_over

    def _relay(self, session: Session, event: Incoming, text: str, card: int) -> Worked:
        """The parent's message to the managers, under their `card`; nothing to say back."""
        from shared.flows.handover import Parent

        handover, language = self._managers(), session.language
        if not event.from_voice and not handover.admit(event.chat_id):
            return [Reply(t(language, "handover_rate_limited"))], None
        parent = Parent(event.chat_id, language, session.name, event.username, session.lead_id)
        try:
            handover.relay_to_managers(parent, card, text, spoken=event.from_voice)
        except NotifyError as exc:
            log.warning("handover message not relayed", extra={"reason": str(exc)})
            return [Reply(t(language, "handover_unreachable", manager_link=self._manager_link()))], None
        return [], None

    def _voice_note(self, event: Incoming) -> list[Reply]:
        """Hear the note (noted as being answered meanwhile), then handle its text like a typed one."""
        while True:
            chat = self._read(event, noted=False)
            language = _session(chat, event).language
            try:
                chat = self._note_asking(chat, event)
                break
            except _Lost:
                continue
        try:
            heard = self._voice().hear(event, language)
        except BaseException:
            self._done(event, chat)
            raise
        if not isinstance(heard, Incoming):
            self._done(event, chat)
            return [self._unheard(heard, language)]
        return self._in_chat(heard, noted=True)

    # ---- the chat's document ------------------------------------------------------------------------
    def _read(self, event: Incoming, *, noted: bool) -> ChatDocument:
        """The chat's document once no other update's step holds its lock. Raises UpdateHandled for a
        duplicate, UpdateBusy when another delivery of this update is at work (`noted`: this delivery
        noted it as being answered itself)."""
        key = str(event.chat_id)
        deadline = time.monotonic() + _WAIT_FOR_LOCK
        while True:
            found = self._store.get(SESSIONS, key)
            chat = ChatDocument(found.data, found.version) if found else ChatDocument({}, None)
            now = self._now()
            if chat.handled(event.update_id):
                raise UpdateHandled(event.update_id)
            holder = chat.lock_holder(now)
            if holder == event.update_id or (not noted and chat.asked(event.update_id, now)):
                raise UpdateBusy(event.update_id)
            if holder is None:
                return chat
            if time.monotonic() > deadline:
                raise StoreConflict("the chat stayed locked")
            time.sleep(random.uniform(0.01, 0.03))

    def _write(self, key: str, data: dict[str, Any], version: int | None) -> int | None:
        """Compare-and-set on the chat's document: its new version, or None if it was not `version`."""
        return self._store.compare_and_set(SESSIONS, key, data, version, ttl=self._retention)

    def _note_asking(self, chat: ChatDocument, event: Incoming) -> ChatDocument:
        now = self._now()
        noted = chat.with_(asking=(event.update_id, now + _ASK_LEASE.total_seconds()), now=now)
        version = self._write(str(event.chat_id), noted, chat.version)
        if version is None:
            raise _Lost
        return ChatDocument(noted, version)

    def _done(self, event: Incoming, chat: ChatDocument, change: SessionChange | None = None) -> None:
        """Note an answered update handled, with the session `change` it asks for (best effort: else its
        lease ends and a redelivery after that would be answered again). A chat forgotten meanwhile stays
        forgotten."""
        key = str(event.chat_id)
        try:
            for _ in range(10):
                session: dict[str, Any] | None = None
                if change is not None:
                    fresh = chat.session(event.chat_id)
                    change(fresh)
                    session = fresh.model_dump(mode="json")
                if self._write(key, chat.with_(session, done=event.update_id, now=self._now()), chat.version):
                    return
                found = self._store.get(SESSIONS, key)
                if found is None:
                    return
                chat = ChatDocument(found.data, found.version)
            log.warning(
                "answered update not noted: the chat kept changing", extra={"update_id": event.update_id}
            )
        except Exception as exc:
            log.warning("answered update not noted", extra={"update_id": event.update_id, "reason": str(exc)})

    def _now(self) -> float:
        return self._clock.now().timestamp() if self._clock is not None else time.time()

    def _moment(self) -> datetime:
        return datetime.fromtimestamp(self._now(), UTC)

    def _managers(self) -> Handover:
        if self._handover is None:
            raise RuntimeError("no managers' chat to hand a parent over to")
        return self._handover()

    def _manager_link(self) -> str:
        return self._scenes().settings.manager_link

    def _unheard(self, why: Unheard, language: str) -> Reply:
        """Why a voice note was not heard, in words."""
        from shared.flows.voice import Unheard

        limits = self._voice().limits
        texts = {
            Unheard.TOO_LONG: t(language, "voice_too_long", max_seconds=limits.max_seconds),
            Unheard.TOO_BIG: t(language, "voice_too_big", max_mb=limits.max_bytes // (1024 * 1024)),
            Unheard.RATE_LIMITED: t(language, "ai_rate_limited"),
            Unheard.FAILED: t(language, "voice_failed"),
        }
        return Reply(texts[why])


def _session(chat: ChatDocument, event: Incoming) -> Session:
    """The chat's session as this update sees it (in the parent's Telegram language until they chose)."""
    session = chat.session(event.chat_id)
    follow_telegram_language(session, event)
    return session


class _Claim:
    """`SceneContext.claim` for one step: takes the chat's lock, by compare-and-set on the document as
    this update read it, before the step's first effect outside the session. Losing means the chat
    changed since: nothing was done yet, so the step is run again on a fresh read."""

    def __init__(self, conversation: Conversation, chat: ChatDocument, update_id: int, key: str) -> None:
        self._conversation = conversation
        self._update_id = update_id
        self._key = key
        self.document = chat
        self.held = False

    def __call__(self) -> None:
        if self.held:
            return
        c = self._conversation
        lock = {"update_id": self._update_id, "until": c._now() + _CHAT_LEASE.total_seconds()}
        data = self.document.with_(lock=lock, now=c._now())
        version = c._write(self._key, data, self.document.version)
        if version is None:
            raise _Lost
        self.document = ChatDocument(data, version)
        self.held = True

    def release(self) -> None:
        """After a failed step: the lock is freed at once (best effort: else its lease frees it)."""
        if not self.held:
            return
        c = self._conversation
        try:
            c._write(self._key, self.document.with_(now=c._now()), self.document.version)
        except Exception as exc:
            log.warning("chat lock left to its lease", extra={"reason": str(exc)})
