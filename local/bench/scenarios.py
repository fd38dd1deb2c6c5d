"""The scenarios: peak RSS, and the calls per lead, registration, booking, reminder and question."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from local.bench.answers import is_sent, request_name, telegram_method
from local.bench.constants import (
    AI_QUESTIONS,
    BENCH_REMINDER,
    BURST_LEADS,
    BURST_SECONDS,
    BURST_STEP_SECONDS,
    FILTERED_QUESTIONS,
    LEAD_FUNCTIONS,
    SCENARIO_ASKING_PARENTS,
    SCENARIO_LEADS,
    SCENARIO_PARENTS,
    SLOT_CACHE_SECONDS,
    SPARE_SLOTS,
    BenchError,
)
from local.bench.lab import Lab
from local.bench.results import (
    AssistantScenarioResult,
    Booking,
    BookingCalls,
    BotScenarioResult,
    BurstResult,
    RemindersScenarioResult,
    Rss,
    ScenarioResult,
)
from local.processes import Service
from shared.flows.reminders import TEXTS as REMINDER_TEXTS

# ---- peak RSS and calls per lead -----------------------------------------------------------------------


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants, from the parent ids in /proc/<pid>/stat."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree = [root]
    for pid in tree:
        tree += [child for child, parent in parents.items() if parent == pid]
    return tree


def peak_rss(service: Service) -> Rss:
    """VmHWM of every process in the service's tree (gunicorn master and its worker), in MB."""
    peaks = []
    for pid in process_tree(service.process.pid):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    if not peaks:
        raise BenchError(f"no memory figures for {service.name} (pid {service.process.pid})")
    return Rss(tuple(peaks))


def scenario(lab: Lab) -> ScenarioResult:
    """20 Tilda leads; every task they make runs through the emulator; counts calls for one of them."""
    lab.stack.reset()
    services = {name: lab.start(name) for name in ("bare", *LEAD_FUNCTIONS)}
    for _ in range(SCENARIO_LEADS):
        lab.http.get(lab.url("bare")).raise_for_status()

    lab.new_lead()  # warm-up: the Leads and Log sheets get their headers
    tasks = lab.run_chain()
    lab.clear_calls()
    lab.new_lead()
    tasks += lab.run_due() + lab.run_flush()  # the CRM writer's flush a few seconds later
    intake = lab.call_counts()
    tasks += lab.run_chain()
    chain = lab.call_counts()
    for _ in range(SCENARIO_LEADS - 2):
        lab.new_lead()
    tasks += lab.run_chain()

    rss = {name: peak_rss(service) for name, service in services.items()}
    for service in services.values():
        lab.stop(service)
    return ScenarioResult(rss=rss, intake=intake, chain=chain, tasks_run=tasks)


def bot_scenario(lab: Lab) -> BotScenarioResult:
    """10 parents register in the bot through the Telegram fake and book a trial lesson each; counts the
    calls of one registration and one booking, and of a listing of free slots served from the cache.

    Parents 1 and 2 register and book in turn (the first pays the instance's getMe, Calendar service and
    Zoom token); parents 3 and 4 register one after the other, so the day picker of 4 comes within 30 s
    of that of 3 (whose listing read the calendar: 2's booking dropped the cached slots), then both book;
    parents 5-10 register and book in turn. email_chain is not running: the CRM sync tasks stay in the
    emulator, so any Sheets call recorded here was made by tg_webhook.
    """
    lab.stack.reset()
    slots = lab.add_free_slots(SCENARIO_PARENTS + SPARE_SLOTS)
    service = lab.start("tg_webhook")
    lab.set_webhook()
    lab.clear_calls()
    marks = [lab.tally()]
    registrations: list[tuple[int, int]] = []  # (before, after) indexes into marks
    bookings: list[Booking] = []
    booking_marks: list[tuple[int, int]] = []

    def mark() -> int:
        marks.append(lab.tally())
        return len(marks) - 1

    def register() -> tuple[dict[str, Any], float]:
        before = len(marks) - 1
        user = lab.register_parent()
        listed = time.perf_counter()  # the name's update, which ends with the day picker, is answered
        registrations.append((before, mark()))
        return user, listed

    def book(user: dict[str, Any]) -> None:
        before = len(marks) - 1
        bookings.append(lab.book(user, slots[len(bookings)]))
        booking_marks.append((before, mark()))

    for _ in range(2):
        user, _ = register()
        book(user)
    third, third_listed = register()
    fourth, fourth_listed = register()
    gap = fourth_listed - third_listed
    if gap >= SLOT_CACHE_SECONDS:
        raise BenchError(f"the two listings were {gap:.0f} s apart, not within {SLOT_CACHE_SECONDS} s")
    book(third)
    book(fourth)
    for _ in range(SCENARIO_PARENTS - 4):
        user, _ = register()
        book(user)

    def delta(service_name: str, window: tuple[int, int]) -> int:
        return marks[window[1]][service_name] - marks[window[0]][service_name]

    calls = {name: lab.calls(name) for name in ("telegram", "calendar", "zoom")}

    def booking_calls(number: int) -> BookingCalls:
        """Calendar and Zoom from the start of the registration (whose last answer lists the free slots),
        Telegram from the day button on."""
        (registered, _), (before, after) = registrations[number], booking_marks[number]

        def since(service_name: str, start: int) -> list[dict[str, Any]]:
            return calls[service_name][marks[start][service_name] : marks[after][service_name]]

        return BookingCalls(
            calendar=tuple(request_name(c) for c in since("calendar", registered)),
            zoom=tuple(request_name(c) for c in since("zoom", registered)),
            telegram=tuple(telegram_method(c) for c in since("telegram", before)),
            sheets=delta("sheets", (before, after)),
        )

    first_window, second_window = registrations[0], registrations[1]
    one = calls["telegram"][marks[second_window[0]]["telegram"] : marks[second_window[1]]["telegram"]]
    tasks = lab.pending_tasks()
    reminders = lab.reminder_task_names()
    # One nudge chain per chat (two when its first update and its registration fall in different minutes):
    # booked, it ends at its next look.
    nudges = lab.nudge_task_names()
    syncs = len(tasks) - len(reminders) - len(nudges)
    if (
        syncs != 2 * SCENARIO_PARENTS
        or len(reminders) != 2 * SCENARIO_PARENTS
        or not SCENARIO_PARENTS <= len(nudges) <= 2 * SCENARIO_PARENTS
    ):
        raise BenchError(f"{len(tasks)} tasks after {SCENARIO_PARENTS} registrations and bookings: {tasks}")
    rss = peak_rss(service)
    lab.stop(service)
    return BotScenarioResult(
        rss=rss,
        telegram_per_parent=len(one),
        telegram_methods=tuple(telegram_method(c) for c in one),
        telegram_first_parent=delta("telegram", first_window),
        telegram_total=len(calls["telegram"]),
        sheets=sum(delta("sheets", window) for window in registrations),
        sheets_bookings=sum(delta("sheets", window) for window in booking_marks),
        tasks_scheduled=syncs,
        reminders_scheduled=len(reminders),
        nudges_scheduled=len(nudges),
        booking=booking_calls(1),
        first_booking=booking_calls(0),
        calendar_total=len(calls["calendar"]),
        zoom_total=len(calls["zoom"]),
        listing_calendar=delta("calendar", registrations[2]),
        cached_listing_calendar=delta("calendar", registrations[3]),
        cached_listing_gap=gap,
        bookings=tuple(bookings),
    )


def reminders_scenario(lab: Lab, bookings: Sequence[Booking]) -> RemindersScenarioResult:
    """Both reminders of each lesson booked in the bot scenario, posted as Cloud Tasks posts them (the
    last booking's are kept for the import check); then one of them again, as a redelivery."""
    service = lab.start("reminders")
    lab.clear_calls("telegram")
    sent = 0
    for booking in bookings:
        for kind in REMINDER_TEXTS:
            response = lab.post_reminder(booking.reminder(kind))
            if not is_sent(response):
                raise BenchError(f"reminders answered {response.status_code}: {response.text}")
            lab.check_reminded(booking, kind)
            sent += 1
    telegram = len(lab.calls("telegram"))
    response = lab.post_reminder(bookings[0].reminder(BENCH_REMINDER))
    if response.status_code != 200:
        raise BenchError(f"reminders answered {response.status_code} to a redelivery: {response.text}")
    duplicate_telegram = len(lab.calls("telegram")) - telegram
    rss = peak_rss(service)
    lab.stop(service)
    return RemindersScenarioResult(
        rss=rss,
        sent=sent,
        telegram=telegram,
        duplicate_outcome=str(response.json().get("outcome")),
        duplicate_telegram=duplicate_telegram,
    )


def assistant_scenario(lab: Lab) -> AssistantScenarioResult:
    """New parents ask the assistant, their updates delivered by the Telegram fake; counts the calls of each
    question and of one voice note.

    Each of the SCENARIO_ASKING_PARENTS parents asks both AI_QUESTIONS (the second with the first as history);
    every other one sends /start first (the consent step takes free text too), the rest ask before anything
    else. The last parent also sends the FILTERED_QUESTIONS (price questions and injections: canned
    answers, no API call) and a voice note (downloaded through the Bot API, transcribed, answered).
    """
    lab.stack.reset()
    lab.script_ai_reply()
    service = lab.start("tg_webhook")
    lab.set_webhook()
    lab.clear_calls()
    per_question: list[int] = []
    telegram_per_question: tuple[str, ...] = ()
    user: dict[str, Any] = {}
    for number in range(SCENARIO_ASKING_PARENTS):
        user = lab.new_parent()
        if number % 2:
            lab.parent_sends("command", user, command="/start")
            lab.check_welcomed(user["id"])
        for question in AI_QUESTIONS:
            before = len(lab.calls("telegram"))
            per_question.append(lab.ask(user, question))
            if number == 2 and not telegram_per_question:  # a warm instance, a parent's first question
                telegram_per_question = tuple(map(telegram_method, lab.calls("telegram")[before:]))
    per_filtered = [lab.ask(user, question, lab.canned_answer(key)) for question, key in FILTERED_QUESTIONS]
    openai_before, telegram_before = len(lab.calls("openai")), len(lab.calls("telegram"))
    lab.send_voice_note(user)
    voice_openai = tuple(request_name(c) for c in lab.calls("openai")[openai_before:])
    voice_telegram = tuple(map(telegram_method, lab.calls("telegram")[telegram_before:]))
    rss = peak_rss(service)
    lab.stop(service)
    return AssistantScenarioResult(
        rss=rss,
        openai_per_question=tuple(per_question),
        openai_per_filtered=tuple(per_filtered),
        telegram_per_question=telegram_per_question,
        voice_openai=voice_openai,
        voice_telegram=voice_telegram,
        sheets=len(lab.calls("sheets")),
    )


_WRITES = (":append", "values:batchUpdate", ":batchUpdate", ":clear", "PUT ")  # Sheets requests that write


def burst_scenario(lab: Lab) -> BurstResult:
    """BURST_LEADS Tilda leads within BURST_SECONDS of emulated time, their tasks dispatched at the queues'
    rates (infra/terraform/queues.json) as the clock moves on step by step, as Cloud Tasks would; then
    drained. Counts the Sheets requests (the writes per emulated minute) and checks every lead has exactly
    one row."""
    lab.stack.reset()
    services = {name: lab.start(name) for name in LEAD_FUNCTIONS}
    lab.new_lead()  # warm-up: the sheets get their headers, the writer reads them once
    lab.run_due()
    lab.run_flush()
    lab.clear_calls()
    steps = BURST_SECONDS // BURST_STEP_SECONDS
    posted: list[str] = []
    writes_by_step: list[int] = []
    seen = 0
    step = 0
    while True:
        if step < steps:
            for _ in range(BURST_LEADS * (step + 1) // steps - len(posted)):
                posted.append(lab.new_lead())
        lab.run_due()  # whatever is due (a flush asked for in the previous step)
        lab._dispatch("advance", {"seconds": BURST_STEP_SECONDS})  # the step's leads' flush comes due
        calls = lab.calls("sheets")
        writes_by_step.append(sum(1 for c in calls[seen:] if any(w in request_name(c) for w in _WRITES)))
        seen = len(calls)
        step += 1
        rows = lab.sheet_lead_ids()
        if step >= steps and set(posted) <= set(rows) or step > 20 * 60 // BURST_STEP_SECONDS:
            break
    for service in services.values():
        lab.stop(service)
    rows = lab.sheet_lead_ids()
    return BurstResult(
        posted=len(posted),
        lost=len(set(posted) - set(rows)),
        duplicated=len(rows) - len(set(rows)),
        sheets_calls=seen,
        writes_by_step=writes_by_step,
        step_seconds=BURST_STEP_SECONDS,
        drain_minutes=step * BURST_STEP_SECONDS / 60,
    )
