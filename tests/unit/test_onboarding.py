"""The onboarding conversation on fakes: scenes, validation, linking to Tilda leads, chain cancellation."""

from __future__ import annotations

from datetime import timedelta

import fakeredis
import pytest

from shared.adapters.store_redis import RedisStore
from shared.bot import scenes
from shared.bot.callbacks import Consent, encode
from shared.domain.conversation import Incoming, Scene, Session
from shared.domain.jobs import ChainStep, Step, chain_steps
from shared.domain.leads import LeadStatus, Source
from shared.domain.tilda import TildaFields, parse_submission
from shared.flows.crm_flush import FlushRequests
from shared.flows.intake import Intake
from shared.flows.lead_repository import LeadRepository
from tests.factories import scene_context, tilda_form
from tests.fakes import FixedClock, RecordingScheduler

USER = 5550001
CONSENT = encode(Consent())


class Chat:
    def __init__(self) -> None:
        self.store = RedisStore(fakeredis.FakeRedis())
        self.leads = LeadRepository(self.store)
        self.scheduler = RecordingScheduler()
        self.clock = FixedClock()
        self.scenes = scene_context(self.leads, self.scheduler, self.clock, video_note="video-note-file-id")
        self.session = Session(chat_id=USER)

    def send(self, kind: str = "text", language_code: str = "ru", **fields: object):
        event = Incoming(
            kind, chat_id=USER, user_id=USER, username="anna_p", language_code=language_code, **fields
        )  # type: ignore[arg-type]
        return scenes.advance(self.scenes, self.session, event).replies

    def start(self, payload: str = "", **kw: object):
        return self.send("command", text="start", payload=payload, **kw)

    def consent(self):
        return self.send("callback", callback_data=CONSENT)

    def tilda_lead(self, **form: str | None) -> str:
        submission = parse_submission(tilda_form(**form), TildaFields(), "RU")
        flushes = FlushRequests(self.store, self.scheduler, self.clock, timedelta(seconds=5))
        intake = Intake(self.store, self.leads, self.scheduler, self.clock, flushes, timedelta(minutes=30))
        result = intake.accept(submission)
        assert result.lead_id
        return result.lead_id


@pytest.fixture
def chat() -> Chat:
    return Chat()


def test_full_registration_creates_an_activated_bot_lead(chat: Chat) -> None:
    welcome = chat.start()
    assert "All In Academy" in welcome[0].text and welcome[1].video_note == "video-note-file-id"
    assert welcome[-1].buttons[0][0].callback_data == CONSENT
    assert welcome[-1].buttons[1][0].url == "https://allinacademy.example/privacy"
    ask_phone = chat.consent()
    assert chat.session.consent_at == chat.clock.now() and chat.session.consent_version == "2026-11"
    assert ask_phone[0].contact_button
    chat.send("contact", contact_phone="79161234567", contact_user_id=USER)
    assert chat.session.phone == "+79161234567" and chat.session.scene is Scene.EMAIL
    chat.send(text="Anna@Example.com")
    done = chat.send(text="Анна")
    assert "Анна" in done[0].text and chat.session.scene is Scene.REGISTERED
    lead = chat.leads.get(chat.session.lead_id or "")
    assert lead is not None
    assert (lead.source, lead.status, lead.bot_activated, lead.tg_id, lead.tg_username) == (
        Source.DIRECT_BOT,
        LeadStatus.ACTIVATED,
        True,
        USER,
        "anna_p",
    )
    assert (lead.phone, lead.email, lead.name) == ("+79161234567", "anna@example.com", "Анна")
    [sync] = [job for job in chat.scheduler.jobs.values() if job.payload["step"] == "sync"]
    assert sync.payload["event"] == "activated"


def test_someone_elses_contact_is_refused(chat: Chat) -> None:
    chat.start()
    chat.consent()
    reply = chat.send("contact", contact_phone="79161234567", contact_user_id=USER + 1)
    assert "чужой" in reply[0].text and chat.session.phone is None


@pytest.mark.parametrize("text", ["12", "not a number", "+7 000"])
def test_invalid_phone_asks_again(chat: Chat, text: str) -> None:
    chat.start()
    chat.consent()
    assert "номер" in chat.send(text=text)[0].text and chat.session.scene is Scene.PHONE


def test_invalid_email_and_overlong_name_ask_again(chat: Chat) -> None:
    chat.start()
    chat.consent()
    chat.send(text="+7 916 123-45-67")
    assert "ошибка" in chat.send(text="anna@")[0].text and chat.session.scene is Scene.EMAIL
    chat.send(text="anna@example.com")
    assert "100" in chat.send(text="А" * 10_000)[0].text and chat.session.scene is Scene.NAME


def test_a_sticker_before_consent_repeats_the_consent_question(chat: Chat) -> None:
    # (free text before consent is a question for the assistant: see test_assistant.py)
    chat.start()
    replies = chat.send("other")
    assert replies[-1].buttons[0][0].callback_data == CONSENT and chat.session.phone is None


def test_known_tilda_parent_is_linked_not_duplicated(chat: Chat) -> None:
    tilda_id = chat.tilda_lead()
    chat.start()
    chat.consent()
    chat.send(text="+7 916 123-45-67")  # the phone from the form
    chat.send(text="new@example.com")
    chat.send(text="Анна")
    assert chat.session.lead_id == tilda_id
    lead = chat.leads.get(tilda_id)
    assert lead is not None and lead.bot_activated and lead.status is LeadStatus.ACTIVATED
    assert lead.source is Source.TILDA and lead.email == "anna.petrova@example.com"  # the known email stays
    assert ChainStep(step=Step.EMAIL1, lead_id=tilda_id).task_name() in chat.scheduler.cancelled


def test_deep_link_links_at_once_and_skips_known_answers(chat: Chat) -> None:
    tilda_id = chat.tilda_lead()
    lead = chat.leads.get(tilda_id)
    assert lead is not None
    welcome = chat.start(payload=lead.link_token)
    assert "Анна Петрова" in welcome[0].text
    activated = chat.leads.get(tilda_id)
    assert activated is not None and activated.bot_activated and activated.tg_id == USER
    assert {step.task_name() for step in chain_steps(tilda_id)} <= set(chat.scheduler.cancelled)
    done = chat.consent()  # phone, email and name are known: nothing is asked twice
    assert chat.session.scene is Scene.REGISTERED and "Анна Петрова" in done[0].text


def test_unknown_deep_link_token_starts_normally(chat: Chat) -> None:
    replies = chat.start(payload="forged-token")
    assert replies[-1].buttons[0][0].callback_data == CONSENT and chat.session.lead_id is None


def test_language_follows_telegram_and_language_command(chat: Chat) -> None:
    assert "Hello" in chat.start(language_code="en")[0].text
    chat.send("callback", callback_data="lang:ru", language_code="en")
    assert chat.session.language == "ru"
    assert "Здравствуйте" in chat.start(language_code="en")[0].text  # the choice sticks


def test_stale_button_is_answered_without_changing_the_step(chat: Chat) -> None:
    chat.start()
    chat.consent()
    chat.send(text="+79161234567")
    reply = chat.consent()  # the old consent button pressed again
    assert chat.session.scene is Scene.EMAIL and reply[0].text


def test_start_again_after_registering_saves_nothing_new(chat: Chat) -> None:
    chat.start()
    chat.consent()
    chat.send(text="+79161234567")
    chat.send(text="anna@example.com")
    chat.send(text="Анна")
    jobs = dict(chat.scheduler.jobs)
    replies = chat.start()
    assert chat.scheduler.jobs == jobs and chat.session.scene is Scene.REGISTERED
    assert "менеджер" in replies[-1].text.lower()


def test_deep_link_then_consent_tells_the_managers_once(chat: Chat) -> None:
    tilda_id = chat.tilda_lead()
    lead = chat.leads.get(tilda_id)
    assert lead is not None
    chat.start(payload=lead.link_token)
    chat.consent()
    activations = [j for j in chat.scheduler.jobs.values() if j.payload.get("event") == "activated"]
    assert len(activations) == 1
