"""Every Cloud Tasks job: its payload model, its deterministic task name and its target. Pure.

The flows that schedule a job and the entry point that receives it import the same model, so the wire
format is written once. A task's name is derived from its payload: enqueuing the same job twice is refused
by Cloud Tasks as a duplicate (409), which is what makes scheduling idempotent.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

LeadId = Annotated[str, Field(pattern=r"^[a-f0-9]{8,64}$")]
BookingId = Annotated[str, Field(pattern=r"^[a-f0-9]{4,32}$")]


class Target(StrEnum):
    """The task handler (a function) a job is delivered to; each has its own queue."""

    EMAIL_CHAIN = "email_chain"
    REMINDERS = "reminders"


class Step(StrEnum):
    """What an `email_chain` task does."""

    SYNC = "sync"  # write the lead to the CRM and tell the managers
    EMAIL1 = "email1"
    EMAIL2 = "email2"
    CALL_ALERT = "call_alert"
    CRM_FLUSH = "crm_flush"  # the batched CRM writer: what the outbox holds for the sheet


ChainStepKind = Literal[Step.EMAIL1, Step.EMAIL2, Step.CALL_ALERT]


class SyncEvent(StrEnum):
    """Why a lead's CRM row and the managers are brought up to date."""

    CREATED = "created"  # a new Tilda form
    UPDATED = "updated"  # the same parent sent the form again
    ACTIVATED = "activated"  # the parent opened the bot (deep link or registration)
    SCHEDULED = "scheduled"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"
    CONFIRMED = "confirmed"  # the parent pressed ✅ I'll be there under a reminder
    UNCONFIRMED = "unconfirmed"  # the last reminder went out unanswered: managers may call


BOOKING_EVENTS = frozenset(
    {
        SyncEvent.SCHEDULED,
        SyncEvent.RESCHEDULED,
        SyncEvent.CANCELLED,
        SyncEvent.CONFIRMED,
        SyncEvent.UNCONFIRMED,
    }
)


class ReminderKind(StrEnum):
    H24 = "remind24h"
    H5 = "remind5h"

    @property
    def before_lesson(self) -> timedelta:
        return timedelta(hours=24) if self is ReminderKind.H24 else timedelta(hours=5)


class _Job(BaseModel, ABC):
    model_config = ConfigDict(frozen=True)
    target: ClassVar[Target]

    @abstractmethod
    def task_name(self) -> str:
        """The Cloud Tasks task id: deterministic, so enqueuing the same job twice is refused."""

    @abstractmethod
    def run_once_key(self) -> str:
        """The store key under which one delivery of this job claims its effect."""


class CrmSync(_Job):
    """Write the lead's row (and a Log row for a booking event) and tell the managers."""

    target: ClassVar[Target] = Target.EMAIL_CHAIN
    step: Literal[Step.SYNC] = Step.SYNC
    lead_id: LeadId
    event: SyncEvent
    key: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")

    @classmethod
    def for_form(cls, lead_id: str, event: SyncEvent, dedupe_key: str) -> CrmSync:
        """One per Tilda submission (a retried submission has the same dedupe key)."""
        return cls(lead_id=lead_id, event=event, key=dedupe_key[-12:])

    @classmethod
    def for_activation(cls, lead_id: str) -> CrmSync:
        """One per lead: following the link and then registering tells the managers once."""
        return cls(lead_id=lead_id, event=SyncEvent.ACTIVATED, key=SyncEvent.ACTIVATED.value)

    @classmethod
    def for_booking(cls, lead_id: str, event: SyncEvent, booking_id: str) -> CrmSync:
        """One per booking and event: booked, then rescheduled or cancelled."""
        return cls(lead_id=lead_id, event=event, key=f"{event.value[:5]}{booking_id}")

    def task_name(self) -> str:
        return f"{self.lead_id}-sync-{self.key}"

    def run_once_key(self) -> str:
        return f"step-{self.lead_id}-{self.step.value}-{self.key}"


class ChainStep(_Job):
    """One step of the email chain: email1 (+30 min) → email2 (+24 h) → call_alert (+24 h)."""

    target: ClassVar[Target] = Target.EMAIL_CHAIN
    step: ChainStepKind
    lead_id: LeadId

    def task_name(self) -> str:
        return f"{self.lead_id}-{self.step.value.replace('_', '-')}"

    def run_once_key(self) -> str:
        return f"step-{self.lead_id}-{self.step.value}"


class Reminder(_Job):
    """A lesson reminder; it carries the booking it was made for, so a moved lesson's never fires."""

    target: ClassVar[Target] = Target.REMINDERS
    kind: ReminderKind
    lead_id: LeadId
    booking_id: BookingId

    def task_name(self) -> str:
        return f"{self.lead_id}-{self.kind.value}-{self.booking_id}"

    def run_once_key(self) -> str:
        return f"reminder-{self.lead_id}-{self.booking_id}-{self.kind.value}"


class AfterLesson(_Job):
    """The parent's message after the trial lesson, once a manager marked it (attended: thanks and what
    comes next; no-show: an offer to pick a new time). Runs a little after the mark, so a corrected press
    settles first; named after the booking, so one booking gets one message."""

    target: ClassVar[Target] = Target.REMINDERS
    kind: Literal["after"] = "after"
    lead_id: LeadId
    booking_id: BookingId

    def task_name(self) -> str:
        return f"{self.lead_id}-after-{self.booking_id}"

    def run_once_key(self) -> str:
        return f"after-{self.lead_id}-{self.booking_id}"


class Nudge(_Job):
    """A look at a parent's chat that stopped half-way (shared/bot/nudges.py); named after when it is due,
    so two chains due at one moment are one task."""

    target: ClassVar[Target] = Target.REMINDERS
    kind: Literal["nudge"] = "nudge"
    chat_id: int = Field(gt=0)
    due: int = Field(gt=0)  # epoch seconds

    def task_name(self) -> str:
        return f"nudge-{self.chat_id}-{self.due}"

    def run_once_key(self) -> str:
        return self.task_name()


class SlotFreed(_Job):
    """A slot came free (a cancellation, a hold let go, a free slot seen while listing): the waitlist's
    first parent it suits is offered it. It carries the slot, so the reminders function needs no
    calendar; the booking checks the calendar again. Named after the slot and the minute."""

    target: ClassVar[Target] = Target.REMINDERS
    kind: Literal["slot_freed"] = "slot_freed"
    event_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,1024}$")
    start: AwareDatetime
    end: AwareDatetime
    due: int = Field(gt=0)  # epoch seconds, the minute it was freed
    after: str = Field(default="", pattern=r"^[a-f0-9]{0,32}$")  # the hold that let it go, if one did

    def task_name(self) -> str:
        slot = hashlib.sha256(self.event_id.encode()).hexdigest()[:16]
        return f"freed-{slot}-{self.due}" + (f"-{self.after}" if self.after else "")

    def run_once_key(self) -> str:
        return self.task_name()


class HoldEnd(_Job):
    """A waitlist hold's time is up: let the slot go to the next parent unless it was booked."""

    target: ClassVar[Target] = Target.REMINDERS
    kind: Literal["hold_end"] = "hold_end"
    hold_id: str = Field(pattern=r"^[a-f0-9]{8,32}$")

    def task_name(self) -> str:
        return f"hold-{self.hold_id}"

    def run_once_key(self) -> str:
        return self.task_name()


class CrmFlush(_Job):
    """Write the CRM changes the outbox holds, many leads per Sheets request. Every task that records CRM
    changes asks for one a few seconds later; the first to run writes what all of them recorded (the
    rest find nothing due), which is what batches a burst of leads."""

    target: ClassVar[Target] = Target.EMAIL_CHAIN
    step: Literal[Step.CRM_FLUSH] = Step.CRM_FLUSH
    key: str = Field(pattern=r"^[a-f0-9]{8,40}$")  # from the effects that asked for it

    @classmethod
    def after(cls, effect_ids: list[str]) -> CrmFlush:
        return cls(key=hashlib.sha256("|".join(effect_ids).encode()).hexdigest()[:16])

    def task_name(self) -> str:
        return f"crm-flush-{self.key}"

    def run_once_key(self) -> str:
        return f"crm-flush-{self.key}"


EmailChainJob = Annotated[CrmSync | ChainStep | CrmFlush, Field(discriminator="step")]
Job = CrmSync | ChainStep | CrmFlush | Reminder | AfterLesson | Nudge | SlotFreed | HoldEnd
ReminderJob = Reminder | AfterLesson | Nudge | SlotFreed | HoldEnd

EMAIL_CHAIN_JOB: TypeAdapter[CrmSync | ChainStep | CrmFlush] = TypeAdapter(EmailChainJob)
REMINDERS_JOB: TypeAdapter[ReminderJob] = TypeAdapter(ReminderJob)


def chain_steps(lead_id: str) -> list[ChainStep]:
    """Every step of a lead's email chain (to cancel them all when the parent opens the bot)."""
    return [ChainStep(step=step, lead_id=lead_id) for step in (Step.EMAIL1, Step.EMAIL2, Step.CALL_ALERT)]


def reminders_for(lead_id: str, booking_id: str) -> list[Reminder]:
    return [Reminder(kind=kind, lead_id=lead_id, booking_id=booking_id) for kind in ReminderKind]
