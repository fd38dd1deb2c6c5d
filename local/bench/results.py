"""What a bench run produces: figures with their budgets, and the results of each measurement."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from local import package
from local.bench.constants import (
    BURST_LEADS,
    BURST_SECONDS,
    IMPORT_FIGURE_SUFFIX,
    MEASURED,
    SCENARIO_PARENTS,
    SLOT_CACHE_SECONDS,
)

# ---- figures and budgets -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    subject: str
    name: str
    value: float
    unit: str
    decimals: int = 0

    @property
    def text(self) -> str:
        return f"{self.value:.{self.decimals}f}"

    @property
    def line(self) -> str:
        return f"bench {self.subject}.{self.name} {self.text} {self.unit}"


@dataclass(frozen=True)
class Budget:
    label: str
    limit: float | None  # None: the function does not exist yet, nothing to measure
    unit: str
    figure: str = ""  # "<subject>.<name>" of the figure held against the limit


BUDGETS = (
    Budget("tilda_webhook cold start", 2.5, "x", "tilda_webhook.cold_start_ratio"),
    Budget("email_chain cold start", 2.5, "x", "email_chain.cold_start_ratio"),
    Budget("reminders cold start", 2.5, "x", "reminders.cold_start_ratio"),
    Budget("tg_webhook cold start", 3, "x", "tg_webhook.cold_start_ratio"),
    Budget("tg_webhook cold start, assistant question", 3, "x", "tg_webhook.ai_cold_start_ratio"),
    Budget("tilda_webhook peak RSS", 160, "MB", "tilda_webhook.peak_rss"),
    Budget("email_chain peak RSS", 160, "MB", "email_chain.peak_rss"),
    Budget("tg_webhook peak RSS", 160, "MB", "tg_webhook.peak_rss"),
    Budget("tg_webhook peak RSS, assistant scenario", 160, "MB", "tg_webhook.ai_peak_rss"),
    Budget("reminders peak RSS", 160, "MB", "reminders.peak_rss"),
    Budget("Sheets calls per Tilda lead (happy path)", 2, "calls", "intake.sheets_calls_per_lead"),
    Budget(f"Burst of {BURST_LEADS} leads in {BURST_SECONDS} s: leads lost", 0, "leads", "burst.lost"),
    Budget(
        f"Burst of {BURST_LEADS} leads in {BURST_SECONDS} s: rows duplicated", 0, "rows", "burst.duplicated"
    ),
    Budget("Burst: Sheets calls per lead", 0.2, "calls", "crm.sheets_calls_per_lead"),
    Budget("Burst: Sheets writes in any minute", 60, "writes", "crm.peak_writes_per_min"),
    Budget("Burst: drained within (emulated)", 20, "min", "burst.drain_minutes"),
    Budget(
        f"Sheets calls in tg_webhook ({SCENARIO_PARENTS} registrations)",
        0,
        "calls",
        "onboarding.sheets_calls_in_tg_webhook",
    ),
    Budget(
        f"Sheets calls in tg_webhook ({SCENARIO_PARENTS} bookings)",
        0,
        "calls",
        "booking.sheets_calls_in_tg_webhook",
    ),
    Budget(
        f"Calendar calls of a listing within {SLOT_CACHE_SECONDS} s of the previous one",
        0,
        "calls",
        "booking.calendar_calls_for_cached_listing",
    ),
    Budget("OpenAI calls per assistant question", 1, "calls", "assistant.openai_calls_per_question"),
    Budget(
        "OpenAI calls per price question or injection",
        0,
        "calls",
        "assistant.openai_calls_per_filtered_question",
    ),
    Budget(
        "Sheets calls in tg_webhook (assistant scenario)", 0, "calls", "assistant.sheets_calls_in_tg_webhook"
    ),
    Budget(
        "tg_webhook store round trips per update", 2, "round trips", "tg_webhook.store_round_trips_per_update"
    ),
    Budget(
        "tilda_webhook store round trips per lead",
        2,
        "round trips",
        "tilda_webhook.store_round_trips_per_lead",
    ),
    Budget("tg_webhook warm p50 on Redis, ÷ the anchor", 3, "x", "tg_webhook.warm_p50_ratio"),
    Budget("tilda_webhook imports openai", 0, "bool", "tilda_webhook.openai_imported"),
    Budget("tilda_webhook imports telegram", 0, "bool", "tilda_webhook.telegram_imported"),
    Budget("email_chain imports openai", 0, "bool", "email_chain.openai_imported"),
    Budget("email_chain imports telegram", 0, "bool", "email_chain.telegram_imported"),
    Budget(
        "tg_webhook imports openai without AI (/start, registration, booking)",
        0,
        "bool",
        "tg_webhook.openai_imported_without_ai",
    ),
    Budget("reminders imports openai", 0, "bool", "reminders.openai_imported"),
    Budget("reminders imports telegram", 0, "bool", "reminders.telegram_imported"),
)
BUDGET_TEXT = {
    "tilda_webhook cold start": "≤ 2.5× bare",
    "email_chain cold start": "≤ 2.5× bare",
    "reminders cold start": "≤ 2.5× bare",
    "tg_webhook cold start": "≤ 3× bare",
    "tg_webhook cold start, assistant question": "≤ 3× bare",
    "tg_webhook warm p50 on Redis, ÷ the anchor": "≤ 3× anchor",
    f"Sheets calls in tg_webhook ({SCENARIO_PARENTS} registrations)": "none",
    f"Sheets calls in tg_webhook ({SCENARIO_PARENTS} bookings)": "none",
    f"Calendar calls of a listing within {SLOT_CACHE_SECONDS} s of the previous one": "none",
    "OpenAI calls per price question or injection": "none",
    "Sheets calls in tg_webhook (assistant scenario)": "none",
}


# ---- results -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColdStartRun:
    bare: float
    floor: float  # a bare function building the Firestore and Cloud Tasks clients, one call each
    anchor: float  # a bare function with python-telegram-bot: the Application built (getMe), one message
    tilda_webhook: float
    email_chain: float
    tg_webhook: float
    reminders: float
    tg_webhook_ai: float  # a fresh tg_webhook whose first update is a new parent's question to the assistant

    def ratio(self, function: str) -> float:
        return float(getattr(self, function)) / self.bare


@dataclass(frozen=True)
class ColdStart:
    """One cold-start column of a round: the ColdStartRun field, its figures' subject and name prefix."""

    field: str
    subject: str
    prefix: str = ""
    column: str = ""  # the runs table's short name (default: the field)


COLD_STARTS = (
    ColdStart("floor", "floor"),
    ColdStart("anchor", "anchor"),
    ColdStart("tilda_webhook", "tilda_webhook", column="tilda"),
    ColdStart("email_chain", "email_chain"),
    ColdStart("tg_webhook", "tg_webhook", column="tg"),
    ColdStart("reminders", "reminders"),
    ColdStart("tg_webhook_ai", "tg_webhook", "ai_", column="tg ai"),
)


@dataclass(frozen=True)
class Rss:
    """Peak resident memory (VmHWM) of each process of a function's tree, in MB."""

    per_process: tuple[float, ...]

    @property
    def peak(self) -> float:
        return max(self.per_process)

    @property
    def tree(self) -> float:
        return sum(self.per_process)


@dataclass(frozen=True)
class CallCounts:
    sheets: int
    resend: int
    telegram: int
    sheets_requests: tuple[str, ...] = ()


@dataclass(frozen=True)
class BurstResult:
    posted: int
    lost: int  # posted leads with no row in the sheet once drained
    duplicated: int  # rows beyond one per lead
    sheets_calls: int
    writes_by_step: list[int]  # Sheets write requests in each emulated step
    step_seconds: int
    drain_minutes: float  # emulated, from the first post until every lead has its row

    def peak_writes_per_min(self) -> int:
        """The most Sheets writes in any 60 s of emulated time (steps are whole windows)."""
        per_minute = max(1, 60 // self.step_seconds)
        steps = self.writes_by_step
        return max(
            (sum(steps[i : i + per_minute]) for i in range(max(1, len(steps) - per_minute + 1))), default=0
        )


@dataclass(frozen=True)
class ScenarioResult:
    rss: dict[str, Rss]
    intake: CallCounts
    chain: CallCounts
    tasks_run: int


@dataclass(frozen=True)
class Booking:
    """A trial lesson a parent booked in the bot, and the reminder tasks the booking scheduled."""

    chat_id: int
    start: datetime
    zoom_link: str
    reminders: tuple[dict[str, str], ...]  # the JSON bodies of the tasks, as Cloud Tasks would post them

    def reminder(self, kind: str) -> dict[str, str]:
        return next(task for task in self.reminders if task["kind"] == kind)


@dataclass(frozen=True)
class BookingCalls:
    """The calls one booking made, as the fakes recorded them ("METHOD /path", ids shortened)."""

    calendar: tuple[str, ...]  # from the registration's last update (it lists the free slots) to "booked"
    zoom: tuple[str, ...]  # the same window (token requests included)
    telegram: tuple[str, ...]  # the day, time and confirm buttons (Bot API methods)
    sheets: int


@dataclass(frozen=True)
class BotScenarioResult:
    rss: Rss
    telegram_per_parent: int  # one registration on a warm instance
    telegram_methods: tuple[str, ...]  # the Bot API methods of those calls, in order
    telegram_first_parent: int  # the first registration of the instance (its getMe included)
    telegram_total: int
    sheets: int  # every registration
    sheets_bookings: int  # every booking
    tasks_scheduled: int  # Cloud Tasks tasks left: a CRM sync per registration and per booking ...
    reminders_scheduled: int  # ... and the reminders of each booking
    nudges_scheduled: int  # ... and each chat's nudge chain (it ends at its next look: they booked)
    booking: BookingCalls  # the second booking of the instance (its Zoom token cached)
    first_booking: BookingCalls  # the instance's first (the Calendar service built, the Zoom token)
    calendar_total: int  # every registration and booking
    zoom_total: int
    listing_calendar: int  # a listing right after a booking (which dropped the cached slots)
    cached_listing_calendar: int  # the next parent's listing, within 30 s of that one
    cached_listing_gap: float  # seconds between the two listings
    bookings: tuple[Booking, ...]


@dataclass(frozen=True)
class RemindersScenarioResult:
    rss: Rss
    sent: int  # reminders sent (each answered 200 "sent" and found in its parent's chat)
    telegram: int  # the Bot API calls of those reminders
    duplicate_outcome: str  # the answer to a reminder posted again (Cloud Tasks delivers at least once)
    duplicate_telegram: int


@dataclass(frozen=True)
class AssistantScenarioResult:
    rss: Rss
    openai_per_question: tuple[int, ...]  # OpenAI calls of each ordinary question
    openai_per_filtered: tuple[int, ...]  # ... and of each price question or injection
    telegram_per_question: tuple[str, ...]  # the Bot API methods of one ordinary question
    voice_openai: tuple[str, ...]  # the OpenAI requests of the voice note ("METHOD /path")
    voice_telegram: tuple[str, ...]  # its Bot API methods (getFile and the download included)
    sheets: int  # the whole scenario


@dataclass(frozen=True)
class ImportEntry:
    phase: str
    module: str
    cumulative_ms: float
    self_ms: float
    depth: int  # 0: imported by main.py, the framework or a request handler, not by another module


@dataclass(frozen=True)
class ImportCheck:
    forbidden: dict[str, bool]
    entries: tuple[ImportEntry, ...]
    module_count: int

    def slowest(self, count: int = 10) -> list[ImportEntry]:
        """Largest cumulative times; nested modules overlap with their parents."""
        return sorted(self.entries, key=lambda e: e.cumulative_ms, reverse=True)[:count]

    def top_level(self, count: int = 8) -> list[ImportEntry]:
        """Largest top-level imports: they do not overlap, so they add up to the whole import time."""
        return [e for e in self.slowest(len(self.entries)) if e.depth == 0][:count]


@dataclass(frozen=True)
class WarmPath:
    """Seconds per request of the anchor and of tg_webhook on each store ("redis", "firestore"), and the
    store round trips each function logged per request."""

    seconds: dict[str, list[float]]
    store_round_trips: dict[str, list[int]]  # by store: one per timed text update
    tilda_round_trips: list[int]  # one per lead

    def p50_ms(self, target: str) -> float:
        return statistics.median(self.seconds[target]) * 1000

    def ratio(self, store: str) -> float:
        return self.p50_ms(store) / self.p50_ms("anchor")


@dataclass
class Results:
    started: datetime
    store: str
    runs: list[ColdStartRun] = field(default_factory=list)
    scenario: ScenarioResult | None = None
    burst: BurstResult | None = None
    bot: BotScenarioResult | None = None
    reminders: RemindersScenarioResult | None = None
    assistant: AssistantScenarioResult | None = None
    imports: dict[str, ImportCheck] = field(default_factory=dict)
    ai_imports: ImportCheck | None = None  # tg_webhook answering a question: proves the check sees openai
    warm: WarmPath | None = None
    archives: list[Path] = field(default_factory=list)  # dist/<function>.zip, as `make package` builds them
    installed_bytes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def archive_lines(self) -> list[str]:
        return package.figure_lines(self.archives, self.installed_bytes)

    def import_checks(self) -> list[tuple[str, ImportCheck]]:
        """(title, check) of every import check, the assistant path's after tg_webhook's."""
        checks = list(self.imports.items())
        if self.ai_imports is not None:
            checks.append(("tg_webhook (assistant question)", self.ai_imports))
        return checks

    def figures(self) -> list[Figure]:
        figures: list[Figure] = [
            Figure("bare", "cold_start", statistics.median(r.bare for r in self.runs), "s", 2)
        ]
        for column in COLD_STARTS:
            ratio = statistics.median(r.ratio(column.field) for r in self.runs)
            seconds = statistics.median(float(getattr(r, column.field)) for r in self.runs)
            figures += [
                Figure(column.subject, f"{column.prefix}cold_start_ratio", ratio, "x", 2),
                Figure(column.subject, f"{column.prefix}cold_start", seconds, "s", 2),
            ]
        assert self.scenario is not None and self.bot is not None and self.reminders is not None
        assert self.assistant is not None and self.ai_imports is not None
        peaks = {**self.scenario.rss, "tg_webhook": self.bot.rss, "reminders": self.reminders.rss}
        for subject in ("bare", *MEASURED):
            rss = peaks[subject]
            figures += [
                Figure(subject, "peak_rss", rss.peak, "MB"),
                Figure(subject, "peak_rss_tree", rss.tree, "MB"),
            ]
        ai = self.assistant
        figures += [
            Figure("tg_webhook", "ai_peak_rss", ai.rss.peak, "MB"),
            Figure("tg_webhook", "ai_peak_rss_tree", ai.rss.tree, "MB"),
        ]
        if self.burst is not None:
            burst = self.burst
            figures += [
                Figure("burst", "lost", burst.lost, "leads"),
                Figure("burst", "duplicated", burst.duplicated, "rows"),
                Figure("crm", "sheets_calls_per_lead", burst.sheets_calls / burst.posted, "calls", 3),
                Figure("crm", "peak_writes_per_min", burst.peak_writes_per_min(), "writes"),
                Figure("burst", "drain_minutes", burst.drain_minutes, "min", 1),
            ]
        intake, chain = self.scenario.intake, self.scenario.chain
        figures += [
            Figure("intake", "sheets_calls_per_lead", intake.sheets, "calls"),
            Figure("chain", "sheets_calls_per_lead", chain.sheets, "calls"),
            Figure("chain", "resend_calls_per_lead", chain.resend, "calls"),
            Figure("chain", "telegram_calls_per_lead", chain.telegram, "calls"),
            Figure("onboarding", "telegram_calls_per_parent", self.bot.telegram_per_parent, "calls"),
            Figure("onboarding", "sheets_calls_in_tg_webhook", self.bot.sheets, "calls"),
            Figure("booking", "calendar_calls_per_booking", len(self.bot.booking.calendar), "calls"),
            Figure("booking", "zoom_calls_per_booking", len(self.bot.booking.zoom), "calls"),
            Figure("booking", "telegram_calls_per_booking", len(self.bot.booking.telegram), "calls"),
            Figure("booking", "sheets_calls_in_tg_webhook", self.bot.sheets_bookings, "calls"),
            Figure("booking", "calendar_calls_for_cached_listing", self.bot.cached_listing_calendar, "calls"),
        ]
        per_reminder = self.reminders.telegram / self.reminders.sent
        figures.append(
            Figure(
                "reminders",
                "telegram_calls_per_reminder",
                per_reminder,
                "calls",
                0 if per_reminder.is_integer() else 2,
            )
        )
        # The most any one question made: the budget is per question.
        figures += [
            Figure("assistant", "openai_calls_per_question", max(ai.openai_per_question), "calls"),
            Figure("assistant", "openai_calls_per_filtered_question", max(ai.openai_per_filtered), "calls"),
            Figure("assistant", "sheets_calls_in_tg_webhook", ai.sheets, "calls"),
        ]
        for function in MEASURED:
            suffix = IMPORT_FIGURE_SUFFIX.get(function, "")
            for module, imported in self.imports[function].forbidden.items():
                figures.append(Figure(function, f"{module}_imported{suffix}", int(imported), "bool"))
        with_ai = self.ai_imports.forbidden["openai"]
        figures.append(Figure("tg_webhook", "openai_imported_with_ai", int(with_ai), "bool"))
        if self.warm is not None:
            figures += warm_figures(self.warm)
        return figures


def warm_figures(warm: WarmPath) -> list[Figure]:
    """The warm path's figures; a store this machine could not run has none."""
    trips = [max(t) for t in warm.store_round_trips.values() if t]  # the most any text update made
    figures = [
        Figure("tg_webhook", "store_round_trips_per_update", max(trips), "round trips"),
        Figure(
            "tilda_webhook",
            "store_round_trips_per_lead",
            statistics.median(warm.tilda_round_trips),
            "round trips",
        ),
        Figure("anchor", "warm_p50", warm.p50_ms("anchor"), "ms", 1),
    ]
    for store, suffix in (("redis", ""), ("firestore", "_firestore")):
        if store in warm.seconds:
            figures += [
                Figure("tg_webhook", f"warm_p50_ratio{suffix}", warm.ratio(store), "x", 2),
                Figure("tg_webhook", f"warm_p50{suffix}", warm.p50_ms(store), "ms", 1),
            ]
    return figures
