"""Durable effects: what must reach the outside world, recorded before it is attempted. Pure.

The store is the truth; an effect is the world being told about it (a CRM row, a Log row, the managers'
message, a parent's message). Each has a deterministic id, so recording it twice records it once, and a
record that says whether it still has to happen, when to try next, and how often it failed. The outbox
flow (`shared/flows/outbox.py`) delivers them; the reconciler re-drives what is overdue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.jobs import LeadId

OUTBOX = "outbox"  # the store collection of effect records


class EffectKind(StrEnum):
    CRM_ROW = "crm_row"  # the lead's row brought up to the store's values of `columns`
    CRM_LOG = "crm_log"  # one row of the Log sheet
    MANAGERS = "managers"  # a message to the managers' chat
    PARENT = "parent"  # a message to a parent's own chat (reminders)

    @property
    def batched(self) -> bool:
        """Delivered by the batched writer with the others due: CRM effects many leads per Sheets request,
        managers' messages as one digest when many come together (a burst of leads)."""
        return self in (EffectKind.CRM_ROW, EffectKind.CRM_LOG, EffectKind.MANAGERS)

    @property
    def service(self) -> str:
        """The outside service the effect needs: one incident (one alert) per service, not per kind."""
        return "crm" if self in (EffectKind.CRM_ROW, EffectKind.CRM_LOG) else "telegram"


class Effect(BaseModel):
    """One thing the world must be told, once. `key` makes it unique among the lead's effects of its kind."""

    model_config = ConfigDict(frozen=True)

    kind: EffectKind
    lead_id: LeadId | None = None  # None only for a message to a chat whose parent has no lead yet
    key: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,80}$")
    columns: tuple[str, ...] = ()  # CRM_ROW
    remember_status: bool = False  # CRM_ROW: keep the managers' status the row had (form events)
    # CRM_ROW: the parent was forgotten at this time: the row is blanked (the lead is gone from the store)
    erased_at: datetime | None = None
    text: str = ""  # MANAGERS, PARENT
    # MANAGERS about a lead: the event's line on the lead's card (empty: `text` as a message of its own),
    # and whether it is news managers must act on (a new card below) rather than an edit of the card.
    line: str = ""
    fresh: bool = False
    chat_id: int | None = None  # PARENT
    booking_id: str | None = None  # PARENT: a reminder of this booking, pointless once the lesson moved
    # PARENT: the keyboard the message carries, as Bot API JSON text (Firestore stores no nested arrays)
    reply_markup: str | None = None
    log_time: datetime | None = None  # CRM_LOG
    log_event: str = ""
    log_details: str = ""

    @classmethod
    def to_parent(
        cls,
        chat_id: int | None,
        text: str,
        *,
        key: str,
        lead_id: str | None,
        markup: dict[str, Any] | None = None,
        booking_id: str | None = None,
    ) -> Effect:
        """A message to a parent's chat, with its keyboard (Bot API JSON) as text."""
        return cls(
            kind=EffectKind.PARENT,
            lead_id=lead_id,
            key=key,
            chat_id=chat_id,
            text=text,
            booking_id=booking_id,
            reply_markup=json.dumps(markup, ensure_ascii=False) if markup else None,
        )

    @property
    def effect_id(self) -> str:
        return f"{self.lead_id or f'chat{self.chat_id}'}-{self.kind.value}-{self.key}"


class EffectState(StrEnum):
    PENDING = "pending"  # still to happen (due at `due_at`)
    DONE = "done"
    STOPPED = "stopped"  # can never happen (the parent blocked the bot): not retried
    DEAD = "dead"  # failing past the horizon: alerted once, still retried, slowly


@dataclass(frozen=True)
class RetryPolicy:
    """When to try again. The first retry comes soon (a blip), later ones back off to `max_backoff`; past
    `horizon` the effect is a dead letter, tried every `dead_interval` until the service is back."""

    first_backoff: timedelta = timedelta(seconds=30)
    max_backoff: timedelta = timedelta(minutes=30)
    horizon: timedelta = timedelta(hours=24)
    dead_interval: timedelta = timedelta(hours=1)
    # Developers hear of a failing kind after this many failed attempts (a few minutes), once an hour.
    alert_after_attempts: int = 3
    # How long one delivery may hold an effect before another may take it over (a killed process).
    lease: timedelta = timedelta(minutes=2)

    def backoff(self, attempts: int) -> timedelta:
        doublings = min(max(attempts - 1, 0), 20)  # past 20 the cap has long been reached
        return min(self.first_backoff * 2**doublings, self.max_backoff)


def new_record(effect: Effect, now: datetime, policy: RetryPolicy) -> dict[str, Any]:
    """A pending record. A batched effect is due at once (the batched writer takes it); any other is due
    after one lease: it is delivered right away, and re-driven only if that delivery dies."""
    return {
        "effect": effect.model_dump(mode="json"),
        "state": EffectState.PENDING.value,
        "attempts": 0,
        "created_at": now.isoformat(),
        "due_at": (now if effect.kind.batched else now + policy.lease).timestamp(),
        "last_error": "",
    }
