"""The managers' desk on fakes: how managers name a lead, the card, the answers to nonsense."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import fakeredis
import pytest

from shared.adapters.store_redis import RedisStore
from shared.bot.callbacks import Mark
from shared.bot.desk import DeskSettings, ManagerDesk, Pressed
from shared.domain.desk import LeadQuery, lead_card, parse_lead_query
from shared.domain.leads import Lead, LeadStatus, Source
from shared.flows.crm_flush import FlushRequests
from shared.flows.lead_repository import LeadRepository
from shared.flows.marks import Marks
from shared.ports import CalendarUnavailable, Lesson
from tests.fakes import FixedClock, RecordingScheduler

LEAD_ID = "0123456789abcdef0123"


@pytest.mark.parametrize(
    ("typed", "query"),
    [
        ("+7 916 123-45-67", LeadQuery("phone", "+79161234567")),
        ("8 (916) 123 45 67", LeadQuery("phone", "+79161234567")),
        ("Anna.Petrova@Example.COM", LeadQuery("email", "anna.petrova@example.com")),
        (f"  {LEAD_ID} ", LeadQuery("id", LEAD_ID)),
        ("Анна Петрова", None),  # the store finds parents by their contacts, not by name
        ("12345", None),
        ("anna@", None),
        ("+7 000", None),
        ("", None),
    ],
)
def test_a_lead_is_named_by_phone_email_or_id(typed: str, query: LeadQuery | None) -> None:
    assert parse_lead_query(typed, "RU") == query


def lead(**fields: object) -> Lead:
    now = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    values: dict[str, object] = {
        "lead_id": LEAD_ID,
        "created_at": now,
        "updated_at": now,
        "source": Source.TILDA,
        "name": "Анна Петрова",
        "phone": "+79161234567",
        "email": "anna@example.com",
        "child_age": "8",
        "utm_source": "instagram",
        **fields,
    }
    return Lead(**values)  # type: ignore[arg-type]


def test_the_card_shows_the_lesson_in_the_academys_time_and_its_zoom_link() -> None:
    booked = lead(
        status=LeadStatus.SCHEDULED,
        lesson_at=datetime(2026, 12, 7, 15, 0, tzinfo=UTC),
        zoom_link="https://zoom.us/j/123",
    )
    card = lead_card(booked, "Europe/Riga", "ru")
    assert "Статус: SCHEDULED" in card and "Урок: 07.12.2026 17:00 по рижскому времени" in card
    assert "Zoom: https://zoom.us/j/123" in card and "Телефон: +79161234567" in card
    english = lead_card(lead(status=LeadStatus.SCHEDULED, lesson_at=booked.lesson_at), "Europe/Riga", "en")
    assert "Status: SCHEDULED" in english and "Zoom: not created" in english
    assert "Lesson" not in lead_card(lead(), "Europe/Riga", "en")


class TestDesk:
    @pytest.fixture
    def desk(self) -> ManagerDesk:
        store = RedisStore(fakeredis.FakeRedis())
        leads = LeadRepository(store, retention=timedelta(days=365))
        leads.upsert(
            email="anna@example.com",
            phone="+79161234567",
            create=lambda new_id: lead(lead_id=new_id),
            merge=lambda known: known,
        )
        clock = FixedClock(datetime(2026, 12, 4, 9, 0, tzinfo=UTC))
        flushes = FlushRequests(store, RecordingScheduler(), clock, timedelta(seconds=5))
        marks = Marks(store, leads, flushes, clock)
        settings = DeskSettings("ru", "Europe/Riga", "RU", "https://sheet.example/edit", frozenset({7}))
        return ManagerDesk(leads, lambda: marks, settings, clock=clock)

    @staticmethod
    def stored(desk: ManagerDesk) -> Lead:
        found = desk.leads.find_by(email="anna@example.com")
        assert found is not None
        return found

    def test_lead_by_each_contact_and_id(self, desk: ManagerDesk) -> None:
        for typed in ("+7 916 123 45 67", "ANNA@example.com", self.stored(desk).lead_id):
            [card] = desk.command("lead", typed)
            assert "Анна Петрова" in card.text
            assert [[b.text for b in row] for row in card.buttons] == [
                ["📞 Дозвонились", "🔕 Не дозвонились"],
                ["📄 Открыть CRM"],
            ]

    def test_clear_answers_to_nonsense(self, desk: ManagerDesk) -> None:
        assert "/lead +7" in desk.command("lead", "")[0].text
        assert "/lead +7" in desk.command("lead", "Анна")[0].text
        assert desk.command("lead", "+7 999 000-00-00")[0].text == "Лид не найден: +7 999 000-00-00"
        assert "/today" in desk.command("nonsense", "")[0].text  # the commands there are
        assert desk.command("stats", "")[0].text == "Цифр пока нет: воронка считается по CRM раз в 15 минут."
        for days in ("0", "неделя", "-3", "367", "7 8"):
            assert "/stats 7" in desk.command("stats", days)[0].text

    def test_a_press_marks_the_lead_once_and_redraws_the_card(self, desk: ManagerDesk) -> None:
        lead_id = self.stored(desk).lead_id
        pressed = desk.press(Mark("CALLED", lead_id), "Ольга (@olga)", "q1")
        assert pressed.answer == "📞 Дозвонились" and pressed.card is not None
        assert (
            "Статус: CALLED" in pressed.card.text
            and "Отметил(а): Ольга (@olga), 04.12.2026 11:00" in pressed.card.text
        )
        again = desk.press(Mark("CALLED", lead_id), "Ольга (@olga)", "q2")  # a double press
        assert again.answer == pressed.answer and self.stored(desk).status is LeadStatus.CALLED
        records = desk.leads._store.keys("outbox", lead_id)  # type: ignore[attr-defined]
        assert records == [f"{lead_id}-crm_log-mark-q1", f"{lead_id}-crm_row-mark-q1"]  # reported once
        assert desk.may_press(7) and not desk.may_press(8)
        redis = desk.leads._store._redis  # type: ignore[attr-defined]
        assert redis.pttl(f"leads:{lead_id}") > 364 * 86_400_000  # the mark keeps the lead's expiry

    def test_attendance_waits_for_the_lesson_and_stale_cards_are_redrawn(self, desk: ManagerDesk) -> None:
        lesson = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
        lead_id = self.stored(desk).lead_id
        desk.leads.update(
            lead_id, lambda x: x.model_copy(update={"status": LeadStatus.SCHEDULED, "lesson_at": lesson})
        )
        [card] = desk.command("lead", lead_id)
        assert [b.text for b in card.buttons[0]] == ["✅ Был на уроке", "❌ Не пришёл"]  # pressed after it
        stale = desk.press(Mark("CALLED", lead_id), "Ольга", "q3")  # an older card of the lead
        assert stale.answer == "Лид уже в другом статусе: карточка обновлена." and stale.card is not None
        assert [b.text for b in stale.card.buttons[0]] == ["✅ Был на уроке", "❌ Не пришёл"]
        early = desk.press(Mark("ATTENDED", lead_id), "Ольга", "q4")
        assert early.answer == "Урок ещё не начался: отметьте посещение после него."
        assert self.stored(desk).status is LeadStatus.SCHEDULED
        desk.clock.advance(hours=3)  # type: ignore[attr-defined]
        assert desk.press(Mark("NO_SHOW", lead_id), "Ольга", "q5").answer == "❌ Не пришёл"
        # A mistake is corrected with the other button; each press is reported.
        assert desk.press(Mark("ATTENDED", lead_id), "Ирина", "q6").answer == "✅ Был на уроке"
        assert self.stored(desk).status is LeadStatus.ATTENDED and self.stored(desk).marked_by == "Ирина"

    def test_a_press_on_an_erased_lead(self, desk: ManagerDesk) -> None:
        lead = self.stored(desk)
        desk.leads.forget(lead)
        assert desk.press(Mark("CALLED", lead.lead_id), "Ольга", "q6") == Pressed(
            "Этого лида больше нет (данные удалены).", None
        )


class DownCalendar:
    def lessons(self, start: datetime, end: datetime) -> list[Lesson]:
        raise CalendarUnavailable("calendar 503")


class OneLesson:
    def lessons(self, start: datetime, end: datetime) -> list[Lesson]:
        return [Lesson(datetime(2026, 12, 4, 15, 0, tzinfo=UTC), "Педсовет", None)]


def test_lessons_without_a_calendar_or_with_it_down_or_not_ours() -> None:
    desk = ManagerDesk(
        LeadRepository(RedisStore(fakeredis.FakeRedis())),
        lambda: None,
        DeskSettings("ru", "Europe/Riga", "RU"),
    )  # type: ignore[arg-type,return-value]
    assert "GOOGLE_CALENDAR_ID" in desk.command("today", "")[0].text
    desk.clock = FixedClock(datetime(2026, 12, 4, 9, 0, tzinfo=UTC))
    desk.calendar = DownCalendar
    assert desk.command("week", "")[0].text == "Календарь сейчас недоступен, попробуйте через минуту."
    desk.calendar = OneLesson
    assert desk.command("today", "")[0].text == "📅 Уроки сегодня (по рижскому времени):\n17:00 — Педсовет"
