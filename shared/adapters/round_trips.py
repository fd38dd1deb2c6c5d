"""Round trips to the state store per request: logged with each request's outcome, read by `make bench`.

The store adapters call `count()` once per request they send to the store (a Redis command or script, a
Firestore RPC); an entry point wraps a request in `counting()`. Outside it nothing is counted. The count
lives in a context variable, which follows the request into the event loop (a task starts in a copy of
the scheduling thread's context) and into `asyncio.to_thread`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_COUNTER: ContextVar[list[int] | None] = ContextVar("store_round_trips", default=None)


def count(round_trips: int = 1) -> None:
    counter = _COUNTER.get()
    if counter is not None:
        counter[0] += round_trips


@contextmanager
def counting() -> Iterator[Callable[[], int]]:
    """Count the store round trips made inside; yields a function returning the count so far."""
    counter = [0]
    token = _COUNTER.set(counter)
    try:
        yield lambda: counter[0]
    finally:
        _COUNTER.reset(token)
