"""The managers' desk on fakes: how managers name a lead, the card, the answers to nonsense."""

from __future__ import annotations

from datetime import UTC, datetime

import fakeredis
import pytest

from shared.adapters.store_redis import RedisStore
from shared.bot.desk import DeskSettings, ManagerDesk
from shared.domain.desk import LeadQuery, lead_card, parse_lead_query
from shared.domain.leads import Lead, LeadStatus, Source
from shared.flows.lead_repository import LeadRepository

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
    assert "Статус: SCHEDULED" in card and "Урок: 07.12.2026 17:00 (Europe/Riga)" in card
    assert "Zoom: https://zoom.us/j/123" in card and "Телефон: +79161234567" in card
    english = lead_card(lead(status=LeadStatus.SCHEDULED, lesson_at=booked.lesson_at), "Europe/Riga", "en")
    assert "Status: SCHEDULED" in english and "Zoom: not created" in english
    assert "Lesson" not in lead_card(lead(), "Europe/Riga", "en")


class TestDesk:
    @pytest.fixture
    def desk(self) -> ManagerDesk:
        leads = LeadRepository(RedisStore(fakeredis.FakeRedis()))
        leads.upsert(
            email="anna@example.com",
            phone="+79161234567",
            create=lambda new_id: lead(lead_id=new_id),
            merge=lambda known: known,
        )
        return ManagerDesk(leads, DeskSettings("ru", "Europe/Riga", "RU", "https://sheet.example/edit"))

    def test_lead_by_each_contact_and_id(self, desk: ManagerDesk) -> None:
        for typed in ("+7 916 123 45 67", "ANNA@example.com"):
            [card] = desk.command("lead", typed)
            assert "Анна Петрова" in card.text and [[b.url for b in row] for row in card.buttons] == [
                ["https://sheet.example/edit"]
            ]
        stored = desk.leads.find_by(email="anna@example.com")
        assert stored is not None
        [by_id] = desk.command("lead", stored.lead_id)
        assert "Анна Петрова" in by_id.text

    def test_clear_answers_to_nonsense(self, desk: ManagerDesk) -> None:
        assert "/lead +7" in desk.command("lead", "")[0].text
        assert "/lead +7" in desk.command("lead", "Анна")[0].text
        assert desk.command("lead", "+7 999 000-00-00")[0].text == "Лид не найден: +7 999 000-00-00"
        assert "/lead" in desk.command("today", "")[0].text  # not built yet: the commands there are
