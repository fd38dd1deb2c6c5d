"""Use case: a Tilda form becomes a lead, its CRM sync and the first step of the email chain."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from shared.domain.jobs import ChainStep, CrmSync, Step, SyncEvent
from shared.domain.tilda import TildaSubmission
from shared.flows.lead_repository import LeadRepository
from shared.flows.once import AlreadyDone, run_once
from shared.ports import Clock, Scheduler, StateStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IntakeResult:
    outcome: str  # created | updated | duplicate
    lead_id: str | None


def accept_submission(
    submission: TildaSubmission,
    *,
    store: StateStore,
    leads: LeadRepository,
    scheduler: Scheduler,
    clock: Clock,
    email1_delay: timedelta,
) -> IntakeResult:
    """Save the lead and enqueue its CRM sync and `email1`; Tilda's retries of one form do nothing more.

    Only the store and Cloud Tasks are touched here, so Tilda gets its answer in well under its 5 s
    limit even when Sheets hangs: the sheet is written by the `sync` task, which Cloud Tasks retries.
    """
    key = submission.dedupe_key()

    def accept() -> dict[str, Any]:
        now = clock.now()
        upserted = leads.upsert_from_tilda(submission, now)
        lead = upserted.lead
        event = SyncEvent.CREATED if upserted.created else SyncEvent.UPDATED
        scheduler.schedule(CrmSync.for_form(lead.lead_id, event, key))
        if lead.chain_stop_reason() is None and lead.email_1_sent is None:
            scheduler.schedule(ChainStep(step=Step.EMAIL1, lead_id=lead.lead_id), run_at=now + email1_delay)
        log.info("lead accepted", extra={"lead_id": lead.lead_id, "event": event.value})
        return {"outcome": event.value, "lead_id": lead.lead_id}

    try:
        result = run_once(store, key, accept, lease=timedelta(minutes=1), keep=timedelta(days=3))
    except AlreadyDone as done:
        log.info("duplicate tilda submission ignored", extra={"lead_id": (done.result or {}).get("lead_id")})
        return IntakeResult("duplicate", (done.result or {}).get("lead_id"))
    return IntakeResult(result["outcome"], result["lead_id"])
