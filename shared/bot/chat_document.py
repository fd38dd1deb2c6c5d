"""A chat's one document: its session, the updates it has handled, and who is working on it now.

Telegram redelivers an update until it gets a 2xx, and two updates of one chat (a button and a message)
may arrive at once on two instances. Both concerns live beside the session in the chat's document, so an
ordinary update costs one read and one compare-and-set write:

* `updates`: the ids of the chat's last handled updates. An update is marked handled in the same write
  that saves what it changed, so a redelivery finds it there and is a duplicate.
* `lock`: `{"update_id", "until"}` while a step changes more than the session (a booking, a
  registration, an erasure). Such a step takes it before its first outside effect, so the effect happens
  once; other updates of the chat wait for it. A holder that crashed frees it when `until` has passed.
* `asking`: `{update_id: until}` for questions and voice notes being answered. The slow, paid part runs
  without the lock (the parent's buttons stay responsive); a redelivery of that update is told to retry
  later instead of paying for a second answer.

Every other update runs optimistically: a step that only changes the session is simply run again on the
fresh document when its write loses to a concurrent one.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from shared.domain.conversation import Session
from shared.ports import StateStore, StoreConflict

SESSIONS = "sessions"
HANDLED = "updates"
LOCK = "lock"
ASKING = "asking"
_BOOKKEEPING = (HANDLED, LOCK, ASKING)
# Telegram redelivers only what was not acknowledged, within hours: the chat's last updates suffice.
KEEP_HANDLED = 50


class UpdateHandled(Exception):
    """A redelivery of an update this chat has handled already."""


class UpdateBusy(Exception):
    """Another delivery of this very update is being handled now: Telegram should retry later."""


@dataclass(frozen=True)
class ChatDocument:
    """The document as read: `version` None when the chat has none yet."""

    data: Mapping[str, Any]
    version: int | None

    @property
    def session_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.data.items() if k not in _BOOKKEEPING}

    def session(self, chat_id: int) -> Session:
        return Session.model_validate({"chat_id": chat_id, **self.session_data})

    def handled(self, update_id: int) -> bool:
        return update_id in self.data.get(HANDLED, [])

    def lock_holder(self, now: float) -> int | None:
        """The update holding the chat's lock now (None: free, or its holder's lease has ended)."""
        lock = self.data.get(LOCK) or {}
        until = lock.get("until")
        return lock.get("update_id") if isinstance(until, int | float) and until > now else None

    def asked(self, update_id: int, now: float) -> bool:
        """Another delivery of `update_id` is answering it now."""
        until = (self.data.get(ASKING) or {}).get(str(update_id))
        return isinstance(until, int | float) and until > now

    def with_(
        self,
        session: Mapping[str, Any] | None = None,
        *,
        lock: Mapping[str, Any] | None = None,
        asking: tuple[int, float] | None = None,
        done: int | None = None,
        now: float = 0.0,
    ) -> dict[str, Any]:
        """The document to write: `session` (default: as read), the lock held or (None) released,
        `asking` an update being answered until then, `done` an update now handled (and no longer asked).
        Questions whose lease had ended by `now` are dropped (their delivery died)."""
        data: dict[str, Any] = dict(self.session_data if session is None else session)
        handled = list(self.data.get(HANDLED, []))
        asked = {
            k: v for k, v in (self.data.get(ASKING) or {}).items() if isinstance(v, int | float) and v > now
        }
        if asking is not None:
            asked[str(asking[0])] = asking[1]
        if done is not None:
            handled = [*(u for u in handled if u != done), done][-KEEP_HANDLED:]
            asked.pop(str(done), None)
        data[HANDLED] = handled
        if lock is not None:
            data[LOCK] = dict(lock)
        if asked:
            data[ASKING] = asked
        return data


def change_session(
    store: StateStore,
    chat_id: int,
    change: Callable[[Session], bool],
    *,
    now: Callable[[], float],
    retention: timedelta | None,
    wait: float = 10.0,
) -> bool | None:
    """Change a parent's session from outside their updates (a manager's press or reply): by
    compare-and-set, after any step holding the chat's lock (whose own write must not lose to this one).
    `change` edits the session and says whether it changed anything (False: nothing is written). None:
    the chat has no session (forgotten, expired). StoreConflict: the chat stayed locked."""
    deadline = time.monotonic() + wait
    while True:
        found = store.get(SESSIONS, str(chat_id))
        if found is None:
            return None
        chat = ChatDocument(found.data, found.version)
        if chat.lock_holder(now()) is not None:
            if time.monotonic() > deadline:
                raise StoreConflict("the chat stayed locked")
            time.sleep(random.uniform(0.01, 0.05))
            continue
        session = chat.session(chat_id)
        if not change(session):
            return False
        data = chat.with_(session.model_dump(mode="json"), now=now())
        if store.compare_and_set(SESSIONS, str(chat_id), data, chat.version, ttl=retention) is not None:
            return True
