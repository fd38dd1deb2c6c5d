"""Trial-lesson booking rules: which slots are offered, how they are shown, when reminders go. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from shared.domain.jobs import ReminderKind
from shared.domain.timezones import zone_city, zone_time
from shared.i18n import words


@dataclass(frozen=True)
class Slot:
    """A free slot: a calendar event whose title starts with the marker, as read at `etag`."""

    event_id: str
    start: datetime  # aware, UTC
    end: datetime
    etag: str


@dataclass(frozen=True)
class BookingRules:
    timezone: str = "Europe/Riga"
    horizon: timedelta = timedelta(days=14)
    min_notice: timedelta = timedelta(hours=3)
    self_service_cutoff: timedelta = timedelta(hours=2)
    lesson_minutes: int = 60


def bookable(slots: Sequence[Slot], now: datetime, rules: BookingRules) -> list[Slot]:
    """Slots far enough ahead and within the horizon, earliest first."""
    earliest, latest = now + rules.min_notice, now + rules.horizon
    return sorted((s for s in slots if earliest <= s.start < latest), key=lambda s: s.start)


def local_day(moment: datetime, rules: BookingRules, zone: str | None = None) -> date:
    """The day of `moment` in `zone` (the parent's), or in the academy's zone."""
    return moment.astimezone(ZoneInfo(zone or rules.timezone)).date()


def by_day(slots: Sequence[Slot], rules: BookingRules, zone: str | None = None) -> dict[date, list[Slot]]:
    days: dict[date, list[Slot]] = {}
    for slot in slots:
        days.setdefault(local_day(slot.start, rules, zone), []).append(slot)
    return days


def day_label(day: date, language: str) -> str:
    """«Пн, 1 дек» / «Mon, 1 Dec»: the names come from the catalogs."""
    weekday, month = words(language, "weekdays")[day.weekday()], words(language, "months")[day.month - 1]
    return f"{weekday}, {day.day} {month}"


def time_label(moment: datetime, rules: BookingRules) -> str:
    """Wall-clock time in the academy's zone (daylight saving included), e.g. 15:00."""
    return moment.astimezone(ZoneInfo(rules.timezone)).strftime("%H:%M")


def slot_label(moment: datetime, rules: BookingRules, zone: str | None = None, language: str = "ru") -> str:
    """A time button: «15:00», or in the parent's zone with the academy's beside it: «16:00 (15:00 Рига)»."""
    ours = time_label(moment, rules)
    if not zone or zone == rules.timezone:
        return ours
    return f"{moment.astimezone(ZoneInfo(zone)):%H:%M} ({ours} {zone_city(rules.timezone, language)})"


def when_label(moment: datetime, language: str, rules: BookingRules, zone: str | None = None) -> str:
    """Date, time and the zone as people say it: «Пн, 1 дек, 15:00 по рижскому времени»; for a parent in
    another zone, theirs first and the academy's beside it: «Пн, 1 дек, 16:00 по московскому времени;
    15:00 по рижскому времени»."""
    day = local_day(moment, rules)
    ours = f"{day_label(day, language)}, {time_label(moment, rules)} {zone_time(rules.timezone, language)}"
    if not zone or zone == rules.timezone:
        return ours
    their_day = local_day(moment, rules, zone)
    their_time = moment.astimezone(ZoneInfo(zone))
    theirs = f"{day_label(their_day, language)}, {their_time:%H:%M} {zone_time(zone, language)}"
    if their_day == day:
        ours = f"{time_label(moment, rules)} {zone_time(rules.timezone, language)}"
    return f"{theirs}; {ours}"


def reminder_times(lesson_at: datetime, now: datetime) -> list[tuple[ReminderKind, datetime]]:
    """The reminders still ahead of us (one that would fire in the past is skipped)."""
    return [
        (kind, lesson_at - kind.before_lesson)
        for kind in ReminderKind
        if lesson_at - kind.before_lesson > now
    ]


def self_service_allowed(lesson_at: datetime, now: datetime, rules: BookingRules) -> bool:
    return lesson_at - now > rules.self_service_cutoff
