"""Use case: the waitlist. A parent no free slot suits joins it; a slot that comes free is offered to the
first parent it suits, held for them for a while (WAITLIST_HOLD_MINUTES); not taken in time, or let go,
it goes to the next one.

The hold is the slot's claim in the store (the one booking takes, shared/flows/booking.py): created
atomically, so two offers of one slot, or an offer and another parent's ✅, end with one winner; the
held parent's ✅ takes the claim over and books as usual. While held, the slot is left out of every
parent's list. A hold ends by its own Cloud Task (HoldEnd), named after it, so a redelivery ends it once.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from shared.domain.booking import BookingRules, slot_label, when_label
from shared.domain.effects import Effect
from shared.domain.jobs import HoldEnd, SlotFreed
from shared.domain.leads import LeadStatus
from shared.domain.waitlist import DayPart, Days, Hold, Queue, Wish, first_suited
from shared.flows.booking import SLOT_CACHE, SLOT_CLAIMS, Booked, BookingFlow, Problem, claim_slot
from shared.flows.lead_repository import LeadRepository
from shared.flows.outbox import Outbox
from shared.flows.waitlist_queue import change_queue, read_queue
from shared.i18n import t
from shared.ports import Clock, Scheduler, StateStore

log = logging.getLogger(__name__)


@dataclass
class Waitlist:
    store: StateStore
    leads: LeadRepository
    outbox: Outbox
    scheduler: Scheduler
    clock: Clock
    rules: BookingRules
    hold_for: timedelta
    # (hold id, language) → the offer's keyboard (Bot API JSON): ✅ Book it, ✖ Not for me, leave.
    offer_buttons: Callable[[str, str], dict[str, Any]]
    booking: Callable[[], BookingFlow] | None = None  # tg_webhook: a held slot is booked

    # ---- the parent's side (tg_webhook) -------------------------------------------------------------
    def join(
        self,
        lead_id: str,
        chat_id: int,
        language: str,
        days: Days,
        part: DayPart,
        timezone: str | None = None,
    ) -> Wish:
        """On the list (again: a parent already on it keeps their place and changes their wish)."""
        now = self.clock.now()

        def joined(queue: Queue) -> Queue:
            current = queue.wish(lead_id)
            wish = Wish(
                lead_id=lead_id,
                chat_id=chat_id,
                language=language,
                days=days,
                part=part,
                joined_at=current.joined_at if current else now,
                timezone=timezone,
                passed=current.passed if current else (),
            )
            others = [w for w in queue.current(now).wishes if w.lead_id != lead_id]
            return Queue(wishes=[*others, wish], holds=queue.holds)

        queue = change_queue(self.store, joined)
        log.info("waitlist joined", extra={"lead_id": lead_id, "waiting": len(queue.wishes)})
        wish = queue.wish(lead_id)
        assert wish is not None
        return wish

    def follow_zone(self, lead_id: str, zone: str | None) -> None:
        """A waiting parent changed their zone (/timezone): their wish's part of the day and the offers'
        times follow it (nothing is written for a parent not on the list)."""

        def moved(queue: Queue) -> Queue | None:
            wish = queue.wish(lead_id)
            if wish is None or wish.timezone == zone:
                return None
            others = [
                w if w.lead_id != lead_id else w.model_copy(update={"timezone": zone}) for w in queue.wishes
            ]
            return Queue(wishes=others, holds=queue.holds)

        change_queue(self.store, moved)

    def leave(self, lead_id: str) -> bool:
        """Off the list, one button (or forgotten, or booked); a slot held for them goes to the next."""
        holds: list[Hold] = []
        found = False

        def leaving(queue: Queue) -> Queue | None:
            nonlocal found
            holds[:] = [h for h in queue.holds if h.lead_id == lead_id]
            found = queue.wish(lead_id) is not None or bool(holds)
            return queue.without(lead_id) if found else None

        change_queue(self.store, leaving)
        if not found:
            return False
        for hold in holds:
            self._free_claim(hold)
            self._freed(hold, after=hold.hold_id)
        log.info("waitlist left", extra={"lead_id": lead_id})
        return True

    def take(self, lead_id: str, hold_id: str) -> Booked | Problem | None:
        """✅ under an offer: the held slot booked. None: the hold is over (its time ran out, or it was
        let go), and the slot may be someone else's now."""
        lead = self.leads.get(lead_id)
        if lead is None or lead.status is LeadStatus.SCHEDULED or self.booking is None:
            self.let_go(lead_id, hold_id)  # booked (this or another way) meanwhile: one lesson per parent
            return Problem.NOT_CURRENT
        hold = read_queue(self.store).hold(hold_id)
        if hold is None or hold.lead_id != lead_id or self.clock.now() >= hold.until:
            return None
        booking = self.booking()
        slot = booking.current_slot(hold.event_id)
        if slot is None:  # a manager took the slot out of the calendar meanwhile
            self.let_go(lead_id, hold_id)
            return Problem.SLOT_TAKEN
        if isinstance(slot, Problem):
            return slot  # the calendar is down: the hold stands, ✅ may be pressed again
        result = booking.book(lead_id, slot)
        if isinstance(result, Booked):
            change_queue(self.store, lambda queue: queue.without(lead_id))
            log.info("waitlist hold booked", extra={"lead_id": lead_id})
        elif result is Problem.SLOT_TAKEN:  # a manager changed the slot meanwhile: nobody can have it
            change_queue(self.store, lambda queue: queue.released(hold_id))
        return result

    def let_go(self, lead_id: str, hold_id: str) -> bool:
        """✖ Not for me: the slot goes to the next parent at once; they stay on the list."""
        hold = read_queue(self.store).hold(hold_id)
        if hold is None or hold.lead_id != lead_id:
            return False
        self._release(hold)
        return True

    # ---- the slot's side (reminders) ----------------------------------------------------------------
    def freed(self, event_id: str, start: datetime, end: datetime, *, after: str = "") -> None:
        """A slot came free: a task offers it (a cancelling parent's turn does not wait for the offer)."""
        now = self.clock.now()
        if start - now < self.rules.min_notice:
            return  # too close to offer anyone
        minute = int(now.timestamp()) // 60 * 60
        self.scheduler.schedule(SlotFreed(event_id=event_id, start=start, end=end, due=minute, after=after))

    def offer(self, job: SlotFreed) -> str:
        """Offer the freed slot to the first parent on the list it suits, with a hold."""
        now = self.clock.now()
        if job.start - now < self.rules.min_notice:
            return "too_late"
        queue = read_queue(self.store).current(now)
        while True:
            if job.event_id in queue.held_events(now):
                return "held"
            wish = first_suited(queue, job.event_id, job.start, self.rules.timezone)
            if wish is None:
                return "nobody"
            lead = self.leads.get(wish.lead_id)
            if lead is not None and lead.status is not LeadStatus.SCHEDULED and not lead.bot_blocked:
                break
            # Booked another way, erased, or blocked the bot: off the list.
            queue = change_queue(self.store, partial(Queue.without, lead_id=wish.lead_id)).current(now)
        hold = Hold(
            hold_id=secrets.token_hex(6),
            lead_id=wish.lead_id,
            chat_id=wish.chat_id,
            event_id=job.event_id,
            start=job.start,
            end=job.end,
            until=now + self.hold_for,
        )
        claim = {"lead_id": wish.lead_id, "hold_id": hold.hold_id, "until": hold.until.isoformat()}
        if claim_slot(self.store, job.event_id, claim, job.end - now + timedelta(days=1), now) is not None:
            return "claimed"  # a parent is booking it this moment, or another offer held it first

        def held(current: Queue) -> Queue | None:
            if current.wish(wish.lead_id) is None:
                return None  # left the list meanwhile
            live = [h for h in current.holds if h.event_id in current.held_events(now)]  # lapsed: gone
            return Queue(wishes=current.wishes, holds=[*live, hold])

        if change_queue(self.store, held).hold(hold.hold_id) is None:
            self.store.delete(SLOT_CLAIMS, job.event_id)
            return "nobody"
        self.store.delete(SLOT_CACHE, "free")  # hidden from every parent's list from now on
        self.scheduler.schedule(HoldEnd(hold_id=hold.hold_id), run_at=hold.until)
        self._tell(
            hold,
            wish.language,
            t(
                wish.language,
                "waitlist_offer",
                when=when_label(hold.start, wish.language, self.rules, wish.timezone),
                minutes=self.minutes,
                until=slot_label(hold.until, self.rules, wish.timezone, wish.language),
            ),
            key=f"hold-{hold.hold_id}",
            markup=self.offer_buttons(hold.hold_id, wish.language),
        )
        log.info("waitlist slot held", extra={"lead_id": wish.lead_id, "hold_id": hold.hold_id})
        return "offered"

    def end(self, job: HoldEnd) -> str:
        """The hold's time is up: booked (nothing to do), or let go to the next parent."""
        queue = read_queue(self.store)
        hold = queue.hold(job.hold_id)
        if hold is None:
            return "gone"  # booked, let go or left before its time
        claim = self.store.get(SLOT_CLAIMS, hold.event_id)
        if (
            claim is not None
            and claim.data.get("lead_id") == hold.lead_id
            and claim.data.get("calendar_started")
        ):
            change_queue(self.store, lambda queue: queue.without(hold.lead_id))
            return "booked"  # the parent's ✅ is booking it this moment
        wish = queue.wish(hold.lead_id)
        language, zone = (wish.language, wish.timezone) if wish else ("ru", None)
        self._release(hold)
        text = t(
            language,
            "waitlist_hold_over",
            when=when_label(hold.start, language, self.rules, zone),
            minutes=self.minutes,
        )
        self._tell(hold, language, text, key=f"hold-over-{hold.hold_id}")
        return "released"

    # ---- helpers ------------------------------------------------------------------------------------
    @property
    def minutes(self) -> int:
        return int(self.hold_for.total_seconds() // 60)

    def _release(self, hold: Hold) -> None:
        change_queue(self.store, lambda queue: queue.released(hold.hold_id))
        self._free_claim(hold)
        self._freed(hold, after=hold.hold_id)
        log.info("waitlist hold released", extra={"lead_id": hold.lead_id, "hold_id": hold.hold_id})

    def _free_claim(self, hold: Hold) -> None:
        """The hold's claim deleted, unless the parent's ✅ has started booking on it."""
        claim = self.store.get(SLOT_CLAIMS, hold.event_id)
        if (
            claim is not None
            and claim.data.get("hold_id") == hold.hold_id
            and not claim.data.get("calendar_started")
        ):
            self.store.delete(SLOT_CLAIMS, hold.event_id)
        self.store.delete(SLOT_CACHE, "free")

    def _freed(self, hold: Hold, *, after: str) -> None:
        self.freed(hold.event_id, hold.start, hold.end, after=after)

    def _tell(
        self, hold: Hold, language: str, text: str, *, key: str, markup: dict[str, Any] | None = None
    ) -> None:
        effect = Effect.to_parent(hold.chat_id, text, key=key, lead_id=hold.lead_id, markup=markup)
        self.outbox.send([effect])
