"""Short exclusive locks in the state store, for work that must not interleave across instances."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from shared.ports import StateStore, StoreConflict


@contextmanager
def hold_locks(
    store: StateStore,
    collection: str,
    keys: list[str],
    *,
    lease: timedelta = timedelta(seconds=30),
    wait_seconds: float = 10.0,
) -> Iterator[None]:
    """Take every lock (in sorted order, so two holders never wait for each other) or raise StoreConflict.

    The lease frees a lock whose holder crashed; it must outlast the work done under it.
    """
    taken: list[str] = []
    try:
        for key in sorted(set(keys)):
            deadline = time.monotonic() + wait_seconds
            while not store.create(collection, key, {"locked": True}, ttl=lease):
                if time.monotonic() > deadline:
                    raise StoreConflict(f"{collection}/{key.split(':')[0]} stayed locked")
                time.sleep(0.02)
            taken.append(key)
        yield
    finally:
        for key in taken:
            store.delete(collection, key)
