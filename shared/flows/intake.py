"""Use case: a Tilda form becomes a lead, its CRM row and managers' message (outbox effects, written by
the batched CRM writer) and the first step of the email chain."""

from __future__ import annotations

import contextvars
import hashlib
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.domain.effects import OUTBOX, Effect, RetryPolicy, new_record
from shared.domain.jobs import ChainStep, CrmSync, Job, Step, SyncEvent
from shared.domain.leads import Lead
from shared.domain.tilda import TildaSubmission
from shared.flows.crm_flush import FlushRequests
from shared.flows.form_effects import form_effects
from shared.flows.lead_repository import LeadRepository, lead_from_submission
from shared.flows.once import ONCE, AlreadyDone, run_once
from shared.flows.outbox import record_effects
from shared.ports import Clock, Scheduler, StateStore, Write

log = logging.getLogger(__name__)
_KEEP_FORM = timedelta(days=3)  # Tilda retries a form for a few hours; its key is kept longer
# The two Cloud Tasks requests of a new lead go out together (threads: the client is blocking).
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="intake-tasks")


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

        A new parent's form (the common case) is one read and one atomic write (`_accept_new`); a
        repeated form, a known parent or a race with one takes the slower path under the form's run-once
        claim and the contacts' locks.
        """
        key = submission.dedupe_key()
        for _ in range(2):  # read again once when the commit was refused (a flush started, a race)
            accepted = self._accept_new(submission, key)
            if accepted is not None:
                return accepted if accepted.outcome != "retry" else self._accept_known(submission, key)
        return self._accept_known(submission, key)

    def _accept_new(self, submission: TildaSubmission, key: str) -> IntakeResult | None:
        """A form of a parent the store does not know yet: the form's run-once key (done), the lead, its
        index entries and effects in one commit that is refused if any exists meanwhile. The tasks it
        needs are enqueued before it, at once: their names follow from the form, so a form retried after a
        crash in between finds them there; a task whose lead never got committed finds nothing to do.

        None: the commit was refused (something it checked changed): read again. Outcome "retry": the
        form or the parent is known, take the slower path."""
        documents = [(ONCE, key), *self.leads.index_documents(email=submission.email, phone=submission.phone)]
        once, *known, waiting = self.store.get_many([*documents, FlushRequests.WAITING])
        if once is not None or any(known):
            return IntakeResult("retry", None)
        now = self.clock.now()
        lead = lead_from_submission(lead_id_for(key), submission, now)
        effects = self._effects(lead, SyncEvent.CREATED, key)
        mark, flush = self.flushes.request_in_commit(effects, waiting)
        result = {"outcome": SyncEvent.CREATED.value, "lead_id": lead.lead_id}
        writes = [
            Write(ONCE, key, {"state": "done", "result": result}, create=True, ttl=_KEEP_FORM),
            *self.leads.creation(lead),
            *(Write(OUTBOX, e.effect_id, new_record(e, now, RetryPolicy()), create=True) for e in effects),
            mark,
        ]
        jobs: list[tuple[Job, datetime]] = []
        if flush is not None:
            jobs.append((flush, now + self.flushes.delay))
        if lead.chain_stop_reason() is None:
            jobs.append((ChainStep(step=Step.EMAIL1, lead_id=lead.lead_id), now + self.email1_delay))
        self._schedule_together(jobs)
        if not self.store.commit(writes):
            return None
        log.info("lead accepted", extra={"lead_id": lead.lead_id, "event": SyncEvent.CREATED.value})
        return IntakeResult(SyncEvent.CREATED.value, lead.lead_id)

    def _accept_known(self, submission: TildaSubmission, key: str) -> IntakeResult:
        """The slower path: the form claimed once, the lead found or created under its contacts' locks."""

        def accept() -> dict[str, Any]:
            now = self.clock.now()
            upserted = self.leads.upsert_from_tilda(submission, now)
            lead = upserted.lead
            event = SyncEvent.CREATED if upserted.created else SyncEvent.UPDATED
            effects = self._effects(lead, event, key)
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
                self.store, key, accept, lease=timedelta(minutes=1), keep=_KEEP_FORM, clock=self.clock
            )
        except AlreadyDone as done:
            log.info(
                "duplicate tilda submission ignored", extra={"lead_id": (done.result or {}).get("lead_id")}
            )
            return IntakeResult("duplicate", (done.result or {}).get("lead_id"))
        return IntakeResult(result["outcome"], result["lead_id"])

    def _effects(self, lead: Lead, event: SyncEvent, key: str) -> list[Effect]:
        # Keyed like the sync task of this form used to be (`sync-<key>`): the same form never records twice.
        effect_key = f"sync-{CrmSync.for_form(lead.lead_id, event, key).key}"
        return form_effects(
            lead, event, effect_key, store=self.store, clock=self.clock, language=self.manager_language
        )

    def _schedule_together(self, jobs: list[tuple[Job, datetime]]) -> None:
        """Enqueue the jobs concurrently (each is one Cloud Tasks request); raises the first failure."""
        if len(jobs) < 2:
            for job, run_at in jobs:
                self.scheduler.schedule(job, run_at=run_at)
            return
        futures = [
            _POOL.submit(contextvars.copy_context().run, self.scheduler.schedule, job, run_at)
            for job, run_at in jobs
        ]
        for future in futures:
            future.result()


def lead_id_for(form_key: str) -> str:
    """A new lead's id, from its form's key: a form retried after a crash makes the same lead (and finds
    the tasks it enqueued), and the id is as spread and as opaque as a random one."""
    return hashlib.sha256(f"lead|{form_key}".encode()).hexdigest()[:20]
