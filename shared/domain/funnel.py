"""The trial-lesson funnel: how many leads each channel brings and how far they get. Pure.

Counted from the CRM's Leads rows (the sheet keeps every lead, a forgotten parent's as a blanked DELETED
row, and shows what managers changed, their manager_status PAID included), by cohort: a lead counts in
the week (or day) it arrived, in the academy's zone, however late it booked. A channel is where the lead
came from: the bot itself, or the landing page with its UTM source and campaign.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from shared.domain.leads import CellValue, LeadStatus, Source

_BOOKED = {LeadStatus.SCHEDULED, LeadStatus.CANCELLED, LeadStatus.ATTENDED, LeadStatus.NO_SHOW}
FUNNEL_COLUMNS = (
    "week",
    "source",
    "utm_source",
    "utm_campaign",
    "leads",
    "activated",
    "booked",
    "attended",
    "no_show",
    "paid",  # the managers' manager_status PAID
    "activated_%",  # of the leads
    "booked_%",  # of the activated
    "attended_%",  # of the booked
    "no_show_%",  # of the booked
    "paid_%",  # of the leads: which ads bring paying families
)


@dataclass
class Counts:
    leads: int = 0
    activated: int = 0  # reached the bot
    booked: int = 0  # booked a trial lesson (and may have cancelled since)
    attended: int = 0
    no_show: int = 0
    paid: int = 0  # the managers marked it PAID (manager_status)

    def add(self, other: Counts) -> None:
        for field in fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))

    def as_dict(self) -> dict[str, int]:
        return {field.name: getattr(self, field.name) for field in fields(self)}


@dataclass(frozen=True, order=True)
class Channel:
    source: str
    utm_source: str = ""
    utm_campaign: str = ""

    @property
    def key(self) -> str:
        return "|".join((self.source, self.utm_source, self.utm_campaign))

    @classmethod
    def from_key(cls, key: str) -> Channel:
        source, utm_source, utm_campaign = (key.split("|") + ["", ""])[:3]
        return cls(source, utm_source, utm_campaign)

    def label(self) -> str:
        return " / ".join(part for part in (self.source, self.utm_source, self.utm_campaign) if part)


def lead_counts(row: Mapping[str, object]) -> Counts | None:
    """What one Leads row adds to the funnel (None: not a lead's row, e.g. a blank line)."""
    if not str(row.get("lead_id") or "").strip():
        return None
    try:
        status: LeadStatus | None = LeadStatus(str(row.get("status") or "").strip().upper())
    except ValueError:
        status = None  # a manager's own word in the status column
    activated = (
        str(row.get("bot_activated") or "").strip().upper() == "TRUE"
        or bool(str(row.get("tg_id") or "").strip())
        or str(row.get("source") or "") == Source.DIRECT_BOT.value
    )
    booked = status in _BOOKED or bool(str(row.get("lesson_at") or "").strip())
    return Counts(
        leads=1,
        activated=int(activated or booked),
        booked=int(booked),
        attended=int(status is LeadStatus.ATTENDED),
        no_show=int(status is LeadStatus.NO_SHOW),
        paid=int(str(row.get("manager_status") or "").strip().upper() == "PAID"),
    )


def channel_of(row: Mapping[str, object]) -> Channel:
    source = str(row.get("source") or "").strip() or "?"
    return Channel(
        source, str(row.get("utm_source") or "").strip(), str(row.get("utm_campaign") or "").strip()
    )


def arrival_day(row: Mapping[str, object], timezone: str) -> date | None:
    """The day the lead arrived, in the academy's zone (None: no readable creation time)."""
    try:
        created = datetime.fromisoformat(str(row.get("created_at") or "").strip())
    except ValueError:
        return None
    if created.tzinfo is None:
        return None
    return created.astimezone(ZoneInfo(timezone)).date()


def daily(rows: Iterable[Mapping[str, object]], timezone: str) -> dict[str, dict[str, dict[str, int]]]:
    """{day (ISO): {channel key: counts}}: what `/stats` sums over any number of days."""
    days: dict[str, dict[str, Counts]] = {}
    for row in rows:
        counts, day = lead_counts(row), arrival_day(row, timezone)
        if counts is None or day is None:
            continue
        per_channel = days.setdefault(day.isoformat(), {})
        per_channel.setdefault(channel_of(row).key, Counts()).add(counts)
    return {day: {key: c.as_dict() for key, c in channels.items()} for day, channels in sorted(days.items())}


def since(
    days: Mapping[str, Mapping[str, Mapping[str, int]]], first: date, last: date
) -> dict[Channel, Counts]:
    """The counts per channel of the leads that arrived from `first` to `last` (both included)."""
    totals: dict[Channel, Counts] = {}
    for day, channels in days.items():
        if not first.isoformat() <= day <= last.isoformat():
            continue
        for key, counts in channels.items():
            totals.setdefault(Channel.from_key(key), Counts()).add(Counts(**counts))
    return totals


def weekly_table(days: Mapping[str, Mapping[str, Mapping[str, int]]]) -> list[list[CellValue]]:
    """The Funnel sheet: a row per week (its Monday) and channel, the latest week first, with the
    conversions from each step to the next in whole percent."""
    weeks: dict[tuple[str, Channel], Counts] = {}
    for day, channels in days.items():
        monday = date.fromisoformat(day) - timedelta(days=date.fromisoformat(day).weekday())
        for key, counts in channels.items():
            weeks.setdefault((monday.isoformat(), Channel.from_key(key)), Counts()).add(Counts(**counts))
    # The latest week first; in a week, the channels that brought the most leads first.
    ordered = sorted(weeks.items(), key=lambda item: (_descending(item[0][0]), -item[1].leads, item[0][1]))
    rows: list[list[CellValue]] = [list(FUNNEL_COLUMNS)]
    for (week, channel), c in ordered:
        conversions = [
            percent(c.activated, c.leads),
            percent(c.booked, c.activated),
            percent(c.attended, c.booked),
            percent(c.no_show, c.booked),
            percent(c.paid, c.leads),
        ]
        steps = [c.leads, c.activated, c.booked, c.attended, c.no_show, c.paid]
        rows.append([week, channel.source, channel.utm_source, channel.utm_campaign, *steps, *conversions])
    return rows


def _descending(iso_day: str) -> int:
    return -date.fromisoformat(iso_day).toordinal()


def percent(part: int, whole: int) -> int | str:
    """Whole percent, or "" where there is nothing to divide."""
    return round(100 * part / whole) if whole else ""
