"""Use case: the managers' messages about a lead kept as one card per lead, edited as the lead moves on.

A card shows the lead as it is now (the desk's card: contacts, status, lesson, buttons) and, below, a
line per event. An event managers must act on (a new lead, a call alert, a cancellation) posts the card
anew, at the bottom of the chat; any other event edits the card in place. A card Telegram no longer lets
be edited (deleted, too old) is posted anew. Each event is drawn once, however often its effect is
delivered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from shared.domain.effects import Effect
from shared.domain.leads import Lead
from shared.ports import Notifier, StateStore

CARDS = "cards"
_KEEP_LINES = 12  # the card's latest events; the Log sheet keeps them all


@dataclass
class LeadCards:
    store: StateStore
    notifier: Notifier
    # The lead's card as it is now: its text and inline keyboard (Bot API JSON).
    render: Callable[[Lead], tuple[str, dict[str, Any] | None]]
    retention: timedelta | None = None  # a card's record lives as long as its lead

    def tell(self, effect: Effect, lead: Lead) -> None:
        """Draw `effect`'s event on the lead's card (posting the card when it is news)."""
        found = self.store.get(CARDS, lead.lead_id)
        card: dict[str, Any] = dict(found.data) if found else {"message_id": None, "events": []}
        events = list(card.get("events") or [])
        if any(event.get("id") == effect.effect_id for event in events):
            return  # drawn already by an earlier delivery
        events = [*events, {"id": effect.effect_id, "line": effect.line}][-_KEEP_LINES:]
        text, markup = self.render(lead)
        text = f"{text}\n\n" + "\n".join(str(event["line"]) for event in events)
        message_id = card.get("message_id")
        edited = (
            isinstance(message_id, int)
            and not effect.fresh
            and self.notifier.edit_card(message_id, text, markup)
        )
        if not edited:
            message_id = self.notifier.post_card(text, markup)
        self.store.put(CARDS, lead.lead_id, {"message_id": message_id, "events": events}, ttl=self.retention)
