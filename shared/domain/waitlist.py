"""The waitlist: parents for whom no free slot fits, in the order they joined, and the slots held for
them. Pure: the queue is one document (shared/flows/waitlist.py keeps it in the store).

A parent says which days (any, weekdays, weekends) and which part of the day (any, morning, afternoon,
evening, in their own zone) suit them. When a slot frees, the first parent it suits, who has not
already let that slot go, is offered it with a hold: for a while the slot is theirs to book and nobody
else sees it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

ENTRY_LIFETIME = timedelta(days=30)  # a wish older than this is dropped: the family has moved on
# A hold still there this long after its end lost its HoldEnd task: the slot is free for anyone again.
HOLD_GRACE = timedelta(minutes=10)


class Days(StrEnum):
    ANY = "any"
    WEEKDAYS = "weekdays"
    WEEKENDS = "weekends"


class DayPart(StrEnum):
    ANY = "any"
    MORNING = "morning"  # before 12:00
    AFTERNOON = "afternoon"  # 12:00–17:00
    EVENING = "evening"  # from 17:00


class Wish(BaseModel):
    """One parent on the waitlist."""

    model_config = ConfigDict(frozen=True)

    lead_id: str
    chat_id: int
    language: str
    days: Days
    part: DayPart
    joined_at: datetime
    timezone: str | None = None  # the parent's own, for the offer's times (None: the academy's)
    passed: tuple[str, ...] = ()  # event ids of slots offered to them and let go (or left to expire)


class Hold(BaseModel):
    """A freed slot held for one parent until `until`."""

    model_config = ConfigDict(frozen=True)

    hold_id: str
    lead_id: str
    chat_id: int
    event_id: str
    start: datetime
    end: datetime
    until: datetime


class Queue(BaseModel):
    """The waitlist document."""

    wishes: list[Wish] = Field(default_factory=list)
    holds: list[Hold] = Field(default_factory=list)

    def wish(self, lead_id: str) -> Wish | None:
        return next((w for w in self.wishes if w.lead_id == lead_id), None)

    def hold(self, hold_id: str) -> Hold | None:
        return next((h for h in self.holds if h.hold_id == hold_id), None)

    def held_events(self, now: datetime | None = None) -> set[str]:
        """The slots held now (`now` None: every hold recorded, lapsed or not)."""
        return {h.event_id for h in self.holds if now is None or now < h.until + HOLD_GRACE}

    def without(self, lead_id: str) -> Queue:
        """The queue without the parent's wish and holds (they booked, left, or were forgotten)."""
        return Queue(
            wishes=[w for w in self.wishes if w.lead_id != lead_id],
            holds=[h for h in self.holds if h.lead_id != lead_id],
        )

    def released(self, hold_id: str) -> Queue:
        """The hold gone, its slot marked as let go by its parent (not offered to them again)."""
        hold = self.hold(hold_id)
        if hold is None:
            return self
        wishes = [
            w.model_copy(update={"passed": (*w.passed, hold.event_id)}) if w.lead_id == hold.lead_id else w
            for w in self.wishes
        ]
        return Queue(wishes=wishes, holds=[h for h in self.holds if h.hold_id != hold_id])

    def current(self, now: datetime) -> Queue:
        """The queue without wishes past their lifetime."""
        return Queue(wishes=[w for w in self.wishes if now - w.joined_at < ENTRY_LIFETIME], holds=self.holds)


def lapsed_hold(claim: dict[str, object], now: datetime) -> bool:
    """Whether a slot's claim is a waitlist hold long past its end that nobody started booking on."""
    until = claim.get("until")
    if not isinstance(until, str) or claim.get("calendar_started"):
        return False
    return datetime.fromisoformat(until) + HOLD_GRACE < now


def suits(wish: Wish, start: datetime, timezone: str) -> bool:
    """Whether a slot starting at `start` is one the parent asked for (in their own zone, else the
    academy's `timezone`)."""
    local = start.astimezone(ZoneInfo(wish.timezone or timezone))
    weekend = local.weekday() >= 5
    if wish.days is Days.WEEKDAYS and weekend or wish.days is Days.WEEKENDS and not weekend:
        return False
    hour = local.hour
    return {
        DayPart.ANY: True,
        DayPart.MORNING: hour < 12,
        DayPart.AFTERNOON: 12 <= hour < 17,
        DayPart.EVENING: hour >= 17,
    }[wish.part]


def first_suited(queue: Queue, event_id: str, start: datetime, timezone: str) -> Wish | None:
    """Who is offered a freed slot: the earliest-joined parent it suits, holding nothing now, who has not
    let this slot go already."""
    holding = {h.lead_id for h in queue.holds}
    for wish in sorted(queue.wishes, key=lambda w: w.joined_at):
        if wish.lead_id in holding or event_id in wish.passed:
            continue
        if suits(wish, start, timezone):
            return wish
    return None
