"""Updates that can never be handled: acknowledged rather than redelivered for ever.

Telegram delivers a bot's updates in order and retries one that fails, so an update that always fails
holds up that chat (and fills the logs) until Telegram gives up hours later. One python-telegram-bot
cannot read at all is acknowledged at once; one whose handling keeps failing is acknowledged after
`POISON_AFTER` attempts, counted in the store. Either way it is logged once as a warning (no personal
data: the update's id and its field names) and the developers hear of such updates once an hour.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from shared.ports import StateStore, update_document

log = logging.getLogger(__name__)

UPDATE_FAILURES = "update_failures"  # failed attempts per update, kept as long as Telegram retries
POISON_AFTER = 3
_KEEP = timedelta(days=2)


class MalformedUpdate(Exception):
    """The update's JSON is not an update python-telegram-bot can read: it never will be."""


@dataclass
class PoisonUpdates:
    store: StateStore
    alert: Callable[[str, str], None]  # (incident key, text): once per incident and hour

    def failed(self, update: dict[str, Any]) -> bool:
        """This attempt failed: True when the update has failed too often and is now given up."""
        key = str(update.get("update_id"))

        def count(current: dict[str, Any] | None) -> dict[str, Any]:
            return {"attempts": int((current or {}).get("attempts", 0)) + 1}

        attempts = int(
            (update_document(self.store, UPDATE_FAILURES, key, count, ttl=_KEEP) or {})["attempts"]
        )
        if attempts < POISON_AFTER:
            return False
        self.give_up(update, f"failed {attempts} times")
        return True

    def give_up(self, update: dict[str, Any], reason: str) -> None:
        """Acknowledged for good (Telegram does not deliver an acknowledged update again)."""
        fields = sorted(k for k in update if k != "update_id")[:5]
        log.warning(
            "telegram update given up",
            extra={"update_id": update.get("update_id"), "fields": fields, "reason": reason},
        )
        self.alert(
            "tg-poison-updates",
            f"Telegram updates given up (e.g. update {update.get('update_id')} with {', '.join(fields)}: "
            f"{reason}). They are acknowledged so Telegram stops retrying them; see the warning logs.",
        )
