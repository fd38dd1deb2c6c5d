"""The waitlist document in the store: read in the same round trip as the slot cache when listing, and
changed by compare-and-set (joins, leaves and holds of many parents land on it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from shared.domain.waitlist import ENTRY_LIFETIME, Queue
from shared.ports import Document, StateStore, update_document

WAITLIST = "waitlist"
QUEUE = "queue"
KEEP = ENTRY_LIFETIME + timedelta(days=1)  # every write starts it again; an idle waitlist goes


def queue_of(document: Document | None) -> Queue:
    return Queue.model_validate(document.data) if document is not None else Queue()


def read_queue(store: StateStore) -> Queue:
    return queue_of(store.get(WAITLIST, QUEUE))


def change_queue(store: StateStore, change: Callable[[Queue], Queue | None]) -> Queue:
    """Apply `change` (None: write nothing) to the queue as stored now; the queue as it is after."""
    result: list[Queue] = []

    def apply(data: dict[str, Any] | None) -> dict[str, Any] | None:
        current = Queue.model_validate(data) if data is not None else Queue()
        changed = change(current)
        result[:] = [changed if changed is not None else current]
        return changed.model_dump(mode="json") if changed is not None else None

    update_document(store, WAITLIST, QUEUE, apply, ttl=KEEP)
    return result[0]
