"""Nudges end to end (time moved, not waited): a parent who registered and did not book is nudged an hour
later, presses the nudge's button and is offered the days; one who stopped at the phone is nudged too."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from shared.i18n import t
from tests.e2e.conftest import System
from tests.e2e.test_bot_booking import keyboard_message, lesson_start, press, register

PARENT = 7005001


def daytime(system: System) -> None:
    """Move the shared clock to 10:00 in Riga, so the nudges due in the next hours are not quiet ones."""
    local = system.now().astimezone(ZoneInfo("Europe/Riga"))
    ten = local.replace(hour=10, minute=0, second=0, microsecond=0)
    system.advance(((ten if ten > local else ten + timedelta(days=1)) - local).total_seconds())


def test_a_registered_parent_who_did_not_book_is_nudged_and_books(system: System) -> None:
    daytime(system)
    system.add_free_slot(lesson_start(system, days=3))
    register(system, PARENT, "79165550301", "nudge@example.com")
    before = len(system.bot_messages(PARENT))
    system.advance(59 * 60)
    assert len(system.bot_messages(PARENT)) == before
    system.advance(2 * 60)
    nudge = system.bot_messages(PARENT)[-1]
    assert nudge["text"] == t("ru", "nudge_book_1")
    [[button]] = nudge["reply_markup"]["inline_keyboard"]
    assert button["text"] == "📅 Выбрать время"
    assert press(system, PARENT, "Выбрать время") == 200
    assert "Выберите день" in keyboard_message(system, PARENT)["text"]
    press(system, PARENT)  # the day
    press(system, PARENT)  # the time
    assert press(system, PARENT, "Подтвердить") == 200
    count = len(system.bot_messages(PARENT))
    system.advance(30 * 3600)  # booked: no second nudge (the −24 h reminder comes, as it should)
    assert not any(m.get("text") == t("ru", "nudge_book_2") for m in system.bot_messages(PARENT)[count:])


def test_a_parent_who_stopped_at_the_phone_is_nudged_back_to_it(system: System) -> None:
    daytime(system)
    system.parent_sends("command", PARENT, command="/start")
    press(system, PARENT, "Согласен")
    system.advance(61 * 60)
    system.run_due()  # the chain looks again on the minute after the hour since the consent
    nudge = system.bot_messages(PARENT)[-1]
    assert nudge["text"] == t("ru", "nudge_register_1")
    assert press(system, PARENT, "Продолжить") == 200
    assert system.bot_messages(PARENT)[-1]["text"] == t("ru", "ask_phone")
