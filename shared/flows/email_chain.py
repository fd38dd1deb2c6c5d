"""Use case: the lead pipeline's tasks: CRM sync, email1 → email2 → call_alert.

Every step re-reads the lead and the CRM row, and stops once the parent opened the bot or a manager
moved the lead past NEW. Each step runs once per lead however often Cloud Tasks delivers it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from shared.domain.effects import Effect, EffectKind
from shared.domain.email_chain import (
    NEXT_STEP,
    STEP_COLUMN,
    booking_text,
    booking_title,
    call_alert_text,
    deep_link,
    render_email,
)
from shared.domain.jobs import BOOKING_EVENTS, ChainStep, CrmFlush, CrmSync, Step, SyncEvent
from shared.domain.leads import Lead, StepState
from shared.flows.crm_flush import CRM_WRITER, WRITER_LEASE, FlushRequests
from shared.flows.form_effects import CONTACT_COLUMNS, form_effects
from shared.flows.lead_repository import LeadRepository
from shared.flows.locks import take_lease
from shared.flows.once import AlreadyDone, Busy, run_once
from shared.flows.outbox import DeliveryOutcome, Outbox
from shared.i18n import t
from shared.ports import (
    Clock,
    Crm,
    CrmUnavailable,
    EmailMessage,
    Mailer,
    MailerError,
    Notifier,
    NotifyError,
    Scheduler,
    StateStore,
    StoreConflict,
)

log = logging.getLogger(__name__)

_BOOKING_COLUMNS = ("status", "lesson_at", "zoom_link", "calendar_event_id")
_BATCH = 300  # leads' effects per batch: one batchGet, one batchUpdate, one append (and one Log append)
_MAX_BATCHES = 10
# When a chain step first failed: it is retried (by its queue) until it has failed for the horizon.
FAILING_STEPS = "failing_steps"


class Outcome(StrEnum):
    DONE = "done"
    SKIPPED = "skipped"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(frozen=True)
class StepResult:
    outcome: Outcome
    detail: str = ""


class RetryLater(Exception):
    """A transient failure: answer 5xx so Cloud Tasks delivers the task again."""


@dataclass(frozen=True)
class ChainSettings:
    bot_username: str
    email2_delay: timedelta
    call_alert_delay: timedelta
    # An email that keeps failing for this long is given up (EFFECTS_HORIZON_HOURS, as the outbox's
    # dead letters); its queue retries for at least as long (infra/terraform/locals.tf).
    horizon: timedelta = timedelta(hours=24)
    timezone: str = "Europe/Riga"
    manager_language: str = "ru"  # managers' chat messages and developers' alerts
    # The batched CRM writer's delay (CRM_FLUSH_SECONDS): a task's CRM changes are written this much later
    # with all those recorded meanwhile. 0: each task writes its own changes at once (tests).
    crm_flush_seconds: int = 5


@dataclass
class EmailChain:
    store: StateStore
    leads: LeadRepository
    crm: Crm
    mailer: Mailer
    notifier: Notifier
    scheduler: Scheduler
    clock: Clock
    settings: ChainSettings
    outbox: Outbox
    flushes: FlushRequests

    def run(self, job: CrmSync | ChainStep | CrmFlush) -> StepResult:
        """Run one delivery of a task; raises RetryLater for what a later delivery can fix."""
        if isinstance(job, CrmFlush):
            return self.flush_crm()
        step, lead_id = job.step, job.lead_id
        try:
            return run_once(
                self.store,
                job.run_once_key(),
                lambda: self._dispatch(job),
                lease=timedelta(minutes=5),
                keep=timedelta(days=7),
                clock=self.clock,
            )
        except AlreadyDone:
            return StepResult(Outcome.DUPLICATE, "this step already ran")
        except Busy:
            raise RetryLater("the same step is running in another delivery") from None
        except CrmUnavailable as exc:
            self._alert_once(
                f"crm-{lead_id}-{step.value}",
                t(self.settings.manager_language, "dev_crm_down", reason=exc, lead_id=lead_id),
            )
            raise RetryLater(str(exc)) from None
        except StoreConflict as exc:
            raise RetryLater(str(exc)) from None

    def flush_crm(self) -> StepResult:
        """A `crm_flush` task: the batched writer, now."""
        self.flushes.starting()
        counts = self.write_batched()
        return StepResult(
            Outcome.DONE, ", ".join(f"{n} {o.value}" for o, n in counts.items()) or "nothing due"
        )

    def write_batched(self) -> dict[DeliveryOutcome, int]:
        """The batched writer: every CRM change and managers' message due in the outbox, a few hundred
        leads per batch, by one writer at a time (a second one would read the same rows and append a new
        lead twice); raises RetryLater while another one writes."""
        if not take_lease(self.store, CRM_WRITER, "lock", {}, lease=WRITER_LEASE, clock=self.clock):
            raise RetryLater("another CRM writer is running")
        counts: dict[DeliveryOutcome, int] = {}
        try:
            for _ in range(_MAX_BATCHES):
                batch = self.outbox.redrive(limit=_BATCH, batched=True)
                for outcome, count in batch.items():
                    counts[outcome] = counts.get(outcome, 0) + count
                if not batch or set(batch) != {DeliveryOutcome.DONE}:
                    break  # nothing left, or the sheet is failing: the reconciler takes it from here
        finally:
            self.store.delete(CRM_WRITER, "lock")
        return counts

    def catch_up_leads(self) -> int:
        """The reconciler's look at the leads: one whose row never reached the CRM well after its form
        (its effects were never recorded: a crash between the lead and its effects, Tilda giving up) gets
        its row recorded again; the outbox owns it from there. Returns how many."""
        behind = self.leads.behind_crm(self.clock.now())
        effects = [
            Effect(
                kind=EffectKind.CRM_ROW,
                lead_id=lead.lead_id,
                key=f"behind-{int(lead.due_at or 0)}",
                columns=CONTACT_COLUMNS,
                remember_status=True,
            )
            for lead in behind
        ]
        self.outbox.record(effects)
        for lead in behind:
            self.leads.caught_up(lead.lead_id)
        if behind:
            log.warning("leads behind the CRM caught up", extra={"count": len(behind)})
        return len(behind)

    def _write_crm(self, effects: list[Effect]) -> dict[str, DeliveryOutcome]:
        """CRM effects: recorded, then written by a flush a few seconds later with everything recorded
        meanwhile (or at once, without a delay)."""
        if not self.settings.crm_flush_seconds:
            return self.outbox.send(effects)
        self.outbox.record(effects)
        self.flushes.request(effects)
        return {}

    # ---- steps ---------------------------------------------------------------------------------
    def _dispatch(self, job: CrmSync | ChainStep) -> StepResult:
        lead = self.leads.get(job.lead_id)
        if lead is None:
            log.error("task for an unknown lead", extra={"lead_id": job.lead_id, "step": job.step.value})
            return StepResult(Outcome.REJECTED, "unknown lead")
        if isinstance(job, CrmSync):
            return self._sync(lead, job)
        return self._chain_step(job.step, lead)

    def _sync(self, lead: Lead, job: CrmSync) -> StepResult:
        """The row, a Log row for a booking event, and the managers' message: recorded in the outbox and
        delivered at once; whatever the CRM or Telegram refuses now, the reconciler delivers later."""
        event, key, language = job.event, f"sync-{job.key}", self.settings.manager_language
        if event in BOOKING_EVENTS:
            details = lead.lesson_at.isoformat(timespec="minutes") if lead.lesson_at else ""
            text = booking_text(lead, event, self.settings.timezone, language)
            line = booking_title(lead, event, self.settings.timezone, language)
            crm = [
                Effect(kind=EffectKind.CRM_ROW, lead_id=lead.lead_id, key=key, columns=_BOOKING_COLUMNS),
                self._log_effect(lead, key, f"LESSON_{event.upper()}", details),
            ]
            # A cancellation frees a slot managers may fill, an unconfirmed lesson wants a call: news; a
            # booking, a move or a confirmation updates the card.
            managers = [
                Effect(
                    kind=EffectKind.MANAGERS,
                    lead_id=lead.lead_id,
                    key=key,
                    text=text,
                    line=line,
                    fresh=event in (SyncEvent.CANCELLED, SyncEvent.UNCONFIRMED),
                )
            ]
        else:
            effects = form_effects(lead, event, key, store=self.store, clock=self.clock, language=language)
            crm = [e for e in effects if e.kind is not EffectKind.MANAGERS]
            managers = [e for e in effects if e.kind is EffectKind.MANAGERS]
        outcomes = self._write_crm(crm)
        outcomes.update(self.outbox.send(managers))
        effects = crm + managers
        pending = len(effects) - sum(outcome is DeliveryOutcome.DONE for outcome in outcomes.values())
        return StepResult(
            Outcome.DONE, f"{pending} of {len(effects)} effects pending" if pending else "synced"
        )

    def _skipped(self, step: Step, lead: Lead, reason: str) -> StepResult:
        """A step the lead no longer needs: said on the Log, with why (once per step)."""
        column = STEP_COLUMN[step]
        self._write_crm(
            [self._log_effect(lead, f"{step.value}-skipped", f"{column.upper()}_SKIPPED", reason)]
        )
        return StepResult(Outcome.SKIPPED, reason)

    def _log_effect(self, lead: Lead, key: str, event: str, details: str) -> Effect:
        return Effect(
            kind=EffectKind.CRM_LOG,
            lead_id=lead.lead_id,
            key=key,
            log_time=self.clock.now(),
            log_event=event,
            log_details=details,
        )

    def _chain_step(self, step: Step, lead: Lead) -> StepResult:
        if reason := lead.chain_stop_reason():
            return self._skipped(step, lead, reason)
        try:
            record = self.crm.read_lead(lead.lead_id)
        except CrmUnavailable as exc:
            # The store is the truth: the chain goes on with the managers' status last seen there.
            log.warning("CRM unreachable; the chain goes on from the store", extra={"reason": str(exc)})
        else:
            if record is None:  # the sync task has not written the row yet: the outbox writes it
                self._write_crm([Effect(kind=EffectKind.CRM_ROW, lead_id=lead.lead_id, key="row")])
            elif record.status.upper() not in ("", "NEW"):
                self._remember_crm_status(lead, record.status)
                return self._skipped(step, lead, "moved_by_manager")

        column = STEP_COLUMN[step]
        state: StepState | None = getattr(lead, column)
        failure = ""
        if state is None or state is StepState.FAILED:  # FAILED: an earlier attempt failed; try again
            try:
                state = self._deliver(step, lead)
            except (MailerError, NotifyError) as exc:
                failure = str(exc)
                transient = getattr(exc, "transient", True)
                if transient and not self._failing_for_the_horizon(step, lead):
                    self._record_failure(step, lead, failure, will_retry=True)
                    raise RetryLater(failure) from None
                state = StepState.FAILED
            lead = self._set_state(lead, column, state)

        if next_step := NEXT_STEP.get(step):
            delay = self.settings.email2_delay if next_step is Step.EMAIL2 else self.settings.call_alert_delay
            self.scheduler.schedule(
                ChainStep(step=next_step, lead_id=lead.lead_id), run_at=self.clock.now() + delay
            )
        if state is StepState.FAILED:
            self._record_failure(step, lead, failure, will_retry=False)
            return StepResult(Outcome.DONE, f"failed: {failure}")
        self._write_crm(
            [
                Effect(kind=EffectKind.CRM_ROW, lead_id=lead.lead_id, key=step.value, columns=(column,)),
                self._log_effect(lead, step.value, column.upper(), state.value),
            ]
        )
        return StepResult(Outcome.DONE, state.value)

    def _deliver(self, step: Step, lead: Lead) -> StepState:
        if step is Step.CALL_ALERT:  # the outbox delivers it, now or once Telegram is back
            language = self.settings.manager_language
            alert = Effect(
                kind=EffectKind.MANAGERS,
                lead_id=lead.lead_id,
                key=step.value,
                text=call_alert_text(lead, language),
                line=t(language, "manager_call_alert"),
                fresh=True,  # managers must call
            )
            self.outbox.send([alert])
            return StepState.SENT
        if not lead.email:
            return StepState.NO_EMAIL
        self.leads.ensure_token_index(lead)
        email = render_email(step, lead, deep_link(self.settings.bot_username, lead.link_token))
        self.mailer.send(
            EmailMessage(
                to=lead.email,
                subject=email.subject,
                html=email.html,
                text=email.text,
                idempotency_key=f"{lead.lead_id}-{step.value}",
                tags={"step": step.value},
            )
        )
        log.info("email sent", extra={"lead_id": lead.lead_id, "step": step.value})
        return StepState.SENT

    # ---- helpers -------------------------------------------------------------------------------
    def _failing_for_the_horizon(self, step: Step, lead: Lead) -> bool:
        """True once this step has been failing for the horizon (its first failure is remembered), so the
        answer does not hang on the retry count a caller claims."""
        now, key = self.clock.now(), f"{lead.lead_id}-{step.value}"
        first = {"since": now.isoformat()}
        self.store.create(FAILING_STEPS, key, first, ttl=self.settings.horizon + timedelta(days=1))
        stored = self.store.get(FAILING_STEPS, key)
        since = datetime.fromisoformat((stored.data if stored else first)["since"])
        return now - since >= self.settings.horizon

    def _set_state(self, lead: Lead, column: str, state: StepState) -> Lead:
        now = self.clock.now()
        updated = self.leads.update(
            lead.lead_id, lambda current: current.model_copy(update={column: state, "updated_at": now})
        )
        return updated or lead

    def _remember_crm_status(self, lead: Lead, status: str) -> None:
        if status and status != lead.crm_status:
            self.leads.update(lead.lead_id, lambda current: current.model_copy(update={"crm_status": status}))

    def _record_failure(self, step: Step, lead: Lead, reason: str, *, will_retry: bool) -> None:
        """Managers see a failed message in the CRM (through the batched writer: a long Resend outage
        with many leads stays within Sheets' quota); developers get one alert per step an hour while it
        is retried (an outage hits every lead), and one per lead and step when it is given up."""
        column = STEP_COLUMN[step]
        details = f"{reason}; {'will retry' if will_retry else 'gave up'}"
        if will_retry:
            lead = self._set_state(lead, column, StepState.FAILED)
        key = (
            f"{step.value}-{'failing' if will_retry else 'given-up'}"  # one Log row each, however many tries
        )
        self._write_crm(
            [
                Effect(kind=EffectKind.CRM_ROW, lead_id=lead.lead_id, key=key, columns=(column,)),
                self._log_effect(lead, key, f"{column.upper()}_FAILED", details[:200]),
            ]
        )
        language = self.settings.manager_language
        text = t(language, "dev_step_failed", step=step.value, lead_id=lead.lead_id, details=details)
        self._alert_once(f"{step.value}-retrying" if will_retry else f"{step.value}-{lead.lead_id}", text)

    def _alert_once(self, key: str, text: str) -> None:
        if self.store.create("alerts", key, {"text": text}, ttl=timedelta(hours=1)):
            self.notifier.alert_developers(text)
