"""Nudges: a parent who stops half-way (registration unfinished, or registered and no lesson booked) is
reminded, at most twice per stall (NUDGE_FIRST_MINUTES and NUDGE_SECOND_HOURS after their last step),
never in the quiet hours, never after /delete_me, a block, or any step forward.

One Cloud Task at a time per chat, named after the minute it is due: it looks at the chat when it runs
and either nudges, or moves itself to when a nudge may be due (the parent moved on, it is night), or
ends (nothing left to nudge). A step forward needs no task deleted, so the parent's updates pay no Cloud
Tasks call for it; a chat's first update and a registration start a chain (two chains due in the same
minute share the task's name: Cloud Tasks keeps one).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from shared.bot.chat_document import SESSIONS, ChatDocument, change_session
from shared.domain.conversation import Scene, Session
from shared.domain.effects import Effect
from shared.domain.jobs import Nudge
from shared.domain.leads import LeadStatus
from shared.flows.lead_repository import LeadRepository
from shared.flows.outbox import DeliveryOutcome, Outbox
from shared.i18n import t
from shared.ports import Clock, Scheduler, StateStore

log = logging.getLogger(__name__)

Stage = Literal["register", "book"]
_REGISTERING = (Scene.WELCOME, Scene.PHONE, Scene.EMAIL, Scene.NAME)
_CHOOSING = (Scene.REGISTERED, Scene.DATES, Scene.TIMES, Scene.CONFIRM)
MAX_NUDGES = 2


@dataclass(frozen=True)
class NudgeSettings:
    first: timedelta = timedelta(hours=1)
    second: timedelta = timedelta(hours=24)
    timezone: str = "Europe/Riga"  # the academy's: quiet hours are the parent's night, in their own zone
    quiet_from: int = 21  # hour, local
    quiet_until: int = 9
    retention: timedelta | None = None
    booking: bool = True  # parents book in the bot (a calendar is connected): a stall there is nudged


@dataclass
class Nudges:
    store: StateStore
    leads: LeadRepository
    outbox: Outbox
    scheduler: Scheduler
    clock: Clock
    settings: NudgeSettings
    # (stage, language) → the nudge's keyboard (Bot API JSON): back to where the parent stopped.
    buttons: Callable[[str, str], dict[str, Any]] | None = None

    def start(self, chat_id: int, since: datetime) -> None:
        """A chain for a chat that stepped (its first update, a registration) at `since`."""
        self._at(chat_id, since + self.settings.first)

    def run(self, job: Nudge) -> str:
        found = self.store.get(SESSIONS, str(job.chat_id))
        if found is None:
            return "gone"  # erased, or expired
        session = ChatDocument(found.data, found.version).session(job.chat_id)
        stage = self._stage(session)
        if stage is None or session.progress_at is None:
            return "done"  # booked (or the trial is behind them): nothing to nudge towards
        sent = session.nudged.get(stage, 0)
        if sent >= MAX_NUDGES:
            return "done"
        due = session.progress_at + (self.settings.first if sent == 0 else self.settings.second)
        now = self.clock.now()
        if now < due:
            self._at(job.chat_id, due, job.due)  # the parent stepped on since: wait from their last step
            return "later"
        if (morning := self._after_quiet_hours(now, session.timezone)) is not None:
            self._at(job.chat_id, morning, job.due)
            return "quiet"
        outcome = self._send(job.chat_id, session, stage, sent + 1)
        if outcome is DeliveryOutcome.STOPPED:
            return "blocked"
        self._count(job.chat_id, stage, session.progress_at, sent + 1)
        if sent + 1 < MAX_NUDGES:
            self._at(job.chat_id, session.progress_at + self.settings.second, job.due)
        return "sent" if outcome is DeliveryOutcome.DONE else outcome.value

    def _stage(self, session: Session) -> Stage | None:
        if session.lead_id is None or session.scene in _REGISTERING:
            return "register"
        if session.scene not in _CHOOSING or not self.settings.booking:
            return None
        lead = self.leads.get(session.lead_id)
        if lead is None or lead.status not in (LeadStatus.NEW, LeadStatus.ACTIVATED, *_CALLS):
            return None  # booked, cancelled on purpose, attended or missed: not for a nudge
        return "book"

    def _send(self, chat_id: int, session: Session, stage: Stage, number: int) -> DeliveryOutcome:
        assert session.progress_at is not None
        markup = self.buttons(stage, session.language) if self.buttons else None
        effect = Effect.to_parent(
            chat_id,
            t(session.language, f"nudge_{stage}_{number}"),
            key=f"nudge-{stage}-{number}-{int(session.progress_at.timestamp())}",
            lead_id=None,
            markup=markup,
        )
        outcome = self.outbox.send([effect])[effect.effect_id]
        log.info("nudge", extra={"chat_id": chat_id, "stage": stage, "number": number})
        return outcome

    def _count(self, chat_id: int, stage: Stage, progress_at: datetime, number: int) -> None:
        def count(session: Session) -> bool:
            if session.progress_at != progress_at:
                return False  # the parent stepped on meanwhile: this stall is over
            session.nudged = {**session.nudged, stage: max(number, session.nudged.get(stage, 0))}
            return True

        change_session(
            self.store,
            chat_id,
            count,
            now=lambda: self.clock.now().timestamp(),
            retention=self.settings.retention,
        )

    def _after_quiet_hours(self, now: datetime, zone_name: str | None) -> datetime | None:
        """The end of the quiet hours (in the parent's zone, else the academy's) when `now` is in them,
        else None."""
        s = self.settings
        zone = ZoneInfo(zone_name or s.timezone)
        local = now.astimezone(zone)
        quiet = local.hour >= s.quiet_from or local.hour < s.quiet_until
        if not quiet:
            return None
        day = local.date() if local.hour < s.quiet_until else local.date() + timedelta(days=1)
        return datetime.combine(day, time(s.quiet_until), tzinfo=zone).astimezone(UTC)

    def _at(self, chat_id: int, due: datetime, after: int = 0) -> None:
        """The chain's next look, at `due` rounded up to the minute, so the chains a chat's first update and
        its registration start a few seconds apart are one task (and past the task running now, `after`:
        Cloud Tasks refuses a name it ran lately)."""
        minute = max(math.ceil(due.timestamp() / 60) * 60, after + 60)
        run_at = datetime.fromtimestamp(minute, UTC)
        self.scheduler.schedule(Nudge(chat_id=chat_id, due=minute), run_at=run_at)


_CALLS = (LeadStatus.CALLED, LeadStatus.NO_ANSWER)
