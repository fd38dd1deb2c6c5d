"""A per-parent sliding-window rate limit, exact under concurrent messages.

Each parent has one document holding the times of the messages it admitted within the longest window.
Admission is a compare-and-set on that document: two messages arriving together cannot both take the
last place, whichever instance handles them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.ports import Clock, StateStore, update_document

# Twenty messages sent at once all write one document: enough attempts for the last of them to get in.
_ATTEMPTS = 80


@dataclass(frozen=True)
class Limit:
    count: int
    window: timedelta


class RateLimiter:
    def __init__(self, store: StateStore, collection: str, limits: list[Limit], clock: Clock) -> None:
        if not limits:
            raise ValueError("a rate limiter needs at least one limit")
        self._store = store
        self._collection = collection
        self._limits = limits
        self._clock = clock
        self._keep = max(limit.window for limit in limits)

    def admit(self, key: str) -> bool:
        """Count one message for `key` if every limit allows it; False (and nothing counted) otherwise."""
        now = self._clock.now()
        admitted = False

        def take(current: dict[str, Any] | None) -> dict[str, Any] | None:
            nonlocal admitted
            times = [
                when
                for when in (datetime.fromisoformat(raw) for raw in (current or {}).get("times", []))
                if now - when < self._keep
            ]
            admitted = all(
                sum(1 for when in times if now - when < limit.window) < limit.count for limit in self._limits
            )
            if not admitted:
                return None
            return {"times": [when.isoformat() for when in [*times, now]]}

        update_document(self._store, self._collection, key, take, attempts=_ATTEMPTS, ttl=self._keep)
        return admitted
