"""Use case: the funnel counted from the CRM, kept on a Funnel sheet and in the store for `/stats`.

The reconciler (email_chain, every few minutes) calls `refresh`; at most one refresh per `every` runs,
whichever instance gets there, so the whole Leads sheet is read a few times an hour at most. The sheet is
rewritten only when its numbers changed. tg_webhook's account cannot read the sheet (only email_chain's
is shared on it): `/stats` reads the daily counts this leaves in the store.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.domain.funnel import daily, weekly_table
from shared.flows.locks import take_lease
from shared.ports import Clock, Crm, StateStore

log = logging.getLogger(__name__)

FUNNEL = "funnel"  # "daily": the counts and when they were made; "refresh": who refreshes now
SHEET = "Funnel"


@dataclass(frozen=True)
class FunnelCounts:
    days: dict[str, dict[str, dict[str, int]]]  # {day: {channel key: counts}} (shared.domain.funnel.daily)
    at: datetime  # counted then


@dataclass
class FunnelReport:
    store: StateStore
    crm: Callable[[], Crm]
    clock: Clock
    timezone: str  # the academy's: a lead counts on the day it arrived there
    every: timedelta = timedelta(minutes=15)

    def refresh(self) -> bool:
        """Count the funnel again unless it was counted less than `every` ago (False: it was). Raises
        CrmUnavailable: the next refresh is then due after `every`."""
        if not take_lease(self.store, FUNNEL, "refresh", {}, lease=self.every, clock=self.clock):
            return False
        records = self.crm().read_all()
        days = daily([record.values for record in records], self.timezone)
        table = weekly_table(days)
        digest = hashlib.sha256(json.dumps(table, default=str).encode()).hexdigest()
        kept = self.store.get(FUNNEL, "daily")
        if kept is None or kept.data.get("digest") != digest:
            self.crm().replace_sheet(SHEET, table)
            log.info("funnel sheet rewritten", extra={"rows": len(table) - 1})
        data: dict[str, Any] = {"days": days, "digest": digest, "at": self.clock.now().isoformat()}
        self.store.put(FUNNEL, "daily", data)
        return True

    def counts(self) -> FunnelCounts | None:
        """The last counts (None: never counted yet)."""
        found = self.store.get(FUNNEL, "daily")
        if found is None:
            return None
        return FunnelCounts(dict(found.data.get("days") or {}), datetime.fromisoformat(found.data["at"]))
