"""Use case: the lesson reminders (−24 h, −5 h), Cloud Tasks targets.

A reminder carries the id of the booking it was made for: if the lesson was rescheduled or cancelled in
the meantime, the lead's booking id differs and the reminder is dropped, so an old one never fires.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shared.domain.booking import BookingRules, when_label
from shared.domain.effects import Effect, EffectKind
from shared.domain.jobs import Reminder, ReminderKind
from shared.domain.leads import LeadStatus
from shared.flows.lead_repository import LeadRepository
from shared.flows.outbox import DeliveryOutcome, Outbox
from shared.i18n import t

log = logging.getLogger(__name__)
TEXTS = {ReminderKind.H24: "reminder_24h", ReminderKind.H5: "reminder_5h"}  # catalog keys


@dataclass
class Reminders:
    leads: LeadRepository
    outbox: Outbox
    rules: BookingRules

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
        if lead.tg_id is None or lead.bot_blocked:
            return "skipped"
        text = t(
            lead.language,
            TEXTS[kind],
            when=when_label(lead.lesson_at, lead.language, self.rules),
            zoom_link=lead.zoom_link or "—",
        )
        effect = Effect(
            kind=EffectKind.PARENT,
            lead_id=lead_id,
            key=f"{kind.value}-{booking_id}",
            chat_id=lead.tg_id,
            text=text,
            booking_id=booking_id,
        )
        outcome = self.outbox.send([effect])[effect.effect_id]
        if outcome is DeliveryOutcome.DONE:
            log.info("reminder sent", extra={"lead_id": lead_id, "kind": kind.value})
            return "sent"
        return {DeliveryOutcome.DUPLICATE: "duplicate", DeliveryOutcome.STOPPED: "blocked"}.get(
            outcome, "pending"
        )
