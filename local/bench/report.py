"""The report: the printed table and BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from pathlib import Path

from local import package
from local.bench.constants import (
    AI_BACK,
    AI_QUESTIONS,
    BURST_LEADS,
    BURST_SECONDS,
    BURST_STEP_SECONDS,
    FILTERED_QUESTIONS,
    POLL_SECONDS,
    SCENARIO_ASKING_PARENTS,
    SCENARIO_LEADS,
    SCENARIO_PARENTS,
    SLOT_CACHE_SECONDS,
    SLOTS_AHEAD,
    SPARE_SLOTS,
    VOICE_NOTE,
    VOICE_SECONDS,
    WARM_LEADS,
    WARM_ROUNDS,
    WARM_TEXT,
    WARM_UP,
)
from local.bench.results import (
    BUDGET_TEXT,
    BUDGETS,
    COLD_STARTS,
    AssistantScenarioResult,
    BotScenarioResult,
    Figure,
    ImportEntry,
    RemindersScenarioResult,
    Results,
)

# ---- report --------------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    total_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal:"))
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "")
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "memory": f"{total_kb / 1024 / 1024:.1f} GiB",
        "cpu": model or platform.machine(),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


def verdicts(figures: list[Figure]) -> list[tuple[str, str, str, str]]:
    """(label, measured, budget, verdict) for every budget."""
    by_key = {f"{f.subject}.{f.name}": f for f in figures}
    rows = []
    for budget in BUDGETS:
        limit_text = BUDGET_TEXT.get(budget.label) or (
            "never" if budget.unit == "bool" else f"≤ {budget.limit:g} {budget.unit}"
        )
        if budget.limit is None:
            rows.append((budget.label, "not measured: the function has no main.py yet", limit_text, "—"))
            continue
        figure = by_key.get(budget.figure)
        if figure is None:  # the warm path on a store this machine cannot run
            rows.append((budget.label, "not measured on this machine", limit_text, "—"))
            continue
        measured = (
            ("yes" if figure.value else "no") if budget.unit == "bool" else f"{figure.text} {figure.unit}"
        )
        if budget.figure.endswith("cold_start_ratio"):
            seconds = by_key[budget.figure.removesuffix("_ratio")].text
            measured += f" ({seconds} s vs {by_key['bare.cold_start'].text} s)"
        if budget.figure.startswith("tg_webhook.warm_p50_ratio"):
            milliseconds = by_key[budget.figure.replace("_ratio", "")].text
            measured += f" ({milliseconds} ms vs the anchor's {by_key['anchor.warm_p50'].text} ms)"
        if budget.figure.endswith("peak_rss"):
            measured += f" (tree {by_key[budget.figure + '_tree'].text} MB)"
        rows.append((budget.label, measured, limit_text, "pass" if figure.value <= budget.limit else "over"))
    return rows


def table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    """A Markdown table (also readable as plain text)."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)]


def runs_table(results: Results) -> list[str]:
    rows = [
        (
            str(i),
            f"{r.bare:.3f}",
            *(f"{float(getattr(r, c.field)):.3f}" for c in COLD_STARTS),
            *(f"{r.ratio(c.field):.2f}" for c in COLD_STARTS),
        )
        for i, r in enumerate(results.runs, 1)
    ]
    header = (
        "run",
        "bare s",
        *(f"{c.field} s" for c in COLD_STARTS),
        *(f"{c.column or c.field} ratio" for c in COLD_STARTS),
    )
    return table(header, rows)


def imports_table(entries: list[ImportEntry]) -> list[str]:
    rows = [(e.module, e.phase, f"{e.cumulative_ms:.0f}", f"{e.self_ms:.1f}") for e in entries]
    return table(("module", "imported during", "cumulative ms", "self ms"), rows)


def human_report(results: Results, figures: list[Figure]) -> list[str]:
    assert results.scenario is not None and results.bot is not None and results.reminders is not None
    assert results.assistant is not None
    lines = ["", f"Budgets ({len(results.runs)} cold-start runs, store: {results.store})", ""]
    lines += table(("figure", "measured", "budget", "verdict"), verdicts(figures))
    lines += ["", "Cold starts (seconds from spawn to the first correct answer)", "", *runs_table(results)]
    counts = results.scenario.intake
    lines += [
        "",
        f"Sheets calls of one lead's intake (POST + CRM flush): {', '.join(counts.sheets_requests)}",
    ]
    lines += [f"Telegram calls of one parent's registration in the bot: {calls_text(results.bot)}"]
    booking = results.bot.booking
    lines += [
        f"Calls of one booking: Calendar {counted(booking.calendar)}; Zoom {counted(booking.zoom)}; "
        f"Telegram {counted(booking.telegram)}",
        f"Reminders: {reminders_text(results.reminders)}",
        f"Assistant: {assistant_text(results.assistant)}",
    ]
    for function, check in results.import_checks():
        lines += [
            "",
            f"Slowest imports of {function} (cumulative, under -X importtime; nested rows overlap)",
            "",
            *imports_table(check.slowest()),
            "",
            f"Top-level imports of {function} (no overlap)",
            "",
            *imports_table(check.top_level()),
        ]
    return lines


def calls_text(bot: BotScenarioResult) -> str:
    """The Bot API methods of one registration, counted: "sendMessage ×6, answerCallbackQuery"."""
    return counted(bot.telegram_methods)


def counted(names: Sequence[str]) -> str:
    """Call names counted, in order of first appearance: "sendMessage ×6, answerCallbackQuery"."""
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return ", ".join(f"{name} ×{n}" if n > 1 else name for name, n in counts.items()) or "none"


def assistant_text(assistant: AssistantScenarioResult) -> str:
    asked, filtered = assistant.openai_per_question, assistant.openai_per_filtered
    return (
        f"{len(asked)} questions made {sum(asked)} OpenAI calls (at most {max(asked)} each), "
        f"{len(filtered)} price questions and injections {sum(filtered)}; one voice note: OpenAI "
        f"{counted(assistant.voice_openai)}; Telegram {counted(assistant.voice_telegram)}"
    )


def reminders_text(reminders: RemindersScenarioResult) -> str:
    return (
        f"{reminders.sent} sent with {reminders.telegram} Telegram calls; posted again, one answered "
        f"{reminders.duplicate_outcome!r} with {reminders.duplicate_telegram} Telegram calls"
    )


def warm_rows(results: Results) -> list[tuple[str, str]]:
    """The warm path's own figures beside the budgets': each p50 and round trips per store."""
    warm = results.warm
    if warm is None:
        return []
    rows = [
        (
            "warm p50 of the anchor (bare python-telegram-bot, one sendMessage)",
            f"{warm.p50_ms('anchor'):.1f} ms",
        )
    ]
    for store, trips in warm.store_round_trips.items():
        rows.append(
            (
                f"tg_webhook on {store}: warm p50 / store round trips per text update",
                f"{warm.p50_ms(store):.1f} ms ({warm.ratio(store):.2f}× the anchor) / {max(trips)}",
            )
        )
    rows.append(("tilda_webhook: store round trips per new parent's form", str(warm.tilda_round_trips)))
    return rows


def markdown(results: Results, figures: list[Figure]) -> str:
    assert results.scenario is not None and results.bot is not None and results.reminders is not None
    assert results.assistant is not None
    info = machine()
    scenario, bot, reminders, assistant = results.scenario, results.bot, results.reminders, results.assistant
    booking, first = bot.booking, bot.first_booking
    extra = [
        (
            "bare function peak RSS",
            f"{scenario.rss['bare'].peak:.0f} MB (tree {scenario.rss['bare'].tree:.0f} MB)",
        ),
        (
            "Sheets calls, whole chain of one lead",
            f"{scenario.chain.sheets} (flush + email1 + email2 + call_alert)",
        ),
        ("Resend calls, whole chain of one lead", str(scenario.chain.resend)),
        ("Telegram calls, whole chain of one lead", str(scenario.chain.telegram)),
        ("Tasks run by the scenario", str(scenario.tasks_run)),
        ("Telegram calls, one registration in the bot", f"{bot.telegram_per_parent} ({calls_text(bot)})"),
        (
            "Telegram calls, the instance's first registration",
            f"{bot.telegram_first_parent} (getMe included)",
        ),
        (f"Telegram calls, {SCENARIO_PARENTS} registrations and bookings", str(bot.telegram_total)),
        (
            f"Cloud Tasks tasks left by {SCENARIO_PARENTS} registrations and bookings",
            f"{bot.tasks_scheduled} CRM syncs, {bot.reminders_scheduled} reminders,"
            f" {bot.nudges_scheduled} nudges",
        ),
        (
            "Calendar calls, one booking (listing included)",
            f"{len(booking.calendar)} ({counted(booking.calendar)})",
        ),
        ("Zoom calls, one booking", f"{len(booking.zoom)} ({counted(booking.zoom)})"),
        (
            "Telegram calls, one booking (day, time, confirm)",
            f"{len(booking.telegram)} ({counted(booking.telegram)})",
        ),
        (
            "Calendar calls, the instance's first booking",
            f"{len(first.calendar)} ({counted(first.calendar)})",
        ),
        ("Zoom calls, the instance's first booking", f"{len(first.zoom)} ({counted(first.zoom)})"),
        (
            f"Calendar / Zoom calls, {SCENARIO_PARENTS} registrations and bookings",
            f"{bot.calendar_total} / {bot.zoom_total}",
        ),
        (
            "Calendar calls, a listing right after a booking / the next one",
            f"{bot.listing_calendar} / {bot.cached_listing_calendar} ({bot.cached_listing_gap:.1f} s apart)",
        ),
        ("reminders scenario", reminders_text(reminders)),
        ("assistant scenario", assistant_text(assistant)),
        (
            "Telegram calls, one assistant question",
            f"{len(assistant.telegram_per_question)} ({counted(assistant.telegram_per_question)})",
        ),
        *warm_rows(results),
        (
            "tg_webhook imports openai on an assistant question (the check can see it)",
            "yes" if results.ai_imports and results.ai_imports.forbidden["openai"] else "no",
        ),
    ]
    extra += [
        (f"modules loaded by {f} after its requests", str(c.module_count)) for f, c in results.import_checks()
    ]
    parts = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m local.bench`); run it again after a change that could move "
        "these figures. Every run overwrites this file.",
        "",
        f"- Date: {results.started:%Y-%m-%d %H:%M} UTC, the run took {results.seconds:.0f} s",
        f"- Machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory']} RAM, {info['os']}",
        f"- Python {info['python']}, state store: {results.store}, "
        "Sheets/Resend/Telegram/Calendar/Zoom/OpenAI: local fakes",
        "",
        "## Method",
        "",
        "The store, the HTTP fakes and the Cloud Tasks emulator run once; each function is a real "
        "functions-framework process (gunicorn master + one worker), as in production.",
        "",
        f"- **Cold start**: wall time from spawning the process to the first correct answer (the port is "
        f"polled every {POLL_SECONDS * 1000:.0f} ms): for `tilda_webhook` a 200 `created` to a real Tilda "
        "form with the right secret; for `email_chain` a 200 `done` to the `crm_flush` task of the lead just "
        "created (Firestore, Sheets and Telegram); for `tg_webhook` a 200 to a `/start` update from a new "
        "parent (fresh update_id and user id) posted with the secret header, after which the Telegram fake "
        "must hold the welcome text, the video note and the consent keyboard for that chat (python-telegram-"
        "bot built, getMe, Firestore, three sends); for `reminders` a 200 `sent` to the −24 h reminder "
        "task (the JSON body the booking scheduled in Cloud Tasks) of a lesson that round's parent has just "
        "booked, after which the Telegram fake must hold that reminder, with the lesson's time and Zoom "
        "link, in the parent's chat (Firestore: the lead and the run-once key; one sendMessage over httpx). "
        "The booking is made by the round's tg_webhook once it has answered (consent → contact → email → "
        "name → day → time → Подтвердить, a free slot put in the Calendar fake at the start of the round); "
        "tg_webhook is stopped before reminders is spawned. Then a fresh tg_webhook is spawned for the "
        "assistant (`ai_cold_start`): its first update is a question (“"
        f"{AI_QUESTIONS[0]}”) from another new parent who has sent nothing before, and its first "
        "correct answer is the 200 to that update, after which the Telegram fake must hold, in that chat, a "
        "sendMessage with the model's answer and the “↩ Back” button (callback_data "
        f"`{AI_BACK}`) (`openai` imported, the SDK client built, one chat completion from the OpenAI fake, "
        "which answers a fixed text, so the fallback of a failed call cannot pass). Each is divided by the "
        "cold start of a bare functions-framework `hello` function started the same way in the same round; "
        "rounds interleave bare, floor, anchor, tilda_webhook, email_chain, tg_webhook, reminders and "
        f"tg_webhook on a question, {len(results.runs)} rounds, median ratio. The **floor** is a bare "
        "function that, on its first request as ours do, builds the two Google clients every function of "
        "ours uses (Firestore over gRPC, Cloud Tasks) and makes one call with each: what a function costs "
        "above `floor.cold_start` is ours to cut, what lies below it is the chosen clients'. The "
        "**anchor** (the warm path's, below) is the same for python-telegram-bot: its Application built "
        "(getMe) and one message sent to a new user; tg_webhook's own floor is about the floor plus the "
        "anchor less one bare start.",
        f"- **Peak RSS**: VmHWM of each process of the function's tree after its scenario — {SCENARIO_LEADS} "
        "Tilda leads, and every task they make (sync, email1, email2, call_alert) delivered through the "
        f"Cloud Tasks emulator; for tg_webhook, {SCENARIO_PARENTS} new parents each going /start → consent "
        "button → shared contact → email → name → day → time → Подтвердить (a trial lesson booked: "
        "Calendar and Zoom fakes), every update delivered by the Telegram fake to the webhook set with "
        f"setWebhook; for reminders, both reminders (−24 h, −5 h) of {SCENARIO_PARENTS - 1} of those lessons "
        "and one redelivery, posted as Cloud Tasks posts them; for tg_webhook's assistant scenario "
        f"(`ai_peak_rss`, a fresh instance), {SCENARIO_ASKING_PARENTS} new parents asking "
        f"{len(AI_QUESTIONS)} questions each (every other one after /start, the rest before anything else), "
        f"{len(FILTERED_QUESTIONS)} price questions and injections, and a {VOICE_SECONDS} s voice note "
        f"({len(VOICE_NOTE) // 1024} KB, downloaded through getFile and transcribed by the OpenAI fake). "
        "The budget is held against the largest "
        "single process; the tree total (master + worker, shared pages counted twice) is for information. "
        "A process that makes much short-lived garbage peaks higher or lower from run to run, with the "
        "timing of Python's cycle collector.",
        "- **Sheets calls per lead**: after a warm-up lead has gone through its whole chain (the sheets hold "
        "their headers), one more lead is posted and its CRM flush run; the calls the Sheets fake recorded "
        "are counted, then again after its email1, email2 and call_alert.",
        "- **Calls per registration in the bot**: the Bot API calls the Telegram fake recorded for the "
        "second parent of the tg_webhook scenario (the first one's include the instance's getMe); the "
        "Sheets calls are those of all the registrations, with email_chain not running (the CRM sync is a "
        "Cloud Tasks task, left pending), so every one would be tg_webhook's.",
        f"- **Calls per booking**: {SCENARIO_PARENTS + SPARE_SLOTS} free slots (events titled FREE, an hour "
        f"apart, from {SLOTS_AHEAD.days} days ahead) are put in the Calendar fake; each parent of the "
        "tg_webhook scenario books one, pressing the buttons of the bot's latest inline keyboard. The calls "
        "the fakes recorded for the second booking of the instance are counted: Calendar and Zoom (token "
        "requests included) from the start of that parent's registration, whose last answer is the day "
        "picker (a listing of free slots: the first booking's had dropped the cached ones), to the booked "
        "message; Telegram from the day button on. The first booking of the instance is shown apart (it "
        "builds the Calendar service and gets the Zoom token). The Sheets calls are those of all the "
        "bookings (the CRM row is written by the sync task, left pending). Cached listing: parents 3 and 4 "
        "register one after the other, so the day picker of 4 follows that of 3 (which read the calendar) "
        f"within {SLOT_CACHE_SECONDS} s; the Calendar calls of 4's registration are counted.",
        "- **Calls per assistant question**: in the assistant scenario (email_chain not running), the calls "
        "the OpenAI fake recorded (`/_fake/calls`, every path: a retry would count) from each question's "
        "update to its answer; the figure is the most any one ordinary question made. Price questions "
        f"({', '.join(q for q, k in FILTERED_QUESTIONS if k == 'ai_price')}) and injections "
        f"({', '.join(q for q, k in FILTERED_QUESTIONS if k == 'ai_injection')}) must be answered with the "
        "canned texts by the pre-filter; their figure is likewise the most any of them made. Sheets calls: "
        "the whole scenario's.",
        f"- **Burst**: after a warm-up lead, {BURST_LEADS} Tilda leads are posted over {BURST_SECONDS} s of "
        f"emulated time in steps of {BURST_STEP_SECONDS} s: each step's leads are posted (each records its "
        "row and managers' message in the outbox; the first asks for a `crm_flush` task a few seconds "
        "later, the others find one waiting), then the clock moves on a step and the due tasks run at the "
        "queues' rates (`infra/terraform/queues.json`, as Terraform deploys them). Steps go on until every "
        "posted lead has a row in the "
        "Sheets fake (the drain time, emulated). Lost: posted leads without a row; duplicated: rows beyond "
        "one per lead; Sheets calls per lead: every Sheets request of the burst divided by the leads; writes "
        "per minute: the write requests (append, batchUpdate, update, clear) in any 60 s of emulated time.",
        "- **Imports**: each function runs in a fresh interpreter via functions-framework's `create_app` "
        "under `-X importtime`, serving real requests (tilda: a new lead; email_chain: its sync and email1; "
        "reminders: the −24 h reminder of the scenario's last lesson; tg_webhook, served on its port with "
        "werkzeug and its updates delivered by the Telegram fake: a new parent's /start, consent, contact, "
        "email and name, then a booking — day, time, Подтвердить); then `sys.modules` is searched for "
        "`openai` and `telegram` (python-telegram-bot; allowed in tg_webhook, which is the bot). tg_webhook "
        "may import `openai` only to ask the model, so its figure is `openai_imported_without_ai`; a second "
        "fresh interpreter answers one assistant question, and must have imported it "
        "(`openai_imported_with_ai`: the check can see the import).",
        "",
        f"- **Warm path**: tg_webhook is started twice, on Redis (a real redis-server) and on the Firestore "
        "emulator (whichever the stack does not run is started for it), beside the **anchor**: a bare "
        "functions-framework function wrapping a python-telegram-bot Application with one handler that sends "
        "one message, served the same way (the Application on an event loop thread of its own, made on the "
        "first request). Each tg_webhook gets a new parent to the phone step (/start, the consent button); "
        f"then, after {WARM_UP} warm-up rounds, {WARM_ROUNDS} rounds post one update to each of the three "
        "in turn (the order rotating), timed from the client: to tg_webhook the parent typing "
        f"“{WARM_TEXT}” at the phone step (not a number: the step asks again, one sendMessage, the "
        "session unchanged), to the anchor a new user's message. The figure is each one's median, as a "
        "ratio to the anchor's. **Store round trips** are what the functions log per request "
        "(`store_round_trips`, counted by the store adapters: one per Redis command or script, one per "
        "Firestore RPC): the most any of those text updates made, and for tilda_webhook the median of "
        f"{WARM_LEADS} new parents' forms posted to a warm instance.",
        "",
        "## Budgets",
        "",
        *table(("figure", "measured", "budget", "verdict"), verdicts(figures)),
        "",
        "## Other figures",
        "",
        *table(("figure", "value"), extra),
        "",
        "## Cold-start runs (seconds)",
        "",
        *runs_table(results),
        "",
    ]
    for function, check in results.import_checks():
        parts += [
            f"## Imports of {function}",
            "",
            "Measured under `-X importtime`, which slows imports a little. `framework` is what any "
            "function pays (the bare one too), `main.py` the load of the function's module, `request` the "
            "lazy imports of its first requests. Top-level imports do not overlap:",
            "",
            *imports_table(check.top_level()),
            "",
            "The ten slowest by cumulative time (a module's time includes its own imports, so rows overlap):",
            "",
            *imports_table(check.slowest()),
            "",
        ]
    parts += [package.sizes_table(results.archives, results.installed_bytes), ""]
    lines = [*(f.line for f in figures), *results.archive_lines()]
    parts += ["## Figures for scripts", "", "```", *lines, "```", ""]
    return "\n".join(parts)
