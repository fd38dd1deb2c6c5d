"""Use case: asking for the batched CRM writer (`EmailChain.flush_crm`) to run a few seconds from now.

Whoever records CRM effects (a Tilda lead, a chain step, a booking) asks for a flush. One flush waiting
to start is enough: it writes everything due when it starts, so a burst of leads is a handful of flushes
of many rows each, not one per lead. The waiting flush is marked in the store; the flush removes the
mark as it starts, so an effect recorded after that asks for the next one. If the mark outlives a lost
flush task, the reconciler still writes what is due within minutes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar

from shared.domain.effects import Effect
from shared.domain.jobs import CrmFlush
from shared.ports import Clock, Document, Scheduler, StateStore, Write

if TYPE_CHECKING:
    from shared.flows.outbox import Outbox

log = logging.getLogger(__name__)

CRM_WRITER = "crm_writer"  # the writer's lock, and the mark of a flush waiting to start
WRITER_LEASE = timedelta(minutes=2)
_WAITING = "waiting"


@dataclass
class FlushRequests:
    store: StateStore
    scheduler: Scheduler
    clock: Clock
    delay: timedelta  # CRM_FLUSH_SECONDS: how long a batch gathers before it is written

    def request(self, effects: list[Effect]) -> None:
        """A flush `delay` from now, unless one is already waiting to start (it takes these too)."""
        now = self.clock.now()
        if not self.store.create(
            CRM_WRITER, _WAITING, {"at": now.isoformat()}, ttl=self.delay + WRITER_LEASE
        ):
            return
        try:
            self.scheduler.schedule(CrmFlush.after([e.effect_id for e in effects]), run_at=now + self.delay)
        except Exception:
            self.store.delete(CRM_WRITER, _WAITING)  # the next effect asks again
            raise

    # The mark of a waiting flush, read with the rest of a form's documents by the intake's fast path.
    WAITING: ClassVar[tuple[str, str]] = (CRM_WRITER, _WAITING)

    def request_in_commit(
        self, effects: list[Effect], waiting: Document | None
    ) -> tuple[Write, CrmFlush | None]:
        """`request` as part of an atomic commit with the effects, `waiting` the mark as read before it:
        with none waiting, the write that sets the mark and the flush to schedule (before the commit: a
        flush of effects not yet committed finds less to write, never loses them); with one waiting, a
        check that it has not started meanwhile (if it had, the commit is refused and read again)."""
        if waiting is None:
            mark = {"at": self.clock.now().isoformat()}
            flush = CrmFlush.after([e.effect_id for e in effects])
            return Write(CRM_WRITER, _WAITING, mark, create=True, ttl=self.delay + WRITER_LEASE), flush
        return Write(CRM_WRITER, _WAITING, version=waiting.version), None

    def starting(self) -> None:
        """The flush starts: effects recorded from now on need the next one."""
        self.store.delete(CRM_WRITER, _WAITING)


def record_for_writer(outbox: Outbox, flushes: FlushRequests, effects: list[Effect]) -> None:
    """CRM effects for the batched writer, from where the CRM is not written at once (a function without
    the CRM, an erasure): recorded, and a flush asked for. A flush that cannot be asked for now is left
    to the reconciler, which writes what is due within minutes."""
    outbox.record(effects)
    try:
        flushes.request(effects)
    except Exception as exc:
        log.warning("no flush asked", extra={"reason": str(exc)})
