"""The waitlist on fakes: who a freed slot suits, one hold per slot however many offers race, a held slot
hidden from lists and refused to others, a hold ended on time or let go, leaving and erasure."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from shared.bot.callbacks import HoldPass, HoldTake, WaitAsk, WaitJoin, WaitLeave, encode
from shared.bot.keyboards import hold_keyboard
from shared.domain.conversation import Scene
from shared.domain.jobs import REMINDERS_JOB, HoldEnd, SlotFreed
from shared.domain.leads import LeadStatus
from shared.domain.waitlist import DayPart, Days, Queue, Wish, first_suited, suits
from shared.flows.booking import SLOT_CLAIMS, Booked, Problem
from shared.flows.waitlist import Waitlist
from shared.flows.waitlist_queue import read_queue
from shared.i18n import t
from tests.fakes import RecordingNotifier
from tests.unit.test_booking import NOW, RULES, Academy, Parent, academy_outbox

HOLD = timedelta(minutes=30)


def wish(lead_id: str, days: Days = Days.ANY, part: DayPart = DayPart.ANY, minutes: int = 0) -> Wish:
    return Wish(
        lead_id=lead_id,
        chat_id=1,
        language="ru",
        days=days,
        part=part,
        joined_at=NOW + timedelta(minutes=minutes),
    )


def test_a_wish_is_days_and_a_part_of_the_day_in_the_academys_zone() -> None:
    saturday_evening = datetime(2026, 3, 28, 16, tzinfo=UTC)  # 18:00 in Riga (UTC+2)
    monday_evening = datetime(2026, 3, 30, 14, 30, tzinfo=UTC)  # 17:30 in Riga (UTC+3 since Sunday)
    assert suits(wish("a", Days.WEEKENDS, DayPart.EVENING), saturday_evening, "Europe/Riga")
    assert not suits(wish("a", Days.WEEKDAYS), saturday_evening, "Europe/Riga")
    assert suits(wish("a", Days.WEEKDAYS, DayPart.EVENING), monday_evening, "Europe/Riga")
    assert not suits(wish("a", part=DayPart.AFTERNOON), monday_evening, "Europe/Riga")
    assert suits(wish("a", part=DayPart.AFTERNOON), monday_evening, "Europe/London")  # 15:30 there
    in_london = wish("a", part=DayPart.AFTERNOON).model_copy(update={"timezone": "Europe/London"})
    assert suits(in_london, monday_evening, "Europe/Riga")  # the parent's own zone wins


def test_the_first_to_join_is_offered_first_but_not_a_slot_they_let_go() -> None:
    start = datetime(2026, 12, 1, 10, tzinfo=UTC)
    queue = Queue(wishes=[wish("late", minutes=5), wish("early")])
    assert first_suited(queue, "ev", start, "Europe/Riga").lead_id == "early"  # type: ignore[union-attr]
    passed = Queue(wishes=[wish("late", minutes=5), wish("early").model_copy(update={"passed": ("ev",)})])
    assert first_suited(passed, "ev", start, "Europe/Riga").lead_id == "late"  # type: ignore[union-attr]
    assert first_suited(passed, "other", start, "Europe/Riga").lead_id == "early"  # type: ignore[union-attr]


def test_a_slot_freed_twice_in_the_same_minute_is_one_task_and_a_let_go_slot_another() -> None:
    start = NOW + timedelta(days=1)
    first = SlotFreed(event_id="ev-1", start=start, end=start + HOLD, due=60)
    assert REMINDERS_JOB.validate_json(first.model_dump_json()) == first
    assert first.task_name() == SlotFreed(event_id="ev-1", start=start, end=start, due=60).task_name()
    again = SlotFreed(event_id="ev-1", start=start, end=start, due=60, after="0123456789ab")
    assert again.task_name() != first.task_name()
    assert REMINDERS_JOB.validate_json(HoldEnd(hold_id="0123456789ab").model_dump_json()).hold_id


class Line:
    """An academy with a waitlist and parents registered on it."""

    def __init__(self) -> None:
        self.academy = Academy()
        self.notifier = RecordingNotifier()
        self.waitlist = Waitlist(
            store=self.academy.store,
            leads=self.academy.leads,
            outbox=academy_outbox(self.academy, self.notifier),
            scheduler=self.academy.scheduler,
            clock=self.academy.clock,
            rules=RULES,
            hold_for=HOLD,
            offer_buttons=hold_keyboard,
            booking=lambda: self.academy.booking,
        )
        self.academy.booking.on_freed = self.waitlist.freed

    def join(self, user_id: int) -> str:
        parent = Parent(self.academy, user_id, f"+3712000{user_id:04d}", f"p{user_id}@example.com")
        assert parent.session.lead_id is not None
        self.waitlist.join(parent.session.lead_id, user_id, "ru", Days.ANY, DayPart.ANY)
        return parent.session.lead_id

    def freed(self, event_id: str) -> SlotFreed:
        slot = self.academy.calendar.events[event_id]
        return SlotFreed(event_id=event_id, start=slot["start"], end=slot["end"], due=60)

    def offers(self) -> list[str]:
        return [text for _, text in self.notifier.parents if "Освободилось" in text]


def test_offers_racing_for_one_slot_hold_it_once() -> None:
    line = Line()
    line.join(1), line.join(2)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def offer() -> None:
        barrier.wait()
        outcomes.append(line.waitlist.offer(line.freed("ev-tomorrow-10")))

    threads = [threading.Thread(target=offer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("offered") == 1, outcomes
    assert len(read_queue(line.academy.store).holds) == 1 and len(line.offers()) == 1


def test_a_held_slot_is_hidden_from_lists_and_refused_to_others() -> None:
    line = Line()
    boris = line.join(1)
    assert line.waitlist.offer(line.freed("ev-tomorrow-10")) == "offered"
    listed = line.academy.booking.free_slots()
    assert not isinstance(listed, Problem) and [s.event_id for s in listed] == ["ev-tomorrow-14"]

    vera = Parent(line.academy, 3, "+37120000003", "vera@example.com")
    slot = line.waitlist.booking().current_slot("ev-tomorrow-10")  # type: ignore[misc]
    assert slot is not None and not isinstance(slot, Problem)
    assert line.academy.booking.book(vera.session.lead_id or "", slot) is Problem.SLOT_TAKEN

    hold = read_queue(line.academy.store).holds[0]
    assert isinstance(line.waitlist.take(boris, hold.hold_id), Booked)
    assert read_queue(line.academy.store) == Queue()  # booked: off the list
    assert line.waitlist.end(HoldEnd(hold_id=hold.hold_id)) == "gone"


def test_a_hold_ends_on_time_and_goes_to_the_next_parent() -> None:
    line = Line()
    boris, vera = line.join(1), line.join(2)
    line.waitlist.offer(line.freed("ev-tomorrow-10"))
    [hold] = read_queue(line.academy.store).holds
    assert hold.lead_id == boris
    ends = [j for j in line.academy.scheduler.jobs.values() if isinstance(j.job, HoldEnd)]
    assert [j.run_at for j in ends] == [NOW + HOLD]

    line.academy.clock.current = NOW + HOLD
    assert line.waitlist.end(HoldEnd(hold_id=hold.hold_id)) == "released"
    assert line.academy.store.get(SLOT_CLAIMS, "ev-tomorrow-10") is None
    assert line.waitlist.take(boris, hold.hold_id) is None  # too late: "it was released"
    [again] = [j.job for j in line.academy.scheduler.jobs.values() if isinstance(j.job, SlotFreed)]
    assert isinstance(again, SlotFreed) and again.after == hold.hold_id
    assert line.waitlist.offer(again) == "offered"
    [second] = read_queue(line.academy.store).holds
    assert second.lead_id == vera


def test_a_hold_whose_parent_is_booking_it_is_left_alone() -> None:
    line = Line()
    boris = line.join(1)
    line.waitlist.offer(line.freed("ev-tomorrow-10"))
    [hold] = read_queue(line.academy.store).holds
    line.academy.store.put(SLOT_CLAIMS, "ev-tomorrow-10", {"lead_id": boris, "calendar_started": True})
    assert line.waitlist.end(HoldEnd(hold_id=hold.hold_id)) == "booked"
    assert line.academy.store.get(SLOT_CLAIMS, "ev-tomorrow-10") is not None


def test_leaving_or_being_booked_or_forgotten_takes_a_parent_off() -> None:
    line = Line()
    boris = line.join(1)
    assert line.waitlist.leave(boris) and not line.waitlist.leave(boris)
    assert line.waitlist.offer(line.freed("ev-tomorrow-10")) == "nobody"

    vera = line.join(2)
    line.academy.leads.update(vera, lambda lead: lead.model_copy(update={"status": LeadStatus.SCHEDULED}))
    assert line.waitlist.offer(line.freed("ev-tomorrow-10")) == "nobody"  # booked another way
    assert read_queue(line.academy.store).wish(vera) is None


def test_a_slot_too_close_to_the_lesson_is_offered_to_nobody() -> None:
    line = Line()
    line.join(1)
    assert line.waitlist.offer(line.freed("ev-too-soon")) == "too_late"
    line.waitlist.freed("ev-too-soon", NOW + timedelta(hours=1), NOW + timedelta(hours=2))
    assert not any(isinstance(j.job, SlotFreed) for j in line.academy.scheduler.jobs.values())


def test_every_waitlist_button_survives_a_stale_or_forged_press() -> None:
    line = Line()
    line.academy.scenes.waitlist_factory = lambda: line.waitlist
    boris = Parent(line.academy, 1, "+37120000001", "boris@example.com")
    boris.press(encode(WaitAsk()))
    boris.press_labelled("Будни")
    joined = boris.press_labelled("Вечер")[-1]
    assert "Будни, Вечер (после 17:00)" in joined.text and boris.session.scene is Scene.DATES
    assert read_queue(line.academy.store).wish(boris.session.lead_id or "") is not None

    forged = boris.press(encode(HoldTake("0123456789ab")))  # no such hold
    assert forged[0].text.startswith("Это время уже отпущено")
    assert boris.press(encode(HoldPass("0123456789ab")))[-1].text == t("ru", "use_buttons")

    boris.send("command", text="start")  # the days again
    boris.book_first_slot()  # booked the usual way meanwhile
    assert boris.session.scene is Scene.SCHEDULED
    again = boris.press(encode(WaitJoin("any", "any")))  # an old wish keyboard: the lesson that stands
    assert any("Ваш пробный урок" in r.text for r in again)
    assert line.waitlist.offer(line.freed("ev-tomorrow-14")) == "nobody"  # booked: off the list

    stranger = Parent(line.academy, 9, "+37120000009", "x@example.com")
    stranger.session.lead_id = None  # a chat that never registered
    assert stranger.press(encode(WaitJoin("any", "any")))[-1].text == t("ru", "use_buttons")
    assert stranger.press(encode(WaitLeave()))[-1].text == t("ru", "use_buttons")


def test_a_hold_whose_end_never_ran_gives_way_after_a_grace() -> None:
    """HoldEnd lost (a queue purged by hand, say): the slot is listed and bookable again soon after."""
    line = Line()
    line.join(1)
    line.waitlist.offer(line.freed("ev-tomorrow-10"))
    vera = Parent(line.academy, 3, "+37120000003", "vera@example.com")
    slot = line.academy.booking.current_slot("ev-tomorrow-10")
    assert slot is not None and not isinstance(slot, Problem)
    line.academy.clock.current = NOW + HOLD + timedelta(minutes=5)  # HoldEnd is only a little late
    assert line.academy.booking.book(vera.session.lead_id or "", slot) is Problem.SLOT_TAKEN
    line.academy.clock.current = NOW + HOLD + timedelta(minutes=11)
    line.academy.store.delete("slot_cache", "free")
    listed = line.academy.booking.free_slots()
    assert not isinstance(listed, Problem) and "ev-tomorrow-10" in [s.event_id for s in listed]
    assert isinstance(line.academy.booking.book(vera.session.lead_id or "", slot), Booked)


def test_a_lapsed_hold_does_not_keep_its_slot_from_the_next_parent() -> None:
    line = Line()
    boris, vera = line.join(1), line.join(2)
    line.waitlist.offer(line.freed("ev-tomorrow-10"))
    line.academy.clock.current = NOW + HOLD + timedelta(minutes=5)
    assert line.waitlist.offer(line.freed("ev-tomorrow-10")) == "held"  # HoldEnd may still come
    line.academy.clock.current = NOW + HOLD + timedelta(minutes=11)
    assert line.waitlist.offer(line.freed("ev-tomorrow-10")) == "offered"
    [hold] = read_queue(line.academy.store).holds
    assert hold.lead_id == vera and boris != vera


def test_a_waiting_parent_who_changes_their_zone_is_offered_in_the_new_one() -> None:
    line = Line()
    line.academy.scenes.waitlist_factory = lambda: line.waitlist
    anna = Parent(line.academy, 1, "+37120000001", "anna@example.com")
    anna.press(encode(WaitAsk()))
    anna.press_labelled("Любой день")
    anna.press_labelled("Утро")  # mornings, in her zone: the academy's for now
    lead_id = anna.session.lead_id or ""
    # 10:00 UTC is 12:00 in Riga (not a morning there) and 05:00 in New York.
    assert line.waitlist.offer(line.freed("ev-tomorrow-10")) == "nobody"
    anna.send("command", text="timezone", payload="America/New_York")
    assert read_queue(line.academy.store).wish(lead_id).timezone == "America/New_York"  # type: ignore[union-attr]
    assert line.waitlist.offer(line.freed("ev-tomorrow-10")) == "offered"
    assert "05:00 по нью-йоркскому времени" in line.offers()[-1]
    anna.send("command", text="timezone", payload="Europe/Riga")  # back: the wish follows again
    assert read_queue(line.academy.store).wish(lead_id).timezone is None  # type: ignore[union-attr]
