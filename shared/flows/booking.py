"""Use case: listing free slots, booking the trial lesson, rescheduling and cancelling it.

Free slots are read from the calendar (cached 30 s in the store for every instance). Booking claims the
slot in the store first, so two parents confirming one slot at the same moment end with one booking; the
calendar event is then patched with its ETag, so a slot changed by a manager in the meantime is refused
too. Zoom failing does not undo a booking: the parent is told a manager will send the link. The methods
return results; the bot's scenes turn them into words and keyboards.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from shared.domain.booking import BookingRules, Slot, bookable, reminder_times, self_service_allowed
from shared.domain.jobs import CrmSync, SyncEvent, reminders_for
from shared.domain.leads import Lead, LeadStatus
from shared.domain.waitlist import Queue, first_suited, lapsed_hold
from shared.flows.lead_repository import LeadRepository
from shared.flows.waitlist_queue import QUEUE, WAITLIST, queue_of
from shared.i18n import t
from shared.ports import (
    Calendar,
    CalendarUnavailable,
    Clock,
    Document,
    Meeting,
    Meetings,
    MeetingsUnavailable,
    Scheduler,
    SlotTaken,
    StateStore,
)

log = logging.getLogger(__name__)
SLOT_CACHE = "slot_cache"
SLOT_CLAIMS = "slot_claims"
_CACHE_TTL = timedelta(seconds=30)


class Problem(StrEnum):
    """Why a booking or a change did not happen."""

    SLOT_TAKEN = "slot_taken"  # another parent or a manager took it first
    CALENDAR_DOWN = "calendar_down"
    UNKNOWN_LEAD = "unknown_lead"
    NOT_CURRENT = "not_current"  # not the parent's current booking (a stale or forged button)
    TOO_LATE = "too_late"  # within the self-service cut-off before the lesson


@dataclass(frozen=True)
class Booked:
    lead: Lead  # with the lesson's time, booking id and Zoom link (None when Zoom failed)


@dataclass
class BookingFlow:
    store: StateStore
    leads: LeadRepository
    calendar: Calendar
    meetings: Meetings
    scheduler: Scheduler
    clock: Clock
    rules: BookingRules
    manager_language: str = "ru"  # the calendar entry is the managers'; the Zoom topic is the parent's
    # A slot came free (event id, start, end): the waitlist offers it (shared/flows/waitlist.py).
    on_freed: Callable[[str, datetime, datetime], None] | None = None

    def free_slots(self) -> list[Slot] | Problem:
        """Slots a parent may book now, earliest first."""
        try:
            return bookable(self._free_slots(), self.clock.now(), self.rules)
        except CalendarUnavailable:
            return Problem.CALENDAR_DOWN

    def current_slot(self, event_id: str) -> Slot | None | Problem:
        """The slot as the calendar has it now (a held slot's fresh ETag), None if no longer free."""
        now = self.clock.now()
        try:
            slots = self.calendar.free_slots(now, now + self.rules.horizon)
        except CalendarUnavailable:
            return Problem.CALENDAR_DOWN
        return next((s for s in bookable(slots, now, self.rules) if s.event_id == event_id), None)

    def book(self, lead_id: str, slot: Slot) -> Booked | Problem:
        """Take `slot` for the lead: claim, Zoom meeting, calendar patch, lead, reminders, CRM sync.

        The claim records how far the booking got, so a booking whose process was killed half-way is
        taken up again where it stopped when Telegram delivers the press again (same parent, same slot):
        no second Zoom meeting, no slot lost to a claim nobody finishes."""
        lead = self.leads.get(lead_id)
        if lead is None:
            return Problem.UNKNOWN_LEAD
        keep = slot.end - self.clock.now() + timedelta(days=1)
        progress: dict[str, Any] = {"lead_id": lead.lead_id}
        claim = claim_slot(self.store, slot.event_id, progress, keep, self.clock.now())
        if claim is not None:  # claimed before: by another parent, or by this one's interrupted booking
            if claim.data.get("lead_id") != lead.lead_id:
                self._invalidate_cache()
                return Problem.SLOT_TAKEN
            if (
                lead.status is LeadStatus.SCHEDULED
                and lead.calendar_event_id == slot.event_id
                and lead.booking_id
            ):
                return self._announce(lead, slot, lead.booking_id)  # booked: only what came after was lost
            progress = dict(claim.data)
            if progress.get("calendar_started") or progress.get("meeting_id"):
                log.warning("an interrupted booking is taken up again", extra={"lead_id": lead.lead_id})
            # else the slot was held for this parent from the waitlist: booked on the hold's claim
        meeting = self._meeting(lead, slot, progress)
        # Recorded before the patch: a booking resumed after it knows the changed event is its own.
        resumed_patch = bool(progress.get("calendar_started"))
        progress = {**progress, "calendar_started": True}
        if meeting is not None:
            progress.update(meeting_id=meeting.meeting_id, join_url=meeting.join_url)
        self.store.put(SLOT_CLAIMS, slot.event_id, progress, ttl=keep)
        try:
            self.calendar.book(
                slot,
                _event_title(lead, self.manager_language),
                _event_description(lead, meeting.join_url if meeting else None, self.manager_language),
            )
        except SlotTaken:
            if not resumed_patch:
                return self._undo(slot, meeting, Problem.SLOT_TAKEN)
            log.info("calendar event already patched by the interrupted booking", extra={"lead_id": lead_id})
        except CalendarUnavailable:
            return self._undo(slot, meeting, Problem.CALENDAR_DOWN)

        booking_id = secrets.token_hex(4)
        now = self.clock.now()
        booked = (
            self.leads.update(
                lead.lead_id,
                lambda current: current.model_copy(
                    update={
                        "updated_at": now,
                        "status": LeadStatus.SCHEDULED,
                        "lesson_at": slot.start,
                        "calendar_event_id": slot.event_id,
                        "zoom_link": meeting.join_url if meeting else None,
                        "zoom_meeting_id": meeting.meeting_id if meeting else None,
                        "booking_id": booking_id,
                        "confirmed_at": None,
                    }
                ),
            )
            or lead
        )
        return self._announce(booked, slot, booking_id)

    def _announce(self, booked: Lead, slot: Slot, booking_id: str) -> Booked:
        """Reminders and the CRM sync of a booking; deterministic task names make a repeat harmless."""
        due = dict(reminder_times(slot.start, self.clock.now()))
        for reminder in reminders_for(booked.lead_id, booking_id):
            if reminder.kind in due:
                self.scheduler.schedule(reminder, run_at=due[reminder.kind])
        self.scheduler.schedule(CrmSync.for_booking(booked.lead_id, SyncEvent.SCHEDULED, booking_id))
        self._invalidate_cache()
        return Booked(booked)

    def change(self, lead_id: str | None, booking_id: str, *, reschedule: bool) -> Lead | Problem:
        """Free the parent's current booking (to pick another slot, or for good); the lead as it is now."""
        lead = self.leads.get(lead_id) if lead_id else None
        # Only the parent's own, current booking: a forged or stale button changes nothing.
        if lead is None or lead.booking_id != booking_id or lead.lesson_at is None:
            return Problem.NOT_CURRENT
        now = self.clock.now()
        if not self_service_allowed(lead.lesson_at, now, self.rules):
            return Problem.TOO_LATE
        if problem := self.release(lead):
            return problem
        for reminder in reminders_for(lead.lead_id, booking_id):
            self.scheduler.cancel(reminder)
        status = LeadStatus.ACTIVATED if reschedule else LeadStatus.CANCELLED
        cleared = (
            self.leads.update(
                lead.lead_id,
                lambda current: current.model_copy(
                    update={
                        "updated_at": now,
                        "status": status,
                        "lesson_at": None,
                        "calendar_event_id": None,
                        "zoom_link": None,
                        "zoom_meeting_id": None,
                        "booking_id": None,
                        "confirmed_at": None,
                    }
                ),
            )
            or lead
        )
        event = SyncEvent.RESCHEDULED if reschedule else SyncEvent.CANCELLED
        self.scheduler.schedule(CrmSync.for_booking(cleared.lead_id, event, booking_id))
        return cleared

    def confirm(self, lead_id: str | None, booking_id: str) -> Lead | Problem:
        """✅ I'll be there: the parent's current booking, still to come, is confirmed (once: a second
        press changes nothing); the managers' card and the Log hear of it."""
        lead = self.leads.get(lead_id) if lead_id else None
        now = self.clock.now()
        if (
            lead is None
            or lead.booking_id != booking_id
            or lead.status is not LeadStatus.SCHEDULED
            or lead.lesson_at is None
            or lead.lesson_at <= now
        ):
            return Problem.NOT_CURRENT
        if lead.confirmed_at is not None:
            return lead

        def confirmed(current: Lead) -> Lead | None:
            if current.booking_id != booking_id or current.confirmed_at is not None:
                return None
            return current.model_copy(update={"confirmed_at": now, "updated_at": now})

        lead = self.leads.update(lead.lead_id, confirmed) or lead
        self.scheduler.schedule(CrmSync.for_booking(lead.lead_id, SyncEvent.CONFIRMED, booking_id))
        return lead

    def release(self, lead: Lead) -> Problem | None:
        """Free the lead's slot in the calendar (its event back to a free slot: no name or phone left in
        it) and delete its Zoom meeting; the lead itself is left as it is. CALENDAR_DOWN: nothing done."""
        if lead.calendar_event_id:
            try:
                self.calendar.release(lead.calendar_event_id)
            except CalendarUnavailable:
                return Problem.CALENDAR_DOWN
            self.store.delete(SLOT_CLAIMS, lead.calendar_event_id)
        if lead.zoom_meeting_id:
            self._delete_meeting(lead.zoom_meeting_id)
        self._invalidate_cache()
        if self.on_freed and lead.calendar_event_id and lead.lesson_at:
            end = lead.lesson_at + timedelta(minutes=self.rules.lesson_minutes)
            self.on_freed(lead.calendar_event_id, lead.lesson_at, end)
        return None

    # ---- helpers ------------------------------------------------------------------------------------
    def _meeting(self, lead: Lead, slot: Slot, progress: dict[str, Any]) -> Meeting | None:
        """The booking's Zoom meeting: the one an interrupted attempt created, else a new one."""
        if progress.get("meeting_id") and progress.get("join_url"):
            return Meeting(progress["meeting_id"], progress["join_url"])
        try:
            return self.meetings.create(
                t(lead.language, "zoom_topic", name=lead.name or "—"), slot.start, self.rules.lesson_minutes
            )
        except MeetingsUnavailable as exc:
            log.error("zoom meeting not created", extra={"lead_id": lead.lead_id, "reason": str(exc)})
            return None

    def _undo(self, slot: Slot, meeting: Meeting | None, problem: Problem) -> Problem:
        self.store.delete(SLOT_CLAIMS, slot.event_id)
        if meeting:
            self._delete_meeting(meeting.meeting_id)
        self._invalidate_cache()
        return problem

    def _free_slots(self) -> list[Slot]:
        """Free slots but those held for a parent from the waitlist (the cache and the waitlist are read
        in one round trip)."""
        cached, waiting = self.store.get_many([(SLOT_CACHE, "free"), (WAITLIST, QUEUE)])
        queue = queue_of(waiting)
        if cached is not None:
            slots = [_slot(item) for item in cached.data["slots"]]
        else:
            now = self.clock.now()
            slots = self.calendar.free_slots(now, now + self.rules.horizon)
            self.store.put(SLOT_CACHE, "free", {"slots": [_slot_data(s) for s in slots]}, ttl=_CACHE_TTL)
            self._offer_seen(slots, queue)
        held = queue.held_events(self.clock.now())
        return [s for s in slots if s.event_id not in held]

    def _offer_seen(self, slots: list[Slot], queue: Queue) -> None:
        """A free slot a waiting parent would take (one a manager just added, say) goes to the waitlist
        first: seen when the calendar is read, offered by a task."""
        if self.on_freed is None or not queue.wishes:
            return
        held = queue.held_events(self.clock.now())
        for slot in bookable(slots, self.clock.now(), self.rules):
            if slot.event_id not in held and first_suited(
                queue, slot.event_id, slot.start, self.rules.timezone
            ):
                self.on_freed(slot.event_id, slot.start, slot.end)

    def _invalidate_cache(self) -> None:
        self.store.delete(SLOT_CACHE, "free")

    def _delete_meeting(self, meeting_id: str) -> None:
        try:
            self.meetings.delete(meeting_id)
        except MeetingsUnavailable as exc:
            log.error("zoom meeting not deleted", extra={"meeting_id": meeting_id, "reason": str(exc)})


def claim_slot(
    store: StateStore, event_id: str, data: dict[str, Any], keep: timedelta, now: datetime
) -> Document | None:
    """Claim the slot for `data` (a booking's progress, or a waitlist hold): None when this call claimed
    it, else the claim that stands. A waitlist hold long past its end (its HoldEnd task lost) gives way."""
    if store.create(SLOT_CLAIMS, event_id, data, ttl=keep):
        return None
    claim = store.get(SLOT_CLAIMS, event_id)
    if claim is None:  # gone between the two calls (a booking undone): taken, as far as this call knows
        return Document({}, 0)
    if lapsed_hold(claim.data, now) and store.replace(SLOT_CLAIMS, event_id, data, claim.version, ttl=keep):
        log.warning("a waitlist hold long past its end gave way", extra={"claimed_by": data.get("lead_id")})
        return None
    return claim


def _event_title(lead: Lead, language: str) -> str:
    return t(language, "manager_event_title", who=lead.name or lead.phone or lead.lead_id)


def _event_description(lead: Lead, zoom_link: str | None, language: str) -> str:
    def line(label_key: str, value: str) -> str:
        return f"{t(language, label_key)}: {value}"

    lines = [
        line("manager_field_parent", lead.name or "—"),
        line("manager_field_phone", lead.phone or "—"),
        line("manager_field_email", lead.email or "—"),
        f"Telegram: @{lead.tg_username}" if lead.tg_username else "Telegram: —",
        f"Zoom: {zoom_link or t(language, 'manager_zoom_missing')}",
        f"Lead ID: {lead.lead_id}",
    ]
    return "\n".join(lines)


def _slot_data(slot: Slot) -> dict[str, str]:
    return {
        "event_id": slot.event_id,
        "start": slot.start.isoformat(),
        "end": slot.end.isoformat(),
        "etag": slot.etag,
    }


def _slot(data: dict[str, str]) -> Slot:
    return Slot(
        data["event_id"],
        datetime.fromisoformat(data["start"]),
        datetime.fromisoformat(data["end"]),
        data["etag"],
    )
