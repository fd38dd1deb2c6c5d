"""Use case: the lesson reminders (−24 h, −5 h), Cloud Tasks targets.

A reminder carries the id of the booking it was made for: if the lesson was rescheduled or cancelled in
the meantime, the lead's booking id differs and the reminder is dropped, so an old one never fires.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.domain.booking import BookingRules, when_label
from shared.domain.effects import Effect, EffectKind
from shared.domain.jobs import AfterLesson, CrmSync, Reminder, ReminderKind, SyncEvent
from shared.domain.leads import Lead, LeadStatus
from shared.flows.lead_repository import LeadRepository
from shared.flows.outbox import DeliveryOutcome, Outbox
from shared.i18n import t
from shared.ports import Clock, Scheduler

log = logging.getLogger(__name__)
TEXTS = {ReminderKind.H24: "reminder_24h", ReminderKind.H5: "reminder_5h"}  # catalog keys
LOG_EVENTS = {ReminderKind.H24: "REMINDER_24H_SENT", ReminderKind.H5: "REMINDER_5H_SENT"}


@dataclass
class Reminders:
    leads: LeadRepository
    outbox: Outbox
    rules: BookingRules
    scheduler: Scheduler | None = None  # tells the managers of a lesson left unconfirmed
    # The reminder's keyboard for (booking id, language): ✅ I'll be there, 🔁 Reschedule, ✖ Cancel.
    buttons: Callable[[str, str], dict[str, Any]] | None = None
    # After a no-show, (booking id, language): 📅 Pick a new time.
    rebook_button: Callable[[str, str], dict[str, Any]] | None = None
    manager_link: str = ""
    # Records CRM effects for the batched writer (this function has no CRM client): the Log's rows.
    record_crm: Callable[[list[Effect]], None] | None = None
    clock: Clock | None = None  # the Log rows' time

    def run(self, job: Reminder) -> str:
        """Send the reminder once if its booking still stands; returns what happened.

        The message is an outbox effect: a Telegram outage is ridden out by the reconciler (and past the
        horizon alerted), a blocked bot stops it for good; a duplicate delivery of the task sends nothing."""
        kind, lead_id, booking_id = job.kind, job.lead_id, job.booking_id
        lead = self.leads.get(lead_id)
        if lead is None:
            log.error("reminder for an unknown lead", extra={"lead_id": lead_id})
            return "rejected"
        if lead.booking_id != booking_id or lead.status is not LeadStatus.SCHEDULED or lead.lesson_at is None:
            return "skipped"  # rescheduled or cancelled since this reminder was scheduled
        if kind is ReminderKind.H5:
            self._unconfirmed(lead)  # a parent the bot cannot reach has not confirmed either
        if lead.tg_id is None or lead.bot_blocked:
            return "skipped"
        text = t(
            lead.language,
            TEXTS[kind],
            when=when_label(lead.lesson_at, lead.language, self.rules, lead.timezone),
            zoom_link=lead.zoom_link or "—",
        )
        # Both reminders ask to confirm (the −5 h one is the last ask) until the parent has.
        markup = self.buttons(booking_id, lead.language) if self.buttons and not lead.confirmed_at else None
        effect = Effect.to_parent(
            lead.tg_id,
            text,
            key=f"{kind.value}-{booking_id}",
            lead_id=lead_id,
            markup=markup,
            booking_id=booking_id,
        )
        outcome = self.outbox.send([effect])[effect.effect_id]
        if outcome is DeliveryOutcome.DONE:
            log.info("reminder sent", extra={"lead_id": lead_id, "kind": kind.value})
        self._log(lead.lead_id, effect.key, LOG_EVENTS[kind])
        return _answer(outcome)

    def after_lesson(self, job: AfterLesson) -> str:
        """Thanks after a lesson attended; after a no-show, a new time offered (once in the lead's life,
        a second no-show gets the manager's contact). The lead's status when the task runs decides."""
        lead = self.leads.get(job.lead_id)
        if lead is None:
            return "skipped"  # erased since
        if lead.booking_id != job.booking_id or lead.status not in (LeadStatus.ATTENDED, LeadStatus.NO_SHOW):
            return "skipped"  # booked again, or the mark was taken back
        if lead.tg_id is None or lead.bot_blocked:
            return "skipped"  # a parent who never opened the bot: the managers call
        language, markup = lead.language, None
        if lead.status is LeadStatus.ATTENDED:
            text, event = t(language, "after_attended", manager_link=self.manager_link), "FOLLOW_UP_ATTENDED"
        elif lead.rebook_offer not in (None, job.booking_id):
            text, event = (
                t(language, "after_no_show_again", manager_link=self.manager_link),
                "FOLLOW_UP_NO_SHOW",
            )
        else:
            self.leads.update(
                lead.lead_id, lambda current: current.model_copy(update={"rebook_offer": job.booking_id})
            )
            text, event = t(language, "after_no_show"), "FOLLOW_UP_REBOOK"
            markup = self.rebook_button(job.booking_id, language) if self.rebook_button else None
        key = f"after-{job.booking_id}"
        message = Effect.to_parent(lead.tg_id, text, key=key, lead_id=lead.lead_id, markup=markup)
        outcome = self.outbox.send([message])[message.effect_id]
        self._log(lead.lead_id, key, event, when=lead.updated_at)
        log.info("after-lesson message", extra={"lead_id": lead.lead_id, "event": event})
        return _answer(outcome)

    def _log(self, lead_id: str, key: str, event: str, when: datetime | None = None) -> None:
        """A row of the lead's story on the Log sheet, for the batched writer (recorded once per key)."""
        if self.record_crm is None:
            return
        entry = Effect(
            kind=EffectKind.CRM_LOG,
            lead_id=lead_id,
            key=key,
            log_time=when or (self.clock.now() if self.clock else datetime.now(UTC)),
            log_event=event,
        )
        self.record_crm([entry])

    def _unconfirmed(self, lead: Lead) -> None:
        """At the last reminder, a lesson the parent has not confirmed is news for the managers (the task's
        name is the booking's: a redelivered reminder tells them once)."""
        if self.scheduler is None or lead.confirmed_at is not None or lead.booking_id is None:
            return
        self.scheduler.schedule(CrmSync.for_booking(lead.lead_id, SyncEvent.UNCONFIRMED, lead.booking_id))


def _answer(outcome: DeliveryOutcome) -> str:
    """The task's answer for its message's delivery: sent, duplicate, blocked, or pending (the outbox
    delivers it later)."""
    names = {
        DeliveryOutcome.DONE: "sent",
        DeliveryOutcome.DUPLICATE: "duplicate",
        DeliveryOutcome.STOPPED: "blocked",
    }
    return names.get(outcome, "pending")
