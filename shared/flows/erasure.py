"""Use case: a parent's right to be forgotten (/delete_me in the bot).

Everything the automation holds about the parent goes: the lead and the index entries that find it,
the chat's assistant history and rate counter, the outbox records of the lead and of the chat (their
messages hold names and phones), run-once keys and pending tasks. A booked lesson is released first
(calendar event back to a free slot, Zoom meeting deleted); that is the one step that can refuse, and
then nothing is deleted. The CRM keeps the row with status DELETED and its personal columns blank, so
managers' counts hold; that write, the Log row and the managers' note go through the outbox and the
batched writer like every CRM change, so an unavailable sheet delays them and loses none. The chat's
session is the conversation's to delete (shared/bot/conversation.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from shared.domain.effects import OUTBOX, Effect, EffectKind
from shared.domain.email_chain import manager_time
from shared.domain.leads import Lead
from shared.flows.cards import CARDS
from shared.flows.crm_flush import FlushRequests, record_for_writer
from shared.flows.lead_repository import LeadRepository
from shared.flows.once import ONCE
from shared.i18n import t
from shared.ports import Clock, Scheduler, StateStore

if TYPE_CHECKING:
    from shared.flows.booking import BookingFlow, Problem
    from shared.flows.outbox import Outbox
    from shared.flows.waitlist import Waitlist

log = logging.getLogger(__name__)
ERASED_KEY = "erased"  # the key of the erasure's effects: one set per lead
_PAGE = 500


@dataclass(frozen=True)
class Erased:
    lead_id: str | None  # None: the chat never became a lead
    released_lesson: datetime | None  # the booked lesson (still ahead) that was cancelled


@dataclass
class Erasure:
    store: StateStore
    leads: LeadRepository
    scheduler: Scheduler
    outbox: Callable[[], Outbox]
    flushes: FlushRequests
    clock: Clock
    booking: Callable[[], BookingFlow | None]  # None without a calendar
    timezone: str
    manager_language: str = "ru"
    waitlist: Callable[[], Waitlist | None] = lambda: None  # None without a calendar

    def erase(self, chat_id: int | None, lead_id: str | None, by: str | None = None) -> Erased | Problem:
        """Forget the chat and its lead (`chat_id` None: a lead that never wrote to the bot); `by`: the
        manager who erased it (None: the parent asked). Repeating it is harmless: what is gone stays gone."""
        lead = self.leads.get(lead_id) if lead_id else None
        released = None
        if lead is not None and (lead.calendar_event_id or lead.zoom_meeting_id):
            booking = self.booking()
            if booking is not None and (problem := booking.release(lead)):
                return problem
            # A past lesson's event is scrubbed too, but only a lesson still ahead is cancelled.
            if lead.lesson_at is not None and lead.lesson_at > self.clock.now():
                released = lead.lesson_at
        if lead is not None:
            self._forget_lead(lead, released, by)
        if chat_id is not None:
            self._forget_chat(chat_id)
        log.info("a parent's data erased", extra={"lead_id": lead_id, "lesson_released": bool(released)})
        return Erased(lead.lead_id if lead else None, released)

    def _forget_lead(self, lead: Lead, released: datetime | None, by: str | None) -> None:
        lead_id = lead.lead_id
        try:
            self.scheduler.cancel_lead(lead_id)
        except Exception as exc:  # a task left over finds no lead and does nothing
            log.warning("tasks of an erased lead not cancelled", extra={"reason": str(exc)})
        from shared.flows.email_chain import FAILING_STEPS
        from shared.flows.form_effects import REPEAT_NOTICES

        for collection, prefix in (
            (OUTBOX, f"{lead_id}-"),
            (ONCE, f"step-{lead_id}-"),
            (ONCE, f"reminder-{lead_id}-"),
            (FAILING_STEPS, f"{lead_id}-"),
        ):
            self._delete_keys(collection, prefix)
        self.store.delete(REPEAT_NOTICES, lead_id)
        self.store.delete(CARDS, lead_id)  # the managers' card: its record (the message is the chat's)
        if (waitlist := self.waitlist()) is not None:
            waitlist.leave(lead_id)  # off the list; a slot held for them goes to the next parent
        self.leads.forget(lead)
        # Recorded after the old records are gone: the row is blanked whatever was still due for it.
        effects = self._crm_effects(lead_id, released, by)
        record_for_writer(self.outbox(), self.flushes, effects)

    def _forget_chat(self, chat_id: int) -> None:
        from shared.flows.assistant import HISTORY, RATE
        from shared.flows.handover import forget_chat

        for collection in (HISTORY, RATE):
            self.store.delete(collection, str(chat_id))
        forget_chat(self.store, chat_id)
        self._delete_keys(OUTBOX, f"chat{chat_id}-")

    def _crm_effects(self, lead_id: str, released: datetime | None, by: str | None) -> list[Effect]:
        now, language = self.clock.now(), self.manager_language
        if by is None:
            text = t(language, "manager_deleted", lead_id=lead_id)
        else:
            text = t(language, "manager_deleted_by", lead_id=lead_id, who=by)
        details = f"by {by}" if by else ""
        if released is not None:
            details = " ".join(
                filter(None, [details, f"lesson {released.isoformat(timespec='minutes')} released"])
            )
            text += "\n" + t(language, "manager_deleted_lesson", when=manager_time(released, self.timezone))
        return [
            Effect(kind=EffectKind.CRM_ROW, lead_id=lead_id, key=ERASED_KEY, erased_at=now),
            Effect(
                kind=EffectKind.CRM_LOG,
                lead_id=lead_id,
                key=ERASED_KEY,
                log_time=now,
                log_event="DELETED",
                log_details=details,
            ),
            Effect(kind=EffectKind.MANAGERS, lead_id=lead_id, key=ERASED_KEY, text=text),
        ]

    def _delete_keys(self, collection: str, prefix: str) -> None:
        while True:
            keys = self.store.keys(collection, prefix, limit=_PAGE)
            for key in keys:
                self.store.delete(collection, key)
            if len(keys) < _PAGE:
                return
