"""The lesson's .ics file, read back as calendar apps read it (icalendar), and the Google Calendar link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import icalendar

from shared.domain.calendar_file import LessonEvent, google_calendar_link, lesson_ics

NOW = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)
# Riga leaves summer time on 25 October 2026: a lesson at 15:00 there is 12:00 UTC before, 13:00 after.
AFTER_DST = datetime(2026, 10, 26, 13, 0, tzinfo=UTC)


def event(**changes: object) -> LessonEvent:
    fields: dict[str, object] = {
        "uid": "6e8482072d04b24fa830@allinacademy",
        "start": AFTER_DST,
        "end": AFTER_DST + timedelta(hours=1),
        "title": "Пробный урок All In Academy",
        "description": "Zoom: https://zoom.us/j/123?pwd=abc\nПеренести или отменить: в боте, ок; да",
        "url": "https://zoom.us/j/123?pwd=abc",
        "sequence": 1_800_000_000,
    }
    return LessonEvent(**{**fields, **changes})  # type: ignore[arg-type]


def test_the_file_holds_the_lesson_in_utc_with_a_reminder_a_day_before() -> None:
    calendar = icalendar.Calendar.from_ical(lesson_ics(event(), NOW))
    assert calendar["METHOD"] == "PUBLISH" and calendar["VERSION"] == "2.0"
    [lesson] = calendar.walk("VEVENT")
    assert lesson.decoded("DTSTART") == AFTER_DST and lesson.decoded("DTEND") == AFTER_DST + timedelta(
        hours=1
    )
    assert lesson.decoded("DTSTART").tzinfo is not None  # UTC, not floating
    assert str(lesson["SUMMARY"]) == "Пробный урок All In Academy"
    assert str(lesson["DESCRIPTION"]) == event().description  # escaped and folded, read back whole
    assert str(lesson["URL"]) == "https://zoom.us/j/123?pwd=abc" and int(lesson["SEQUENCE"]) == 1_800_000_000
    [alarm] = lesson.walk("VALARM")
    assert alarm.decoded("TRIGGER") == -timedelta(hours=24)


def test_lines_are_folded_at_75_octets_with_crlf() -> None:
    raw = lesson_ics(event(description="Очень длинное описание урока. " * 10), NOW)
    lines = raw.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines) and not raw.replace(b"\r\n", b"").count(b"\n")
    assert any(line.startswith(b" ") for line in lines)
    raw.decode()  # never split inside a character


def test_a_cancellation_names_the_same_event() -> None:
    calendar = icalendar.Calendar.from_ical(lesson_ics(event(sequence=1_800_000_500), NOW, cancel=True))
    [lesson] = calendar.walk("VEVENT")
    assert calendar["METHOD"] == "CANCEL" and lesson["STATUS"] == "CANCELLED"
    assert str(lesson["UID"]) == event().uid and not lesson.walk("VALARM")


def test_the_google_calendar_link_is_filled_in() -> None:
    query = parse_qs(urlsplit(google_calendar_link(event())).query)
    assert query["action"] == ["TEMPLATE"] and query["dates"] == ["20261026T130000Z/20261026T140000Z"]
    assert query["text"] == ["Пробный урок All In Academy"] and query["location"] == [event().url]
