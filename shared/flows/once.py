"""Run an action at most once per key across duplicate deliveries (Tilda retries, Cloud Tasks redelivery)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from shared.flows.locks import take_lease
from shared.ports import Clock, StateStore

T = TypeVar("T")
ONCE = "once"


class Busy(Exception):
    """Another delivery of the same work is running now: answer "retry later"."""


class AlreadyDone(Exception):
    """This work was completed by an earlier delivery; `result` is what that delivery returned."""

    def __init__(self, key: str, result: Any = None) -> None:
        super().__init__(key)
        self.result = result


def run_once(
    store: StateStore,
    key: str,
    action: Callable[[], T],
    *,
    lease: timedelta = timedelta(minutes=5),
    keep: timedelta = timedelta(days=7),
    clock: Clock | None = None,
) -> T:
    """Claim `key`, run `action`, mark it done; release the claim if `action` raises.

    The lease must outlast the longest run of `action` (a function's timeout), or a redelivery could
    start the same work while the first one is still going; a delivery killed mid-way is taken over
    once its lease has ended (on `clock`).
    """
    if not take_lease(store, ONCE, key, {"state": "running"}, lease=lease, clock=clock):
        existing = store.get(ONCE, key)
        if existing is not None and existing.data.get("state") == "done":
            raise AlreadyDone(key, existing.data.get("result"))
        raise Busy(key)
    try:
        result = action()
    except BaseException:
        store.delete(ONCE, key)
        raise
    mark_done(store, key, result if isinstance(result, dict) else None, keep=keep)
    return result


def mark_done(store: StateStore, key: str, result: dict[str, Any] | None, *, keep: timedelta) -> None:
    """Record `key` as done without running anything (work given up for good): a redelivery is a
    duplicate from now on."""
    store.put(ONCE, key, {"state": "done", "result": result}, ttl=keep)
