"""The assistant and voice notes inside the conversation, on fakes: routing, filters, limits, history."""

from __future__ import annotations

from datetime import timedelta

import fakeredis
import pytest

from shared.adapters.store_redis import RedisStore
from shared.bot.callbacks import AiBack, Consent, encode
from shared.bot.conversation import SESSIONS, Conversation
from shared.bot.replies import Reply
from shared.domain.conversation import Incoming, Scene, Session
from shared.flows.assistant import HISTORY, AssistantFlow
from shared.flows.lead_repository import LeadRepository
from shared.flows.rate_limit import Limit, RateLimiter
from shared.flows.voice import VoiceInput, VoiceLimits
from shared.i18n import t
from shared.knowledge import system_prompt
from tests.corpora import INJECTIONS, PRICE_QUESTIONS
from tests.factories import assistant_settings, scene_context
from tests.fakes import FixedClock, RecordingScheduler, ScriptedAssistant, ScriptedSpeech

USER = 7770001
MANAGER = "https://t.me/allin_manager"
AI_BACK = encode(AiBack())
CONSENT = encode(Consent())


class Parent:
    """One parent's chat with the whole conversation (steps, assistant, voice) on in-memory fakes."""

    def __init__(self, *, per_window: int = 10, per_day: int = 50, history_turns: int = 3) -> None:
        self.store = RedisStore(fakeredis.FakeRedis())
        self.clock = FixedClock()
        self.model = ScriptedAssistant()
        self.speech = ScriptedSpeech()
        scenes = scene_context(
            LeadRepository(self.store), RecordingScheduler(), self.clock, manager_link=MANAGER
        )
        limits = [Limit(per_window, timedelta(minutes=10)), Limit(per_day, timedelta(days=1))]
        self.scenes = scenes
        self.assistant = assistant = AssistantFlow(
            store=self.store,
            assistant=lambda: self.model,
            limiter=RateLimiter(self.store, "ai_rate", limits, self.clock),
            clock=self.clock,
            settings=assistant_settings(history_turns=history_turns),
        )
        self.voice_input = voice = VoiceInput(
            files=self.speech,
            transcriber=lambda: self.speech,
            admit=assistant.admit,
            limits=VoiceLimits(max_seconds=120, max_bytes=20 * 1024 * 1024),
        )
        self.update_id = 100
        self.conversation = Conversation(
            store=self.store,
            scenes=lambda: scenes,
            assistant=lambda: assistant,
            voice=lambda: voice,
        )

    def send(self, kind: str = "text", language_code: str = "ru", **fields: object) -> list[Reply]:
        self.update_id += 1
        event = Incoming(
            kind,  # type: ignore[arg-type]
            chat_id=USER,
            user_id=USER,
            update_id=self.update_id,
            language_code=language_code,
            **fields,  # type: ignore[arg-type]
        )
        return self.conversation.handle(event)

    def ask(self, question: str, **kw: object) -> Reply:
        [reply] = self.send(text=question, **kw)
        return reply

    def ask_ai(self, question: str) -> Reply:
        [reply] = self.send("command", text="ai", payload=question)
        return reply

    def voice(self, seconds: int = 5, size: int | None = 4000, **kw: object) -> list[Reply]:
        return self.send("voice", voice_file_id="voice-1", voice_seconds=seconds, voice_bytes=size, **kw)

    @property
    def session(self) -> Session:
        document = self.store.get(SESSIONS, str(USER))
        assert document is not None
        return Session.model_validate(document.data)

    def consent(self) -> None:
        self.send("command", text="start")
        self.send("callback", callback_data=CONSENT)

    def to_email_step(self) -> None:
        self.consent()
        self.send(text="+7 916 123-45-67")
        assert self.session.scene is Scene.EMAIL


@pytest.fixture
def parent() -> Parent:
    return Parent()


def back_button(reply: Reply) -> str | None:
    return reply.buttons[-1][-1].callback_data if reply.buttons else None


def test_a_question_before_consent_is_answered_and_back_returns_to_the_consent(parent: Parent) -> None:
    parent.send("command", text="start")
    reply = parent.ask("Как проходит пробный урок?")
    assert reply.text == "Пробный урок длится 60 минут." and back_button(reply) == AI_BACK
    assert reply.buttons[0][0].text == "↩ Вернуться"
    system, turns = parent.model.requests[0]
    assert "Пробный урок" in system and MANAGER in system and "<!--" not in system
    assert [(turn.role, turn.content) for turn in turns] == [("user", "Как проходит пробный урок?")]
    assert parent.session.scene is Scene.WELCOME and parent.session.consent_at is None
    [back] = parent.send("callback", callback_data=AI_BACK)
    assert back.buttons[0][0].callback_data == CONSENT


def test_in_a_strict_step_text_is_the_answer_unless_it_starts_with_ai(parent: Parent) -> None:
    parent.send("command", text="start")
    parent.send("callback", callback_data=CONSENT)
    parent.send(text="Какие курсы есть для 8 лет?")  # not a phone: the step asks again, no model call
    assert parent.model.requests == [] and parent.session.scene is Scene.PHONE
    reply = parent.ask_ai("Какие курсы есть для 8 лет?")
    assert reply.text == "Пробный урок длится 60 минут." and parent.session.scene is Scene.PHONE
    [back] = parent.send("callback", callback_data=AI_BACK)
    assert back.contact_button and back.text == t("ru", "ask_phone")
    parent.send(text="+7 916 123-45-67")
    assert parent.session.scene is Scene.EMAIL


def test_ai_without_a_question_explains_itself_and_long_questions_are_refused(parent: Parent) -> None:
    assert parent.ask_ai("").text == t("ru", "ai_usage")
    reply = parent.ask("а" * 1001)
    assert reply.text == t("ru", "ai_too_long", max_length=1000) and parent.model.requests == []


def test_price_and_injection_corpora_never_reach_the_model_nor_use_the_limit() -> None:
    parent = Parent(per_window=1000, per_day=1000)
    price = t("ru", "ai_price", manager_link=MANAGER)
    refusal = t("ru", "ai_injection", manager_link=MANAGER)
    for question in PRICE_QUESTIONS:
        assert parent.ask(question).text == price, question
    for question in INJECTIONS:
        assert parent.ask(question).text == refusal, question
    assert parent.model.requests == []
    assert parent.store.get("ai_rate", str(USER)) is None  # nothing counted


def test_the_rate_limit_holds_per_window_and_per_day() -> None:
    parent = Parent(per_window=3, per_day=5)
    limited = t("ru", "ai_rate_limited")
    assert [parent.ask(f"Вопрос {i}").text != limited for i in range(4)] == [True, True, True, False]
    parent.clock.advance(minutes=10)
    assert [parent.ask(f"Ещё {i}").text != limited for i in range(3)] == [True, True, False]  # 5 a day
    parent.clock.advance(hours=23, minutes=49)
    assert parent.ask("Опять").text == limited  # the first answers are 23 h 59 min old
    parent.clock.advance(minutes=1)
    assert parent.ask("Снова").text != limited
    assert len(parent.model.requests) == 6


def test_history_carries_the_last_turns_and_expires_after_a_day() -> None:
    parent = Parent(history_turns=2)
    parent.consent()
    parent.model.answers = ["Ответ 1", "Ответ 2", "Ответ 3", "Ответ 4"]
    for i in range(1, 4):
        parent.ask_ai(f"Вопрос {i}")
        parent.clock.advance(hours=1)
    parent.ask_ai("Вопрос 4")
    _, turns = parent.model.requests[-1]
    assert [turn.content for turn in turns] == ["Вопрос 2", "Ответ 2", "Вопрос 3", "Ответ 3", "Вопрос 4"]
    parent.clock.advance(hours=24)
    parent.ask_ai("Вопрос 5")
    _, turns = parent.model.requests[-1]
    assert [turn.content for turn in turns] == ["Вопрос 5"]


def test_a_violating_answer_is_replaced_and_remembered_replaced(parent: Parent) -> None:
    parent.consent()
    leak = system_prompt("ru", MANAGER).instructions.splitlines()[-1]
    parent.model.answers = ["Курс стоит 5 000 ₽ в месяц.", "Подробнее: https://evil.example/offer", leak]
    replaced = t("ru", "ai_filtered", manager_link=MANAGER)
    assert [parent.ask_ai(f"Вопрос {i}").text for i in range(3)] == [replaced] * 3
    _, turns = parent.model.requests[-1]
    assert [turn.content for turn in turns if turn.role == "assistant"] == [replaced, replaced]


def test_model_failure_gives_the_fallback_and_remembers_nothing(parent: Parent) -> None:
    parent.model.fail_next = 1
    reply = parent.ask("Как проходит урок?")
    assert reply.text == "Сейчас не могу ответить, попробуйте позже." and back_button(reply) == AI_BACK
    assert parent.store.get(HISTORY, str(USER)) is None


def test_english_parents_get_english_texts() -> None:
    parent = Parent()
    parent.model.fail_next = 1
    reply = parent.ask("How long is a lesson?", language_code="en-GB")
    assert reply.text == "I can't answer right now, please try again later."
    assert reply.buttons[0][0].text == "↩ Back"


def test_a_dictated_email_fills_the_email_step(parent: Parent) -> None:
    parent.to_email_step()
    parent.speech.transcripts = ["Мой email anna точка petrova собака gmail точка com."]
    [reply] = parent.voice()
    assert parent.session.email == "anna.petrova@gmail.com" and parent.session.scene is Scene.NAME
    assert reply.text == t("ru", "ask_name")
    assert parent.speech.transcribed == [("file_7.oga", "ru")] and parent.model.requests == []


def test_a_voice_question_is_answered_and_counted_once() -> None:
    parent = Parent(per_window=2)
    parent.speech.transcripts = ["Сколько длится урок?"]
    [reply] = parent.voice(language_code="en")
    assert reply.text == "Пробный урок длится 60 минут." and back_button(reply) == AI_BACK
    assert parent.model.requests[0][1][-1].content == "Сколько длится урок?"
    assert parent.speech.transcribed == [("file_7.oga", "en")]
    parent.ask("Ещё вопрос", language_code="en")  # the second and last place in the window
    assert parent.ask("И ещё", language_code="en").text == t("en", "ai_rate_limited")
    assert parent.voice(language_code="en")[0].text == t("en", "ai_rate_limited")
    assert parent.speech.downloads == ["voice-1"]  # the refused note was not downloaded


@pytest.mark.parametrize(
    ("seconds", "size", "key"),
    [(121, 1000, "voice_too_long"), (60, 20 * 1024 * 1024 + 1, "voice_too_big")],
)
def test_long_or_big_voice_notes_are_refused_without_downloading(
    parent: Parent, seconds: int, size: int, key: str
) -> None:
    [reply] = parent.voice(seconds=seconds, size=size)
    assert reply.text == t("ru", key, max_seconds=120, max_mb=20)
    assert parent.speech.downloads == [] and parent.store.get("ai_rate", str(USER)) is None


@pytest.mark.parametrize("failure", ["download", "transcription", "silence"])
def test_unrecognised_voice_asks_for_text(parent: Parent, failure: str) -> None:
    parent.to_email_step()
    parent.speech.fail_download = failure == "download"
    parent.speech.fail_transcription = failure == "transcription"
    [reply] = parent.voice()
    assert reply.text == "Не смог распознать. Введите текстом, пожалуйста."
    assert parent.session.scene is Scene.EMAIL and parent.session.email is None


def test_before_consent_questions_are_answered_but_not_kept(parent: Parent) -> None:
    parent.ask("Как проходит урок?")
    assert parent.store.get(HISTORY, str(USER)) is None
    parent.consent()  # now in the phone step: /ai asks, and the turn is kept
    parent.ask_ai("А сколько длится?")
    parent.ask_ai("А для какого возраста?")
    _, turns = parent.model.requests[-1]
    assert [turn.content for turn in turns] == [
        "А сколько длится?",
        "Пробный урок длится 60 минут.",
        "А для какого возраста?",
    ]


def test_a_long_voice_question_is_answered_not_refused(parent: Parent) -> None:
    parent.speech.transcripts = ["Расскажите подробнее о курсах. " * 50]  # ~1,600 characters of speech
    [reply] = parent.voice(seconds=110)
    assert reply.text == "Пробный урок длится 60 минут." and len(parent.model.requests) == 1


def test_a_dictated_name_loses_its_introduction(parent: Parent) -> None:
    parent.to_email_step()
    parent.send(text="anna@example.com")
    parent.speech.transcripts = ["Меня зовут Анна Петрова."]
    parent.voice()
    assert parent.session.name == "Анна Петрова"
