"""Leases in the state store: short exclusive claims for work that must not interleave across instances.

A lease ends at `until`, read on the application's clock (the emulator's in local runs, so moving time on
frees the lease of a process killed mid-request, as waiting would in production); the store's TTL only
cleans up. A holder that crashed is taken over once its lease has ended, by compare-and-set, so two
takers never both win.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from shared.ports import Clock, StateStore, StoreConflict


def take_lease(
    store: StateStore,
    collection: str,
    key: str,
    data: Mapping[str, Any],
    *,
    lease: timedelta,
    clock: Clock | None = None,
) -> bool:
    """Hold `key` for `lease` (storing `data` with it): True if it was free, or its lease had ended."""
    now = clock.now().timestamp() if clock is not None else time.time()
    record = {**data, "until": now + lease.total_seconds()}
    if store.create(collection, key, record, ttl=lease):
        return True
    existing = store.get(collection, key)
    if existing is None:  # gone in between
        return store.create(collection, key, record, ttl=lease)
    until = existing.data.get("until")
    if isinstance(until, int | float) and until <= now:  # a holder that never came back
        return store.replace(collection, key, record, existing.version, ttl=lease)
    return False


@contextmanager
def hold_locks(
    store: StateStore,
    collection: str,
    keys: list[str],
    *,
    lease: timedelta = timedelta(seconds=30),
    wait_seconds: float = 10.0,
    clock: Clock | None = None,
) -> Iterator[None]:
    """Take every lock (in sorted order, so two holders never wait for each other) or raise StoreConflict.

    The lease frees a lock whose holder crashed; it must outlast the work done under it.
    """
    taken: list[str] = []
    try:
        for key in sorted(set(keys)):
            deadline = time.monotonic() + wait_seconds
            while not take_lease(store, collection, key, {"locked": True}, lease=lease, clock=clock):
                if time.monotonic() > deadline:
                    raise StoreConflict(f"{collection}/{key.split(':')[0]} stayed locked")
                time.sleep(0.02)
            taken.append(key)
        yield
    finally:
        for key in taken:
            store.delete(collection, key)
