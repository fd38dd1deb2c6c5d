"""Replies Telegram refused at the time (a flood wait, an outage): recorded in the outbox, so the parent
still gets them, in order, when the reconciler delivers them. What the update did (a booking) is done."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.bot.conversation import SESSIONS
from shared.bot.replies import Reply
from shared.domain.effects import Effect
from shared.ports import StateStore

if TYPE_CHECKING:
    from shared.flows.outbox import Outbox


@dataclass
class LateReplies:
    store: StateStore
    outbox: Callable[[], Outbox]

    def __call__(
        self, chat_id: int, update_id: int, replies: list[tuple[Reply, dict[str, Any] | None]]
    ) -> None:
        session = self.store.get(SESSIONS, str(chat_id))
        lead_id = session.data.get("lead_id") if session else None
        effects = [
            Effect.to_parent(
                chat_id,
                reply.text,
                key=f"reply-{update_id}-{index}",  # in order: the reconciler takes ties by id
                lead_id=lead_id,
                markup=markup,
            )
            for index, (reply, markup) in enumerate(replies)
        ]
        self.outbox().record(effects)
