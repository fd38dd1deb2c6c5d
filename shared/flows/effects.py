"""Use case: performing an effect (the outbox's `perform`), and what follows when one can never happen."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from shared.domain.effects import Effect, EffectKind
from shared.domain.leads import Lead, LeadStatus, crm_row, crm_values, erased_row
from shared.flows.cards import LeadCards
from shared.flows.lead_repository import LeadRepository
from shared.flows.outbox import PermanentFailure
from shared.ports import Clock, Crm, LogEntry, Notifier, NotifyError, RowChange

log = logging.getLogger(__name__)
# More managers' messages than this in one batch (a burst of leads) go as digests: Telegram lets a bot
# post about 20 messages a minute to a group.
DIGEST_AFTER = 3
DIGEST_LIMIT = 4000  # characters of one digest message (Telegram's limit is 4096)


@dataclass
class EffectPerformer:
    leads: LeadRepository
    # Built on first use: the reminders function records CRM effects but has no CRM client (nor needs
    # one): the reconciler, in email_chain, delivers them.
    crm_factory: Callable[[], Crm]
    notifier: Notifier
    cards: LeadCards | None = None  # None: managers' messages as plain texts

    @property
    def crm(self) -> Crm:
        return self.crm_factory()

    def __call__(self, effect: Effect) -> None:
        if effect.kind is EffectKind.CRM_ROW:
            self._crm_row(effect)
        elif effect.kind is EffectKind.CRM_LOG:
            entry = LogEntry(effect.log_time, effect.lead_id, effect.log_event, effect.log_details)  # type: ignore[arg-type]
            self.crm.append_log([entry])
        elif effect.kind is EffectKind.MANAGERS:
            self._tell_managers(effect)
        elif effect.kind is EffectKind.PARENT:
            if effect.booking_id is not None and not self._booking_stands(effect):
                log.info("reminder of a moved lesson dropped", extra={"effect_id": effect.effect_id})
                return  # nothing to say any more: done
            try:
                markup = json.loads(effect.reply_markup) if effect.reply_markup else None
                self.notifier.message_parent(effect.chat_id or 0, effect.text, markup)
            except NotifyError as exc:
                if exc.blocked:
                    raise PermanentFailure(str(exc)) from None
                raise

    def perform_batch(self, effects: list[Effect]) -> dict[str, Exception | None]:
        """The effects of many leads together (the batched writer): one row change per lead (its effects'
        columns together) and every Log row in two Sheets requests, the managers' messages one by one or,
        when many, as digests. What failed is reported per effect."""
        results: dict[str, Exception | None] = {}
        rows = [e for e in effects if e.kind is EffectKind.CRM_ROW]
        logs = [e for e in effects if e.kind is EffectKind.CRM_LOG]
        managers = [e for e in effects if e.kind is EffectKind.MANAGERS]
        for effect in effects:
            if effect.kind not in (EffectKind.CRM_ROW, EffectKind.CRM_LOG, EffectKind.MANAGERS):
                results[effect.effect_id] = _attempt(self, effect)
        # One message each, or digests when many; once Telegram refuses one, the rest waits for the next try.
        groups = [[e] for e in managers] if len(managers) <= DIGEST_AFTER else _digests(managers)
        refused: Exception | None = None
        for group in groups:
            if refused is None:
                try:
                    if len(group) == 1:
                        self._tell_managers(group[0])
                    else:  # a digest: too many cards for one chat at once; each lead's card comes later
                        self.notifier.notify_managers("\n\n".join(e.text for e in group))
                except Exception as exc:
                    refused = exc
            results.update({e.effect_id: refused for e in group})
        if rows or logs:
            results.update(self._rows(rows, logs))
        return results

    def _tell_managers(self, effect: Effect) -> None:
        """A lead's event on its card; anything else (or a lead gone) as a message of its own."""
        lead = self.leads.get(effect.lead_id) if self.cards and effect.line and effect.lead_id else None
        if self.cards is not None and lead is not None:
            self.cards.tell(effect, lead)
        else:
            self.notifier.notify_managers(effect.text)

    def _rows(self, effects: list[Effect], logs: list[Effect]) -> dict[str, Exception | None]:
        """The rows' changes and the Log rows, written together: they succeed or wait together."""
        entries = [LogEntry(e.log_time, e.lead_id, e.log_event, e.log_details) for e in logs]  # type: ignore[arg-type]
        by_lead: dict[str, list[Effect]] = {}
        for effect in effects:
            by_lead.setdefault(effect.lead_id or "", []).append(effect)
        results: dict[str, Exception | None] = {}
        changes: list[RowChange] = []
        leads: dict[str, Lead] = {}
        for lead_id, group in by_lead.items():
            if erased := _erasure(group):  # whatever else was due for the row: it is blanked now
                values = erased_row(lead_id, erased.erased_at)  # type: ignore[arg-type]
                changes.append(RowChange(lead_id, values, values))
                continue
            lead = self.leads.get(lead_id) if lead_id else None
            if lead is None:
                results.update({e.effect_id: PermanentFailure("the lead is gone") for e in group})
                continue
            columns = tuple(dict.fromkeys(c for e in group for c in e.columns))
            changes.append(RowChange(lead.lead_id, crm_values(lead, columns), crm_row(lead)))
            leads[lead_id] = lead
        try:
            before = self.crm.write_rows(changes, entries) if changes or entries else {}
        except Exception as exc:  # the whole batch waits for the next try
            return {**results, **{e.effect_id: exc for e in [*effects, *logs] if e.effect_id not in results}}
        results.update({e.effect_id: None for e in [*effects, *logs] if e.effect_id not in results})
        for lead_id, lead in leads.items():
            record = before.get(lead_id)
            status = record.status if record is not None else ""
            if status and status != lead.crm_status and any(e.remember_status for e in by_lead[lead_id]):
                self._remember_status(lead_id, status)
            if lead.due_at is not None:
                self.leads.caught_up(lead_id)  # the reconciler need not look for its row
        return results

    def _remember_status(self, lead_id: str, status: str) -> None:
        """The managers' status the row had: a manager who moved the lead on stops the email chain."""
        self.leads.update(lead_id, lambda current: current.model_copy(update={"crm_status": status}))

    def _booking_stands(self, effect: Effect) -> bool:
        lead = self.leads.get(effect.lead_id) if effect.lead_id else None
        return (
            lead is not None and lead.booking_id == effect.booking_id and lead.status is LeadStatus.SCHEDULED
        )

    def _crm_row(self, effect: Effect) -> None:
        """The row gets the store's values now (not those of when the effect was recorded): a late
        delivery never writes an older truth over a newer one."""
        if effect.erased_at is not None and effect.lead_id:
            values = erased_row(effect.lead_id, effect.erased_at)
            self.crm.write_lead(effect.lead_id, values, values)
            return
        lead = self.leads.get(effect.lead_id) if effect.lead_id else None
        if lead is None:
            raise PermanentFailure("the lead is gone")
        before = self.crm.write_lead(lead.lead_id, crm_values(lead, effect.columns), crm_row(lead))
        status = before.status if before is not None else ""
        if effect.remember_status and status and status != lead.crm_status:
            self.leads.update(lead.lead_id, lambda current: current.model_copy(update={"crm_status": status}))


@dataclass
class BlockedParent:
    """When a parent's message can never arrive (the bot was blocked): noted on the lead, and the CRM
    row and Log told through the outbox (delivered by whichever function has the CRM)."""

    leads: LeadRepository
    clock: Clock
    record: Callable[[list[Effect]], object]

    def __call__(self, effect: Effect, reason: str) -> None:
        if effect.kind is not EffectKind.PARENT or effect.lead_id is None:
            return
        now = self.clock.now()
        noted = self.leads.update(
            effect.lead_id, lambda lead: lead.model_copy(update={"bot_blocked": True, "updated_at": now})
        )
        if noted is None:
            return  # the lead is gone
        key = "blocked"  # once per lead: recording the same effects again records nothing
        self.record(
            [
                Effect(kind=EffectKind.CRM_ROW, lead_id=effect.lead_id, key=key, columns=("bot_blocked",)),
                Effect(
                    kind=EffectKind.CRM_LOG,
                    lead_id=effect.lead_id,
                    key=key,
                    log_time=now,
                    log_event="BOT_BLOCKED",
                    log_details=reason[:200],
                ),
            ]
        )


def _erasure(effects: list[Effect]) -> Effect | None:
    return next((e for e in effects if e.erased_at is not None), None)


def _digests(effects: list[Effect]) -> list[list[Effect]]:
    """The messages in groups whose texts, a blank line apart, fit one Telegram message."""
    groups: list[list[Effect]] = []
    size = 0
    for effect in effects:
        length = len(effect.text) + 2
        if not groups or size + length > DIGEST_LIMIT:
            groups.append([])
            size = 0
        groups[-1].append(effect)
        size += length
    return groups


def _attempt(perform: Callable[[Effect], object], effect: Effect | None) -> Exception | None:
    try:
        perform(effect)  # type: ignore[arg-type]
    except Exception as exc:
        return exc
    return None
