"""Use case: what a Tilda form (or the parent's registration) must bring about: the lead's CRM row and
the managers' message, as outbox effects (delivered by the batched CRM writer)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shared.domain.effects import Effect, EffectKind
from shared.domain.email_chain import new_lead_text, new_lead_title
from shared.domain.jobs import SyncEvent
from shared.domain.leads import Lead
from shared.ports import Clock, StateStore, update_document

# Columns a form submission changes; status and the step flags belong to the managers and the chain.
CONTACT_COLUMNS = (
    "name",
    "phone",
    "email",
    "child_age",
    "language",
    "utm_source",
    "utm_medium",
    "utm_campaign",
)
# What the bot changes when a parent registers or follows the deep link; it owns the ACTIVATED status.
ACTIVATION_COLUMNS = (*CONTACT_COLUMNS, "status", "tg_id", "tg_username", "bot_activated")
# A parent who sends the form again and again is one "repeat request" message per lead in this window
# (the CRM row still follows every form).
REPEAT_NOTICES = "repeat_notices"
LOG_EVENTS = {
    SyncEvent.CREATED: "LEAD_CREATED",
    SyncEvent.UPDATED: "REPEAT_REQUEST",
    SyncEvent.ACTIVATED: "BOT_ACTIVATED",
}
REPEAT_NOTICE_WINDOW = timedelta(hours=3)


def form_effects(
    lead: Lead, event: SyncEvent, key: str, *, store: StateStore, clock: Clock, language: str
) -> list[Effect]:
    """The row (the form's columns; the managers' status it had is remembered) and, for a new lead or the
    first repeat in the window, the managers' message. `key` is the form's (a redelivery records nothing
    new)."""
    columns = ACTIVATION_COLUMNS if event is SyncEvent.ACTIVATED else CONTACT_COLUMNS
    remember = event in (SyncEvent.CREATED, SyncEvent.UPDATED)
    effects = [
        Effect(
            kind=EffectKind.CRM_ROW, lead_id=lead.lead_id, key=key, columns=columns, remember_status=remember
        ),
        Effect(  # the lead's story on the Log sheet: created, asked again, reached the bot
            kind=EffectKind.CRM_LOG,
            lead_id=lead.lead_id,
            key=key,
            log_time=clock.now(),
            log_event=LOG_EVENTS[event],
            log_details=_details(lead, event),
        ),
    ]
    if event is not SyncEvent.UPDATED or first_repeat_in_window(store, clock, lead.lead_id):
        text = new_lead_text(lead, event, language)
        line = new_lead_title(lead, event, language)
        fresh = event is SyncEvent.CREATED  # a new lead: managers call; the rest updates its card
        effects.append(
            Effect(kind=EffectKind.MANAGERS, lead_id=lead.lead_id, key=key, text=text, line=line, fresh=fresh)
        )
    return effects


def first_repeat_in_window(store: StateStore, clock: Clock, lead_id: str) -> bool:
    """True for the first repeat in the window (the window is read on our clock, not the store's TTL,
    which only cleans up)."""
    now = clock.now().timestamp()
    first = False

    def open_window(current: dict[str, Any] | None) -> dict[str, Any] | None:
        nonlocal first
        first = current is None or current["until"] <= now
        return {"until": now + REPEAT_NOTICE_WINDOW.total_seconds()} if first else None

    update_document(store, REPEAT_NOTICES, lead_id, open_window, ttl=REPEAT_NOTICE_WINDOW)
    return first


def _details(lead: Lead, event: SyncEvent) -> str:
    """A short human detail for the Log (no personal data: the row has it)."""
    if event is SyncEvent.ACTIVATED:
        return "Telegram" + (" (email link)" if lead.source.value == "tilda" else "")
    channel = " / ".join(part for part in (lead.source.value, lead.utm_source, lead.utm_campaign) if part)
    return channel
