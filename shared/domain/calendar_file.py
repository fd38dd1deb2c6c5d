"""The trial lesson for the parent's own calendar: an iCalendar file (RFC 5545) and a Google Calendar link.
Pure.

One UID per lead: a calendar app that imported the lesson updates that event when a moved lesson's file
(a higher SEQUENCE) is opened, and removes it with the cancellation's (METHOD:CANCEL). Times are in UTC
(`...Z`), which every app shows in its own zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

_FOLD = 75  # octets per line before a continuation (RFC 5545 3.1)


@dataclass(frozen=True)
class LessonEvent:
    uid: str  # the lead's: the same event across a move and a cancellation
    start: datetime
    end: datetime
    title: str
    description: str
    url: str | None  # the Zoom link
    sequence: int  # grows with every version: the newest wins in the parent's calendar


def lesson_ics(event: LessonEvent, now: datetime, *, cancel: bool = False) -> bytes:
    """The event (or its cancellation) as an .ics file, with a reminder a day before."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//All In Academy//Trial lesson//EN",
        "CALSCALE:GREGORIAN",
        f"METHOD:{'CANCEL' if cancel else 'PUBLISH'}",
        "BEGIN:VEVENT",
        f"UID:{_text(event.uid)}",
        f"SEQUENCE:{event.sequence}",
        f"DTSTAMP:{_utc(now)}",
        f"DTSTART:{_utc(event.start)}",
        f"DTEND:{_utc(event.end)}",
        f"SUMMARY:{_text(event.title)}",
        f"DESCRIPTION:{_text(event.description)}",
        f"STATUS:{'CANCELLED' if cancel else 'CONFIRMED'}",
    ]
    if event.url:
        lines += [f"URL:{event.url}", f"LOCATION:{_text(event.url)}"]
    if not cancel:
        lines += [
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            f"DESCRIPTION:{_text(event.title)}",
            "TRIGGER:-PT24H",
            "END:VALARM",
        ]
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(_fold(line) + "\r\n" for line in lines).encode()


def google_calendar_link(event: LessonEvent) -> str:
    """Google Calendar's "add event" page, filled in."""
    query = {
        "action": "TEMPLATE",
        "text": event.title,
        "dates": f"{_utc(event.start)}/{_utc(event.end)}",
        "details": event.description,
    }
    if event.url:
        query["location"] = event.url
    return "https://calendar.google.com/calendar/render?" + urlencode(query)


def _utc(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def _text(value: str) -> str:
    """A TEXT value escaped (RFC 5545 3.3.11)."""
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continued on the next, after a space, never inside a character."""
    out: list[str] = []
    current = ""
    for char in line:
        limit = _FOLD if not out else _FOLD - 1  # a continuation starts with its space
        if len((current + char).encode()) > limit:
            out.append(current)
            current = ""
        current += char
    out.append(current)
    return "\r\n ".join(out)
