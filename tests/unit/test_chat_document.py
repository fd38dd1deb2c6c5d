"""One chat, one document: an update costs a read and a write, is handled once, and two updates of a chat
never interleave their effects (shared/bot/chat_document.py), on fakeredis with a recording wrapper."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import fakeredis
import pytest

from shared.adapters.store_redis import RedisStore
from shared.bot.callbacks import Consent, encode
from shared.bot.conversation import SESSIONS, Conversation, UpdateBusy, UpdateHandled
from shared.bot.replies import Reply
from shared.domain.conversation import Incoming, Scene
from shared.flows.assistant import AssistantFlow
from shared.flows.lead_repository import LeadRepository
from shared.flows.rate_limit import Limit, RateLimiter
from tests.factories import assistant_settings, scene_context
from tests.fakes import FixedClock, RecordingScheduler, ScriptedAssistant

USER = 8880001
CONSENT = encode(Consent())


class RecordingStore:
    """The store, with every call recorded and a hook run before the next write of the chat's document
    (another update's write landing between this update's read and write)."""

    def __init__(self) -> None:
        self.inner = RedisStore(fakeredis.FakeRedis())
        self.calls: list[str] = []
        self.before_next_write: Callable[[], None] | None = None

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def recorded(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(f"{name} {args[0]}")
            if name == "compare_and_set" and args[0] == SESSIONS and self.before_next_write is not None:
                hook, self.before_next_write = self.before_next_write, None
                hook()
            return method(*args, **kwargs)

        return recorded


class Chat:
    def __init__(self) -> None:
        self.store = RecordingStore()
        self.clock = FixedClock()
        self.model = ScriptedAssistant()
        self.scenes = scene_context(LeadRepository(self.store), RecordingScheduler(), self.clock)  # type: ignore[arg-type]
        self.registered: list[str] = []
        register = self.scenes.registration.register

        def counted(*args: Any, **kwargs: Any) -> Any:
            lead = register(*args, **kwargs)
            self.registered.append(lead.lead_id)
            return lead

        self.scenes.registration.register = counted
        limiter = RateLimiter(self.store, "ai_rate", [Limit(10, timedelta(minutes=10))], self.clock)  # type: ignore[arg-type]
        assistant = AssistantFlow(
            store=self.store,  # type: ignore[arg-type]
            assistant=lambda: self.model,
            limiter=limiter,
            clock=self.clock,
            settings=assistant_settings(),
        )
        self.conversation = Conversation(
            store=self.store,  # type: ignore[arg-type]
            scenes=lambda: self.scenes,
            assistant=lambda: assistant,
            voice=lambda: None,  # type: ignore[arg-type,return-value]
            clock=self.clock,
        )
        self.next_update = 500

    def event(self, kind: str = "text", *, update_id: int | None = None, **fields: Any) -> Incoming:
        if update_id is None:
            self.next_update += 1
            update_id = self.next_update
        return Incoming(kind, chat_id=USER, user_id=USER, update_id=update_id, language_code="ru", **fields)  # type: ignore[arg-type]

    def send(self, kind: str = "text", **fields: Any) -> list[Reply]:
        return self.conversation.handle(self.event(kind, **fields))

    def document(self) -> dict[str, Any]:
        found = self.store.inner.get(SESSIONS, str(USER))
        assert found is not None
        return found.data

    def to_name_step(self) -> None:
        self.send("command", text="start")
        self.send("callback", callback_data=CONSENT)
        self.send(text="+7 916 123-45-67")
        self.send(text="anna@example.com")
        assert self.document()["scene"] == Scene.NAME.value


@pytest.fixture
def chat() -> Chat:
    return Chat()


def test_an_ordinary_update_is_one_read_and_one_write(chat: Chat) -> None:
    chat.send("command", text="start")
    chat.store.calls.clear()
    chat.send("callback", callback_data=CONSENT)
    assert chat.store.calls == [f"get {SESSIONS}", f"compare_and_set {SESSIONS}"]
    chat.store.calls.clear()
    chat.send(text="+7 916 123-45-67")
    assert chat.store.calls == [f"get {SESSIONS}", f"compare_and_set {SESSIONS}"]
    assert chat.document()["scene"] == Scene.EMAIL.value


def test_a_redelivered_update_is_a_duplicate_and_changes_nothing(chat: Chat) -> None:
    chat.send("command", text="start")
    consent = chat.event("callback", callback_data=CONSENT)
    chat.conversation.handle(consent)
    before = chat.document()
    with pytest.raises(UpdateHandled):
        chat.conversation.handle(consent)
    assert chat.document() == before and consent.update_id in before["updates"]


def test_a_step_whose_write_loses_runs_again_on_the_fresh_session(chat: Chat) -> None:
    chat.send("command", text="start")
    # /language's button lands between the consent's read and its write: both changes are kept.
    chat.store.before_next_write = lambda: chat.send("callback", callback_data="lang:en")
    chat.send("callback", callback_data=CONSENT)
    document = chat.document()
    assert document["language"] == "en" and document["consent_at"] and document["scene"] == "phone"
    assert len(document["updates"]) == 3


def test_an_effect_waits_for_its_claim_and_happens_once(chat: Chat) -> None:
    chat.to_name_step()
    # Another update of the chat is saved between this one's read and its claim: the claim loses before
    # anything was registered, and the step runs again on the fresh document.
    chat.store.before_next_write = lambda: chat.send("command", text="language")
    chat.store.calls.clear()
    replies = chat.send(text="Анна")
    assert len(chat.registered) == 1 and chat.document()["lead_id"] == chat.registered[0]
    assert any("Анна" in r.text for r in replies)
    writes = [c for c in chat.store.calls if c == f"compare_and_set {SESSIONS}"]
    assert len(writes) == 4  # the other update's; the lost claim; the claim; the step saved with it
    assert "lock" not in chat.document()


def test_a_redelivery_of_an_update_holding_the_lock_is_busy(chat: Chat) -> None:
    chat.to_name_step()
    name = chat.event(text="Анна")
    redelivered: list[BaseException] = []

    def redeliver() -> None:
        try:
            chat.conversation.handle(name)
        except (UpdateBusy, UpdateHandled) as exc:
            redelivered.append(exc)

    register = chat.scenes.registration.register
    chat.scenes.registration.register = lambda *a, **kw: (redeliver(), register(*a, **kw))[1]
    chat.conversation.handle(name)
    assert [type(e) for e in redelivered] == [UpdateBusy] and len(chat.registered) == 1
    with pytest.raises(UpdateHandled):
        chat.conversation.handle(name)


def test_another_update_waits_for_the_lock_and_a_dead_holders_lock_is_taken_over(chat: Chat) -> None:
    chat.send("command", text="start")
    document = chat.store.inner.get(SESSIONS, str(USER))
    assert document is not None
    now = chat.clock.now().timestamp()
    locked = {**document.data, "lock": {"update_id": 1, "until": now + 60}}
    chat.store.inner.replace(SESSIONS, str(USER), locked, document.version)
    freed = threading.Timer(0.2, lambda: chat.store.inner.put(SESSIONS, str(USER), document.data))
    freed.start()
    chat.send("callback", callback_data=CONSENT)  # waits for the holder, then goes on
    freed.join()
    assert chat.document()["scene"] == "phone"

    current = chat.store.inner.get(SESSIONS, str(USER))
    assert current is not None
    dead = {**current.data, "lock": {"update_id": 2, "until": now + 60}}
    chat.store.inner.replace(SESSIONS, str(USER), dead, current.version)
    chat.clock.advance(seconds=61)  # its lease has ended
    chat.send(text="+7 916 123-45-67")
    assert chat.document()["scene"] == "email" and "lock" not in chat.document()


def test_a_question_is_noted_while_answered_and_handled_once(chat: Chat) -> None:
    chat.send("command", text="start")
    question = chat.event(text="Сколько длится урок?")
    during: list[BaseException] = []

    model_answer = chat.model.answer

    def answer(system_prompt: str, turns: Sequence[Any]) -> str:
        try:  # Telegram delivers the question again while the model thinks
            chat.conversation.handle(question)
        except (UpdateBusy, UpdateHandled) as exc:
            during.append(exc)
        return model_answer(system_prompt, turns)

    chat.model.answer = answer  # type: ignore[method-assign]
    [reply] = chat.conversation.handle(question)
    assert reply.text == "Пробный урок длится 60 минут."
    assert [type(e) for e in during] == [UpdateBusy]
    assert "asking" not in chat.document() and question.update_id in chat.document()["updates"]
    with pytest.raises(UpdateHandled):
        chat.conversation.handle(question)
