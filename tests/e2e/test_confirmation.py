"""A booked lesson confirmed, or not, end to end (time moved, not waited): ✅ I'll be there under the
−24 h reminder, told to the managers' card and the Log; a lesson still unconfirmed at the −5 h reminder
puts the card back in front of the managers."""

from __future__ import annotations

from datetime import datetime, timedelta

import icalendar

from shared.i18n import t
from tests.e2e.conftest import System
from tests.e2e.test_bot_booking import keyboard_message, lesson_start, press, register

PARENT = 7003001


def booked(system: System, phone: str, email: str) -> datetime:
    start = lesson_start(system)
    system.add_free_slot(start)
    register(system, PARENT, phone, email)
    press(system, PARENT)  # the day
    press(system, PARENT)  # the time
    assert press(system, PARENT, "Подтвердить") == 200
    system.run_due()
    return start


def cards_about(system: System, text: str) -> list[str]:
    return [m for m in system.manager_messages() if text in m]


def test_a_parent_confirms_under_the_day_before_reminder(system: System) -> None:
    start = booked(system, "79165550101", "confirm@example.com")
    system.advance((start - timedelta(hours=24) - system.now()).total_seconds() + 1)
    reminder = keyboard_message(system, PARENT)
    assert "завтра пробный урок" in reminder["text"]
    labels = [b["text"] for row in reminder["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["✅ Буду", "🔁 Перенести", "✖ Отменить"]
    assert press(system, PARENT, "Буду") == 200
    assert system.bot_messages(PARENT)[-1]["text"].startswith("Спасибо! Ждём вас:")
    system.run_due()
    assert cards_about(system, t("ru", "manager_confirmed"))  # a line on the lead's card
    assert [row["event"] for row in system.sheet("Log")][-1] == "LESSON_CONFIRMED"
    system.advance(19 * 3600)  # the −5 h reminder: no second ask, nothing for the managers to chase
    last = system.bot_messages(PARENT)[-1]
    assert "Через 5 часов" in last["text"] and not last.get("reply_markup")
    system.run_due()
    assert not cards_about(system, "не подтвердил")


def test_an_unconfirmed_lesson_is_put_before_the_managers_at_the_last_reminder(system: System) -> None:
    start = booked(system, "79165550102", "unconfirmed@example.com")
    system.advance((start - timedelta(hours=5) - system.now()).total_seconds() + 1)
    system.run_due()
    last = keyboard_message(system, PARENT)
    assert "Через 5 часов" in last["text"]  # the last ask: ✅ is still there
    assert "✅ Буду" in [b["text"] for row in last["reply_markup"]["inline_keyboard"] for b in row]
    [card] = cards_about(system, "не подтвердил")
    assert card.splitlines()[-1].startswith("⚠️ Родитель не подтвердил урок")
    events = [row["event"] for row in system.sheet("Log")]
    assert {"REMINDER_5H_SENT", "LESSON_UNCONFIRMED"} <= set(events[-2:])  # the story: sent, unanswered
    assert press(system, PARENT, "Буду") == 200  # late, still welcome
    system.run_due()
    assert cards_about(system, t("ru", "manager_confirmed"))


def test_the_booked_lesson_comes_as_a_calendar_file_and_a_google_link(system: System) -> None:
    start = booked(system, "79165550103", "ics@example.com")
    messages = system.bot_messages(PARENT)
    [file_message] = [m for m in messages if "document" in m]
    assert "Готово" in messages[-1]["text"]  # the booked message, with its buttons, stays last
    [[google]] = file_message["reply_markup"]["inline_keyboard"]
    assert google["text"] == "📅 В Google Календарь" and "calendar.google.com" in google["url"]
    assert file_message["caption"] == t("ru", "ics_caption")
    document = file_message["document"]
    assert document["file_name"] == "trial-lesson.ics"
    path = system.telegram_api("getFile", file_id=document["file_id"])["file_path"]
    token = system.env["TELEGRAM_BOT_TOKEN"]
    raw = system.http.get(f"{system.stack.fakes_url['telegram']}/file/bot{token}/{path}").content
    [lesson] = icalendar.Calendar.from_ical(raw).walk("VEVENT")
    lead = system.leads().find_by(email="ics@example.com")
    assert lead is not None and lesson.decoded("DTSTART") == start == lead.lesson_at
    assert str(lesson["URL"]) == lead.zoom_link
