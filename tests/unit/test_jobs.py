"""The job contract: one model per task payload, its deterministic name and its target, both ways."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.domain.jobs import (
    EMAIL_CHAIN_JOB,
    ChainStep,
    CrmSync,
    Reminder,
    ReminderKind,
    Step,
    SyncEvent,
    Target,
    chain_steps,
    reminders_for,
)

LEAD = "0a1b2c3d4e5f60718293"


def test_task_names_keep_the_scheme_queues_already_hold() -> None:
    assert CrmSync.for_form(LEAD, SyncEvent.CREATED, "tilda-tranid-" + "9" * 32).task_name() == (
        f"{LEAD}-sync-999999999999"
    )
    assert CrmSync.for_activation(LEAD).task_name() == f"{LEAD}-sync-activated"
    assert CrmSync.for_booking(LEAD, SyncEvent.RESCHEDULED, "beef0001").task_name() == (
        f"{LEAD}-sync-reschbeef0001"
    )
    assert [s.task_name() for s in chain_steps(LEAD)] == [
        f"{LEAD}-email1",
        f"{LEAD}-email2",
        f"{LEAD}-call-alert",
    ]
    assert [r.task_name() for r in reminders_for(LEAD, "beef0001")] == [
        f"{LEAD}-remind24h-beef0001",
        f"{LEAD}-remind5h-beef0001",
    ]


def test_every_job_names_its_target() -> None:
    assert CrmSync.for_activation(LEAD).target is Target.EMAIL_CHAIN
    assert ChainStep(step=Step.EMAIL2, lead_id=LEAD).target is Target.EMAIL_CHAIN
    assert Reminder(kind=ReminderKind.H5, lead_id=LEAD, booking_id="beef").target is Target.REMINDERS


@pytest.mark.parametrize(
    "job",
    [
        CrmSync.for_booking(LEAD, SyncEvent.SCHEDULED, "beef0001"),
        ChainStep(step=Step.CALL_ALERT, lead_id=LEAD),
    ],
)
def test_the_handler_reads_back_what_the_sender_wrote(job: CrmSync | ChainStep) -> None:
    assert EMAIL_CHAIN_JOB.validate_json(job.model_dump_json()) == job


def test_the_wire_format_is_plain_json() -> None:
    assert CrmSync.for_activation(LEAD).model_dump(mode="json") == {
        "step": "sync",
        "lead_id": LEAD,
        "event": "activated",
        "key": "activated",
    }
    assert Reminder.model_validate_json(
        f'{{"kind": "remind24h", "lead_id": "{LEAD}", "booking_id": "beef0001"}}'
    ) == Reminder(kind=ReminderKind.H24, lead_id=LEAD, booking_id="beef0001")


@pytest.mark.parametrize(
    "body",
    [
        b'{"step": "email3", "lead_id": "0a1b2c3d"}',  # no such step
        b'{"step": "email1", "lead_id": "../../etc"}',  # not a lead id
        b'{"step": "sync", "lead_id": "0a1b2c3d", "event": "deleted", "key": "k"}',  # no such event
        b'{"step": "sync", "lead_id": "0a1b2c3d", "event": "created", "key": "a b"}',
        b'{"lead_id": "0a1b2c3d"}',
        b"[]",
        b"not json",
    ],
)
def test_the_email_chain_handler_refuses_what_no_sender_writes(body: bytes) -> None:
    with pytest.raises(ValidationError):
        EMAIL_CHAIN_JOB.validate_json(body)


def test_a_reminder_of_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValidationError):
        Reminder.model_validate_json(b'{"kind": "remind1h", "lead_id": "0a1b2c3d", "booking_id": "beef"}')
