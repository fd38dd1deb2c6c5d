"""Use case: a manager marks a lead from its card (called, no answer, attended, no-show).

The lead's new status and the CRM effects that report it (the row's status, a Log row naming the
manager) are one atomic commit, so a press is applied with its report or not at all; a press of what
the lead already is changes nothing, so double presses and redeliveries report once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from shared.domain.effects import OUTBOX, Effect, EffectKind, RetryPolicy, new_record
from shared.domain.jobs import AfterLesson
from shared.domain.leads import Lead, LeadStatus
from shared.flows.crm_flush import FlushRequests
from shared.flows.lead_repository import LeadRepository
from shared.ports import Clock, Scheduler, StateStore, Write

log = logging.getLogger(__name__)

CALLS = (LeadStatus.CALLED, LeadStatus.NO_ANSWER)
ATTENDANCE = (LeadStatus.ATTENDED, LeadStatus.NO_SHOW)
# A call is noted for a lead without a lesson to come; attendance for a booked lesson, once it began.
_CALLABLE = (LeadStatus.NEW, LeadStatus.ACTIVATED, LeadStatus.CANCELLED, *CALLS)
_ATTENDABLE = (LeadStatus.SCHEDULED, *ATTENDANCE)


class Refused(StrEnum):
    UNKNOWN_LEAD = "unknown_lead"  # gone (erased) or never existed
    NOT_NOW = "not_now"  # the lead has moved on: the card was stale
    TOO_EARLY = "too_early"  # attendance of a lesson that has not begun
    CHANGING = "changing"  # the lead kept changing under the press


def marks_for(lead: Lead) -> tuple[LeadStatus, ...]:
    """The statuses a card offers for the lead (attendance already while the lesson is to come: the card
    in the chat is pressed after it, without being drawn again)."""
    if lead.status in _ATTENDABLE and lead.lesson_at is not None:
        return ATTENDANCE
    if lead.status in _CALLABLE:
        return CALLS
    return ()


@dataclass
class Marks:
    store: StateStore
    leads: LeadRepository
    flushes: FlushRequests
    clock: Clock
    scheduler: Scheduler | None = None  # the parent's message after the lesson
    # How long after an attendance mark the parent hears of it: a press corrected meanwhile settles first.
    after_delay: timedelta = timedelta(minutes=10)

    def mark(self, lead_id: str, status: LeadStatus, manager: str, press: str) -> Lead | Refused:
        """Set `status` on the lead as `manager` did with the press `press` (its callback query id)."""
        for _ in range(5):
            found = self.leads.versioned(lead_id)
            if found is None:
                return Refused.UNKNOWN_LEAD
            lead, version = found
            if lead.status is status:
                return lead  # pressed twice, or by two managers: once is enough
            now = self.clock.now()
            if status not in marks_for(lead):
                return Refused.NOT_NOW
            if status in ATTENDANCE and lead.lesson_at is not None and lead.lesson_at > now:
                return Refused.TOO_EARLY
            marked = lead.model_copy(
                update={"status": status, "updated_at": now, "marked_by": manager, "marked_at": now}
            )
            effects = _effects(marked, manager, press, now)
            if status in ATTENDANCE:
                self._after_lesson(marked, now)
            writes = [
                self.leads.rewrite(marked, version),
                *(
                    Write(OUTBOX, e.effect_id, new_record(e, now, RetryPolicy()), create=True)
                    for e in effects
                ),
            ]
            if self.store.commit(writes):
                log.info("lead marked", extra={"lead_id": lead_id, "event": status.value})
                self._flush(effects)
                return marked
        return Refused.CHANGING

    def _after_lesson(self, lead: Lead, now: datetime) -> None:
        """Scheduled before the mark is committed (a mark that then loses changes nothing: the task reads
        the lead's status when it runs); named after the booking, so a corrected press adds no second."""
        if self.scheduler is None or lead.booking_id is None:
            return
        try:
            job = AfterLesson(lead_id=lead.lead_id, booking_id=lead.booking_id)
            self.scheduler.schedule(job, run_at=now + self.after_delay)
        except Exception as exc:  # the mark matters more than the message after it
            log.warning("no message after the lesson scheduled", extra={"reason": str(exc)})

    def _flush(self, effects: list[Effect]) -> None:
        try:
            self.flushes.request(effects)
        except Exception as exc:  # the reconciler writes what is due within minutes
            log.warning("no flush asked for a mark", extra={"reason": str(exc)})


def _effects(lead: Lead, manager: str, press: str, now: datetime) -> list[Effect]:
    key = f"mark-{press}"
    return [
        Effect(kind=EffectKind.CRM_ROW, lead_id=lead.lead_id, key=key, columns=("status", "updated_at")),
        Effect(
            kind=EffectKind.CRM_LOG,
            lead_id=lead.lead_id,
            key=key,
            log_time=now,
            log_event=f"STATUS_{lead.status.value}",
            log_details=manager,
        ),
    ]
