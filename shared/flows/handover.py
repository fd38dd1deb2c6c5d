"""Use case: a parent's chat handed over from the assistant to the managers, and back.

The managers get a card (who the parent is, the model's summary of the conversation, the last messages)
with ✔ Done. While the handover lasts, the parent's free text is posted in the managers' chat as a reply
to that card, and a manager's reply to the card or to any relayed message goes to the parent as the
school's message. Each message posted in the managers' chat for a handover is indexed by its message id,
so a reply finds its parent. The state itself (is a manager on the chat?) lives in the parent's session;
the conversation and the desk change it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from shared.domain.desk import lead_card
from shared.domain.handover import HandoverReason
from shared.flows.lead_repository import LeadRepository
from shared.flows.rate_limit import RateLimiter
from shared.i18n import t
from shared.ports import ChatTurn, Notifier, NotifyError, StateStore

log = logging.getLogger(__name__)

HANDOVERS = "handovers"  # a managers' chat message id → the parent's chat it belongs to
RELAY_RATE = "handover_rate"  # the parent's relayed messages, limited like questions to the assistant
# How long a reply to a handover's message still reaches the parent; it bounds the index that erasing a
# parent scans too.
INDEX_KEPT = timedelta(days=30)
_QUOTE_CHARS = 300  # of each recent message on the card
_RECENT = 6  # messages on the card


@dataclass(frozen=True)
class Parent:
    """Who the parent is, as the session and Telegram know them."""

    chat_id: int
    language: str
    name: str | None = None
    username: str | None = None
    lead_id: str | None = None


@dataclass(frozen=True)
class Route:
    """Where a reply to a handover message in the managers' chat goes."""

    chat_id: int
    language: str
    card: int


@dataclass(frozen=True)
class HandoverSettings:
    language: str  # MANAGER_LANGUAGE: the card's
    timezone: str  # the academy's, for the lesson on the card


@dataclass
class Handover:
    store: StateStore
    notifier: Notifier
    leads: LeadRepository
    limiter: RateLimiter
    summary: Callable[[int, str, str], str | None]  # (chat_id, question, language) → the model's summary
    recent: Callable[[int], list[ChatTurn]]  # the chat's kept questions and answers
    done_markup: Callable[[int], dict[str, Any]]  # the ✔ Done keyboard for a parent's chat (Bot API JSON)
    settings: HandoverSettings

    def open(self, parent: Parent, question: str, reason: HandoverReason) -> int:
        """Post the handover card; its message id. NotifyError: the managers' chat is unreachable (or
        Telegram took the card without saying its id: a reply could not find the parent)."""
        language = self.settings.language
        lines = [t(language, f"handover_card_{reason.value}"), self._who(parent)]
        turns = self.recent(parent.chat_id)
        summary = self.summary(parent.chat_id, question, language) if turns or question else None
        if summary:
            lines += ["", f"{t(language, 'handover_summary')}: {summary}"]
        turns = [*turns, *([ChatTurn("user", question)] if question else [])][-_RECENT:]
        lines += ["", t(language, "handover_recent")]
        lines += [f"{'👤' if turn.role == 'user' else '🤖'} {_quote(turn.content)}" for turn in turns]
        lines += ["", t(language, "handover_how")]
        card = self.notifier.post_card("\n".join(lines), self.done_markup(parent.chat_id))
        if card is None:
            raise NotifyError("the handover card's message id is unknown")
        self._route(card, Route(parent.chat_id, parent.language, card))
        log.info("handover opened", extra={"chat_id": parent.chat_id, "reason": reason.value})
        return card

    def admit(self, chat_id: int) -> bool:
        """Count one relayed message against the parent's limits."""
        admitted = self.limiter.admit(str(chat_id))
        if not admitted:
            log.info("handover rate limit reached", extra={"chat_id": chat_id})
        return admitted

    def relay_to_managers(self, parent: Parent, card: int, text: str, *, spoken: bool = False) -> None:
        """The parent's message posted as a reply to their card (NotifyError: it was not)."""
        head = "🎤" if spoken else "👤"
        posted = self.notifier.post_card(f"{head} {self._name(parent)}:\n{text}", None, reply_to=card)
        if posted is not None:
            self._route(posted, Route(parent.chat_id, parent.language, card))
        log.info("handover message relayed", extra={"chat_id": parent.chat_id, "to": "managers"})

    def route(self, message_id: int) -> Route | None:
        """The parent a message of the managers' chat belongs to (None: not a handover's)."""
        found = self.store.get(HANDOVERS, _key(message_id))
        if found is None:
            return None
        data = found.data
        return Route(int(data["chat_id"]), str(data["language"]), int(data["card"]))

    def relay_to_parent(self, route: Route, text: str) -> None:
        """A manager's reply, sent to the parent as the school's message (NotifyError: it was not)."""
        self.notifier.message_parent(route.chat_id, t(route.language, "handover_from_manager", text=text))
        log.info("handover message relayed", extra={"chat_id": route.chat_id, "to": "parent"})

    def tell_done(self, chat_id: int, language: str) -> None:
        """Best effort: the parent hears the bot is back."""
        try:
            self.notifier.message_parent(chat_id, t(language, "handover_ended"))
        except NotifyError as exc:
            log.warning("handover end not told", extra={"chat_id": chat_id, "reason": str(exc)})
        log.info("handover done", extra={"chat_id": chat_id})

    def _route(self, message_id: int, route: Route) -> None:
        data = {"chat_id": route.chat_id, "language": route.language, "card": route.card}
        self.store.put(HANDOVERS, _key(message_id), data, ttl=INDEX_KEPT)

    def _who(self, parent: Parent) -> str:
        """Who they are in Telegram, and the lead's card when the parent is one."""
        lead = self.leads.get(parent.lead_id) if parent.lead_id else None
        if lead is None:
            return self._name(parent)
        return f"{self._name(parent)}\n{lead_card(lead, self.settings.timezone, self.settings.language)}"

    def _name(self, parent: Parent) -> str:
        parts = [parent.name or t(self.settings.language, "handover_unnamed")]
        if parent.username:
            parts.append(f"@{parent.username}")
        parts.append(f"(Telegram id {parent.chat_id})")
        return " ".join(parts)


def forget_chat(store: StateStore, chat_id: int) -> None:
    """A parent erased: their relay counter, and every index entry pointing at their chat (a month's
    handover messages at most)."""
    store.delete(RELAY_RATE, str(chat_id))
    keys = store.keys(HANDOVERS, "m", limit=10_000)
    found = store.get_many([(HANDOVERS, key) for key in keys])
    for key, document in zip(keys, found, strict=True):
        if document is not None and document.data.get("chat_id") == chat_id:
            store.delete(HANDOVERS, key)


def _key(message_id: int) -> str:
    return f"m{message_id}"  # a prefix every key shares, for the store's prefix scan


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _QUOTE_CHARS else text[: _QUOTE_CHARS - 1] + "…"
