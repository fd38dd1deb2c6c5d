"""Use case: a Tilda form becomes a lead, its CRM row and managers' message (outbox effects, written by
the batched CRM writer) and the first step of the email chain."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from shared.domain.jobs import ChainStep, CrmSync, Step, SyncEvent
from shared.domain.tilda import TildaSubmission
from shared.flows.crm_flush import FlushRequests
from shared.flows.form_effects import form_effects
from shared.flows.lead_repository import LeadRepository
from shared.flows.once import AlreadyDone, run_once
from shared.flows.outbox import record_effects
from shared.ports import Clock, Scheduler, StateStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IntakeResult:
    outcome: str  # created | updated | duplicate
    lead_id: str | None


@dataclass
class Intake:
    store: StateStore
    leads: LeadRepository
    scheduler: Scheduler
    clock: Clock
    flushes: FlushRequests
    email1_delay: timedelta
    manager_language: str = "ru"

    def accept(self, submission: TildaSubmission) -> IntakeResult:
        """Save the lead, record its CRM row and managers' message and enqueue `email1`; Tilda's retries
        of one form do nothing more.

        Only the store and Cloud Tasks are touched here, so Tilda gets its answer in well under its 5 s
        limit even when Sheets hangs. The row and the message are written by the batched writer a few
        seconds later with every other lead of those seconds: a burst of a thousand leads is a handful of
        Sheets requests, not a task per lead waiting its turn in the queue.
        """
        key = submission.dedupe_key()

        def accept() -> dict[str, Any]:
            now = self.clock.now()
            upserted = self.leads.upsert_from_tilda(submission, now)
            lead = upserted.lead
            event = SyncEvent.CREATED if upserted.created else SyncEvent.UPDATED
            # Keyed like the sync task of this form used to be (`sync-<key>`): the same form never
            # records twice.
            effect_key = f"sync-{CrmSync.for_form(lead.lead_id, event, key).key}"
            effects = form_effects(
                lead, event, effect_key, store=self.store, clock=self.clock, language=self.manager_language
            )
            record_effects(self.store, self.clock, effects)
            self.flushes.request(effects)
            if lead.chain_stop_reason() is None and lead.email_1_sent is None:
                self.scheduler.schedule(
                    ChainStep(step=Step.EMAIL1, lead_id=lead.lead_id), run_at=now + self.email1_delay
                )
            log.info("lead accepted", extra={"lead_id": lead.lead_id, "event": event.value})
            return {"outcome": event.value, "lead_id": lead.lead_id}

        try:
            result = run_once(
                self.store, key, accept, lease=timedelta(minutes=1), keep=timedelta(days=3), clock=self.clock
            )
        except AlreadyDone as done:
            log.info(
                "duplicate tilda submission ignored", extra={"lead_id": (done.result or {}).get("lead_id")}
            )
            return IntakeResult("duplicate", (done.result or {}).get("lead_id"))
        return IntakeResult(result["outcome"], result["lead_id"])
