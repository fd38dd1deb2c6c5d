"""One update of a parent's chat: the scenes under the chat's lock, the assistant and voice around them.

The scenes (shared/bot/scenes) run under the chat's lock, loading and saving only that chat's session, so
a button and a message of one parent arriving together are applied one after the other. The slow, paid
parts (transcribing a voice note, asking the model) run outside the lock: a parent's buttons stay
responsive while the assistant thinks, and the rate limit, not the lock, is what bounds the cost.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from shared.bot import scenes
from shared.bot.callbacks import AiBack
from shared.bot.replies import Button, Reply
from shared.bot.scenes.base import SceneContext, follow_telegram_language
from shared.domain.conversation import Incoming, Session, assistant_question
from shared.flows.locks import hold_locks
from shared.i18n import t
from shared.ports import Clock, StateStore

if TYPE_CHECKING:  # built on first use: a /start pays neither for the AI filters nor for the model
    from shared.flows.assistant import AssistantFlow
    from shared.flows.voice import Unheard, VoiceInput

SESSIONS = "sessions"
CHAT_LOCKS = "chat_locks"
# Longer than the slowest step under the lock (store and Cloud Tasks calls, the Calendar when booking).
_CHAT_LEASE = timedelta(seconds=60)


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
    ) -> None:
        self._store = store
        self._clock = clock
        self._retention = retention  # a chat's session expires after this long without a message
        self._scenes = scenes
        self._assistant = assistant
        self._voice = voice

    def handle(self, event: Incoming) -> list[Reply]:
        """What to send back for `event`."""
        if event.kind == "voice":
            language = self._language(event)
            heard = self._voice().hear(event, language)
            if not isinstance(heard, Incoming):
                return [self._unheard(heard, language)]
            event = heard
        key = str(event.chat_id)
        with hold_locks(self._store, CHAT_LOCKS, [key], lease=_CHAT_LEASE, clock=self._clock):
            stored, session = self._session(event)
            question = assistant_question(session, event)
            turn = None if question is not None else scenes.advance(self._scenes(), session, event)
            replies = turn.replies if turn else []
            if turn is not None and turn.forget_session:
                self._store.delete(SESSIONS, key)
            elif (changed := session.model_dump(mode="json")) != stored:  # a question changes nothing
                self._store.put(SESSIONS, key, changed, ttl=self._retention)
        if question is not None:
            answer = self._assistant().answer(
                event.chat_id,
                question,
                session.language,
                admitted=event.from_voice,
                # Before consenting, a parent's messages are answered but not kept.
                remember=session.consent_at is not None,
            )
            back = Button(t(session.language, "ai_back"), AiBack())
            replies.append(Reply(answer, buttons=[[back]]))
        return replies

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

    def _session(self, event: Incoming) -> tuple[dict[str, Any] | None, Session]:
        """The chat's session as stored (None: new chat) and as this update sees it."""
        document = self._store.get(SESSIONS, str(event.chat_id))
        session = Session.model_validate(document.data) if document else Session(chat_id=event.chat_id)
        follow_telegram_language(session, event)
        return (document.data if document else None), session

    def _language(self, event: Incoming) -> str:
        """The parent's language for a voice note, read without the lock (a stale read is harmless)."""
        return self._session(event)[1].language
