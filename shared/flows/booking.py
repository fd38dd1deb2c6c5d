"""Use case: choosing, confirming, rescheduling and cancelling the trial lesson.

Free slots are read from the calendar (cached 30 s in the store for every instance). Confirming claims the
slot in the store first, so two parents confirming one slot at the same moment end with one booking; the
calendar event is then patched with its ETag, so a slot changed by a manager in the meantime is refused
too. Zoom failing does not undo a booking: the parent is told a manager will send the link.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.domain.booking import (
    REMINDERS,
    BookingRules,
    bookable,
    by_day,
    day_label,
    reminder_times,
    self_service_allowed,
    time_label,
    when_label,
)
from shared.domain.conversation import (
    BACK_TO_DAYS,
    BACK_TO_TIMES,
    BOOK,
    CANCEL,
    DAY,
    RESCHEDULE,
    TIME,
    Button,
    OfferedSlot,
    Reply,
    Scene,
    Session,
)
from shared.domain.email_chain import Step, task_name
from shared.domain.leads import Lead, LeadStatus
from shared.flows.lead_repository import LeadRepository
from shared.i18n import t
from shared.ports import (
    Calendar,
    CalendarUnavailable,
    Clock,
    Job,
    Meetings,
    MeetingsUnavailable,
    Scheduler,
    Slot,
    SlotTaken,
    StateStore,
)

log = logging.getLogger(__name__)
SLOT_CACHE = "slot_cache"
SLOT_CLAIMS = "slot_claims"
_CACHE_TTL = timedelta(seconds=30)


def reminder_task(kind: str, lead_id: str, booking_id: str) -> str:
    return f"{lead_id}-{kind}-{booking_id}"


@dataclass
class BookingFlow:
    store: StateStore
    leads: LeadRepository
    calendar: Calendar
    meetings: Meetings
    scheduler: Scheduler
    clock: Clock
    rules: BookingRules
    manager_link: str

    # ---- entry points used by the conversation -----------------------------------------------------
    def offer_days(self, session: Session, intro: list[Reply] | None = None) -> list[Reply]:
        """Fresh free slots → a keyboard of days."""
        try:
            slots = bookable(self._free_slots(), self.clock.now(), self.rules)
        except CalendarUnavailable:
            return [
                *(intro or []),
                self._text(session, "calendar_unavailable", manager_link=self.manager_link),
            ]
        if not slots:
            session.scene = Scene.REGISTERED
            return [*(intro or []), self._text(session, "no_slots", manager_link=self.manager_link)]
        session.offer_id = secrets.token_hex(3)
        session.offer = [
            OfferedSlot(event_id=s.event_id, start=s.start, end=s.end, etag=s.etag) for s in slots
        ]
        session.chosen = None
        session.scene = Scene.DATES
        days = by_day(slots, self.rules)
        rows = [
            [Button(day_label(day, session.language), f"{DAY}:{session.offer_id}:{day:%Y%m%d}")]
            for day in days
        ]
        return [*(intro or []), Reply(t(session.language, "choose_date"), buttons=rows)]

    def on_callback(self, session: Session, data: str) -> list[Reply] | None:
        """Handle a booking button; None when `data` is not one of ours."""
        kind, _, rest = data.partition(":")
        if data == BACK_TO_DAYS:
            return self.offer_days(session)
        if kind in (DAY, TIME, BOOK) or data.startswith(BACK_TO_TIMES):
            offer, _, value = rest.partition(":")
            if data.startswith(BACK_TO_TIMES):
                offer, _, value = data[len(BACK_TO_TIMES) + 1 :].partition(":")
                kind = DAY
            if offer != session.offer_id or session.scene not in (Scene.DATES, Scene.TIMES, Scene.CONFIRM):
                return self.offer_days(session, [self._text(session, "use_buttons")])
            if kind == DAY:
                return self._times(session, value)
            index = int(value) if value.isdigit() else -1
            if not 0 <= index < len(session.offer):
                return self.offer_days(session, [self._text(session, "use_buttons")])
            return self._confirm(session, index) if kind == TIME else self._book(session, index)
        if kind in (RESCHEDULE, CANCEL):
            return self._change(session, rest, reschedule=kind == RESCHEDULE)
        return None

    def scheduled_info(self, session: Session, lead: Lead) -> list[Reply]:
        assert lead.lesson_at is not None and lead.booking_id is not None
        return [
            Reply(
                t(
                    session.language,
                    "scheduled_info",
                    when=when_label(lead.lesson_at, session.language, self.rules),
                    zoom_link=lead.zoom_link or "—",
                ),
                buttons=[
                    [
                        Button(t(session.language, "reschedule_button"), f"{RESCHEDULE}:{lead.booking_id}"),
                        Button(t(session.language, "cancel_button"), f"{CANCEL}:{lead.booking_id}"),
                    ]
                ],
            )
        ]

    # ---- steps ---------------------------------------------------------------------------------------
    def _times(self, session: Session, day_key: str) -> list[Reply]:
        indexes = [
            i for i, s in enumerate(session.offer) if f"{s.start.astimezone(self._zone()):%Y%m%d}" == day_key
        ]
        if not indexes:
            return self.offer_days(session, [self._text(session, "use_buttons")])
        session.scene = Scene.TIMES
        first = session.offer[indexes[0]].start
        buttons = [
            [Button(time_label(session.offer[i].start, self.rules), f"{TIME}:{session.offer_id}:{i}")]
            for i in indexes
        ]
        buttons.append([Button(t(session.language, "back_button"), BACK_TO_DAYS)])
        text = t(
            session.language,
            "choose_time",
            day=day_label(first.astimezone(self._zone()).date(), session.language),
            timezone=self.rules.timezone,
        )
        return [Reply(text, buttons=buttons)]

    def _confirm(self, session: Session, index: int) -> list[Reply]:
        slot = session.offer[index]
        session.scene = Scene.CONFIRM
        session.chosen = index
        day_key = f"{slot.start.astimezone(self._zone()):%Y%m%d}"
        return [
            Reply(
                t(
                    session.language,
                    "confirm_text",
                    when=when_label(slot.start, session.language, self.rules),
                ),
                buttons=[
                    [Button(t(session.language, "confirm_button"), f"{BOOK}:{session.offer_id}:{index}")],
                    [
                        Button(
                            t(session.language, "back_button"),
                            f"{BACK_TO_TIMES}:{session.offer_id}:{day_key}",
                        )
                    ],
                ],
            )
        ]

    def _book(self, session: Session, index: int) -> list[Reply]:
        offered = session.offer[index]
        lead = self.leads.get(session.lead_id or "")
        if lead is None:
            return [self._text(session, "error_generic", manager_link=self.manager_link)]
        slot = Slot(offered.event_id, offered.start, offered.end, offered.etag)
        keep = slot.end - self.clock.now() + timedelta(days=1)
        if not self.store.create(SLOT_CLAIMS, slot.event_id, {"lead_id": lead.lead_id}, ttl=keep):
            return self._taken(session)
        meeting = None
        try:
            meeting = self.meetings.create(
                f"All In Academy: пробный урок ({lead.name})", slot.start, self.rules.lesson_minutes
            )
        except MeetingsUnavailable as exc:
            log.error("zoom meeting not created", extra={"lead_id": lead.lead_id, "reason": str(exc)})
        try:
            self.calendar.book(
                slot, _event_title(lead), _event_description(lead, meeting.join_url if meeting else None)
            )
        except (SlotTaken, CalendarUnavailable) as exc:
            self.store.delete(SLOT_CLAIMS, slot.event_id)
            if meeting:
                self._delete_meeting(meeting.meeting_id)
            if isinstance(exc, CalendarUnavailable):
                return [self._text(session, "calendar_unavailable", manager_link=self.manager_link)]
            return self._taken(session)

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
                    }
                ),
            )
            or lead
        )
        for kind, at in reminder_times(slot.start, now):
            self.scheduler.schedule(
                Job(
                    "reminders",
                    reminder_task(kind, booked.lead_id, booking_id),
                    {"kind": kind, "lead_id": booked.lead_id, "booking_id": booking_id},
                    run_at=at,
                )
            )
        self._sync(booked, "scheduled", booking_id)
        self._invalidate_cache()
        session.scene = Scene.SCHEDULED
        session.offer, session.offer_id, session.chosen = [], None, None
        when = when_label(slot.start, session.language, self.rules)
        if meeting is None:
            return [self._text(session, "booked_no_zoom", when=when)]
        return [self._text(session, "booked", when=when, zoom_link=meeting.join_url)]

    def _change(self, session: Session, booking_id: str, *, reschedule: bool) -> list[Reply]:
        lead = self.leads.get(session.lead_id or "")
        # Only the parent's own, current booking: a forged or stale button changes nothing.
        if lead is None or not booking_id or lead.booking_id != booking_id or lead.lesson_at is None:
            return [self._text(session, "use_buttons")]
        now = self.clock.now()
        if not self_service_allowed(lead.lesson_at, now, self.rules):
            hours = int(self.rules.self_service_cutoff.total_seconds() // 3600)
            return [self._text(session, "too_late", hours=hours, manager_link=self.manager_link)]
        if lead.calendar_event_id:
            try:
                self.calendar.release(lead.calendar_event_id)
            except CalendarUnavailable:
                return [self._text(session, "calendar_unavailable", manager_link=self.manager_link)]
            self.store.delete(SLOT_CLAIMS, lead.calendar_event_id)
        if lead.zoom_meeting_id:
            self._delete_meeting(lead.zoom_meeting_id)
        for kind, _ in REMINDERS:
            self.scheduler.cancel("reminders", reminder_task(kind, lead.lead_id, booking_id))
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
                    }
                ),
            )
            or lead
        )
        self._sync(cleared, "rescheduled" if reschedule else "cancelled", booking_id)
        self._invalidate_cache()
        if reschedule:
            return self.offer_days(session)
        session.scene = Scene.REGISTERED
        return [self._text(session, "cancelled")]

    # ---- helpers ------------------------------------------------------------------------------------
    def _taken(self, session: Session) -> list[Reply]:
        self._invalidate_cache()
        return self.offer_days(session, [self._text(session, "slot_taken")])

    def _free_slots(self) -> list[Slot]:
        cached = self.store.get(SLOT_CACHE, "free")
        if cached is not None:
            return [_slot(item) for item in cached.data["slots"]]
        now = self.clock.now()
        slots = self.calendar.free_slots(now, now + self.rules.horizon)
        self.store.put(SLOT_CACHE, "free", {"slots": [_slot_data(s) for s in slots]}, ttl=_CACHE_TTL)
        return slots

    def _invalidate_cache(self) -> None:
        self.store.delete(SLOT_CACHE, "free")

    def _delete_meeting(self, meeting_id: str) -> None:
        try:
            self.meetings.delete(meeting_id)
        except MeetingsUnavailable as exc:
            log.error("zoom meeting not deleted", extra={"meeting_id": meeting_id, "reason": str(exc)})

    def _sync(self, lead: Lead, event: str, key: str) -> None:
        """CRM row, Log row and the managers' message go through the pipeline's sync task."""
        self.scheduler.schedule(
            Job(
                "email_chain",
                task_name(Step.SYNC, lead.lead_id, f"{event[:5]}{key}"),
                {
                    "step": Step.SYNC.value,
                    "lead_id": lead.lead_id,
                    "event": event,
                    "key": f"{event[:5]}{key}",
                },
            )
        )

    def _zone(self) -> Any:
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.rules.timezone)

    def _text(self, session: Session, key: str, **values: object) -> Reply:
        return Reply(t(session.language, key, **values))


def _event_title(lead: Lead) -> str:
    return f"Пробный урок: {lead.name or lead.phone or lead.lead_id}"


def _event_description(lead: Lead, zoom_link: str | None) -> str:
    lines = [
        f"Родитель: {lead.name or '—'}",
        f"Телефон: {lead.phone or '—'}",
        f"Email: {lead.email or '—'}",
        f"Telegram: @{lead.tg_username}" if lead.tg_username else "Telegram: —",
        f"Zoom: {zoom_link or 'не создан — отправьте ссылку вручную'}",
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
