"""Factories for realistic inputs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from shared.domain.effects import RetryPolicy
from shared.flows.assistant import AssistantSettings
from shared.flows.effects import BlockedParent, EffectPerformer
from shared.flows.lead_repository import LeadRepository
from shared.flows.outbox import Outbox, alert_once
from shared.knowledge import DEFAULT_DIR
from shared.ports import Clock, Crm, StateStore
from tests.fakes import RecordingNotifier


def tilda_form(**overrides: str | None) -> dict[str, str]:
    """A submission as Tilda posts it (form fields + tranid/formid + COOKIES with UTM tags)."""
    form: dict[str, str | None] = {
        "Name": "Анна Петрова",
        "Phone": "+7 (916) 123-45-67",
        "Email": "Anna.Petrova@Example.com",
        "child_age": "8",
        "tranid": "8765432:1234567890",
        "formid": "form123456789",
        "COOKIES": (
            "_ga=GA1.2.3; TILDAUTM=utm_source%3Dinstagram%7C%7C%7Cutm_medium%3Dcpc"
            "%7C%7C%7Cutm_campaign%3Dautumn%7C%7C%7C"
        ),
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def urlencoded(form: dict[str, str]) -> bytes:
    return urlencode(form).encode()


MANAGER_LINK = "https://t.me/allin_manager"


def assistant_settings(**overrides: Any) -> AssistantSettings:
    """The assistant's settings as production defaults them, the manager's link allowed in answers."""
    values: dict[str, Any] = {
        "manager_link": MANAGER_LINK,
        "knowledge_dir": DEFAULT_DIR,
        "link_hosts": frozenset(),
        "link_urls": frozenset({MANAGER_LINK}),
        "history_turns": 6,
        "history_ttl": timedelta(hours=24),
        "max_question_chars": 1000,
        "max_answer_chars": 1000,
    }
    return AssistantSettings(**{**values, **overrides})


def scene_context(
    leads: Any,
    scheduler: Any,
    clock: Any,
    *,
    booking: Any = None,
    video_note: str | None = None,
    manager_link: str = "https://t.me/allin_manager",
    erasure: Any = None,
) -> Any:
    """The scenes' context on the given fakes; `booking` None: no calendar (a manager arranges lessons)."""
    from shared.bot.scenes.base import SceneContext, SceneSettings
    from shared.domain.booking import BookingRules
    from shared.flows.registration import Registration

    return SceneContext(
        registration=Registration(leads=leads, scheduler=scheduler, clock=clock),
        clock=clock,
        rules=booking.rules if booking is not None else BookingRules(timezone="Europe/Riga"),
        booking_factory=(lambda: booking) if booking is not None else None,
        erasure_factory=(lambda: erasure) if erasure is not None else None,
        settings=SceneSettings(
            manager_link=manager_link,
            privacy_policy_url="https://allinacademy.example/privacy",
            privacy_policy_version="2026-11",
            welcome_video_note=video_note,
            phone_region="RU",
        ),
    )


def outbox(
    store: StateStore,
    clock: Clock,
    leads: LeadRepository,
    crm: Crm,
    notifier: RecordingNotifier,
    policy: RetryPolicy | None = None,
) -> Outbox:
    """The outbox as the bootstrap wires it, on the given fakes (alerts: once per incident and hour)."""
    performer = EffectPerformer(leads, lambda: crm, notifier)
    box = Outbox(
        store=store,
        clock=clock,
        perform=performer,
        perform_batch=performer.perform_batch,
        alert=alert_once(store, notifier.alert_developers),
        policy=policy or RetryPolicy(),
    )
    box.on_stopped = BlockedParent(leads, clock, box.record)
    return box
