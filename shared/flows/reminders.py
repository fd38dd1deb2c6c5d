"""Use case: the lesson reminders (−24 h, −5 h), Cloud Tasks targets.

A reminder carries the id of the booking it was made for: if the lesson was rescheduled or cancelled in
the meantime, the lead's booking id differs and the reminder is dropped, so an old one never fires.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from shared.domain.booking import BookingRules, when_label
from shared.domain.jobs import Reminder, ReminderKind
from shared.domain.leads import LeadStatus
from shared.flows.lead_repository import LeadRepository
from shared.flows.once import AlreadyDone, Busy, run_once
from shared.i18n import t
from shared.ports import Notifier, NotifyError, StateStore

log = logging.getLogger(__name__)
TEXTS = {ReminderKind.H24: "reminder_24h", ReminderKind.H5: "reminder_5h"}  # catalog keys


class ReminderRetry(Exception):
    """Telegram could not be reached: answer 5xx so Cloud Tasks retries."""


@dataclass
class Reminders:
    store: StateStore
    leads: LeadRepository
    notifier: Notifier
    rules: BookingRules

    def run(self, job: Reminder) -> str:
        """Send the reminder once if its booking still stands; returns what happened."""
        kind, lead_id, booking_id = job.kind, job.lead_id, job.booking_id
        lead = self.leads.get(lead_id)
        if lead is None:
            log.error("reminder for an unknown lead", extra={"lead_id": lead_id})
            return "rejected"
        if lead.booking_id != booking_id or lead.status is not LeadStatus.SCHEDULED or lead.lesson_at is None:
            return "skipped"  # rescheduled or cancelled since this reminder was scheduled
        if lead.tg_id is None:
            return "skipped"
        lesson_at, tg_id = lead.lesson_at, lead.tg_id
        text = t(
            lead.language,
            TEXTS[kind],
            when=when_label(lesson_at, lead.language, self.rules),
            zoom_link=lead.zoom_link or "—",
        )
        try:
            run_once(
                self.store,
                job.run_once_key(),
                lambda: self.notifier.message_parent(tg_id, text),
                lease=timedelta(minutes=2),
                keep=timedelta(days=3),
            )
        except AlreadyDone:
            return "duplicate"
        except (Busy, NotifyError) as exc:
            raise ReminderRetry(str(exc)) from None
        log.info("reminder sent", extra={"lead_id": lead_id, "kind": kind.value})
        return "sent"
