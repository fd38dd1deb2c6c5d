"""`python -m local.bench`: run every measurement and write the report."""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import local.bench
from local import package
from local.bench.coldstart import cold_start_run
from local.bench.constants import BURST_LEADS, BURST_SECONDS, NO_FUNCTIONS, BenchError
from local.bench.import_checks import check_imports
from local.bench.lab import Lab
from local.bench.report import human_report, markdown
from local.bench.results import Results
from local.bench.scenarios import (
    assistant_scenario,
    bot_scenario,
    burst_scenario,
    reminders_scenario,
    scenario,
)
from local.bench.warm import warm_path
from local.processes import REPO
from local.run import Ports, start_stack

# ---- main ----------------------------------------------------------------------------------------------


@contextmanager
def running_lab(store: str, log_dir: Path | None) -> Iterator[Lab]:
    """The stack without functions, torn down (with every function started on it) on the way out."""
    with ExitStack() as cleanup:
        directory = log_dir or Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        directory.mkdir(parents=True, exist_ok=True)
        stack = start_stack(ports=Ports.free(), store=store, log_dir=directory, functions=NO_FUNCTIONS)
        cleanup.callback(stack.stop)
        lab = Lab(stack, directory, cleanup)
        lab.check_openai_fake()
        yield lab


def measure(args: argparse.Namespace) -> Results:
    started = time.perf_counter()
    with running_lab(args.store, args.log_dir) as lab:
        results = Results(datetime.now(UTC), lab.stack.store)
        step("scenario: peak RSS and calls per lead")
        results.scenario = scenario(lab)
        step(f"burst: {BURST_LEADS} leads in {BURST_SECONDS} s of emulated time, the batched CRM writer")
        results.burst = burst_scenario(lab)
        step("bot scenario: peak RSS and calls per registration and per booking")
        results.bot = bot_scenario(lab)
        step("reminders scenario: peak RSS")
        *reminded, kept = results.bot.bookings
        results.reminders = reminders_scenario(lab, reminded)
        step("imports")
        results.imports, results.ai_imports = check_imports(lab, kept)
        # After the imports: it resets the stack, and the reminders' check needs `kept` in the store.
        step("assistant scenario: peak RSS and OpenAI calls per question")
        results.assistant = assistant_scenario(lab)
        step("warm path: tg_webhook on Redis and Firestore against a bare python-telegram-bot function")
        results.warm = warm_path(lab)
        for run in range(1, args.runs + 1):
            step(f"cold starts, round {run}/{args.runs}")
            results.runs.append(cold_start_run(lab))
    step("function archives: sizes, and their requirements installed in fresh venvs")
    results.archives, results.installed_bytes = package.measure(REPO / "dist", installed=True)
    results.seconds = time.perf_counter() - started
    return results


def step(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    bench_doc = local.bench.__doc__
    parser = argparse.ArgumentParser(
        prog="python -m local.bench",
        description=bench_doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--runs", type=int, default=5, help="cold-start rounds (default 5)")
    parser.add_argument("--store", choices=["auto", "firestore", "redis", "embedded-redis"], default="auto")
    parser.add_argument("--no-write", action="store_true", help="do not overwrite BENCHMARKS.md")
    parser.add_argument("--log-dir", type=Path, help="keep the processes' logs here (default: a temp dir)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        results = measure(args)
    except BenchError as exc:
        sys.exit(f"bench failed: {exc}")
    except KeyboardInterrupt:
        sys.exit("bench interrupted; every process it started is stopped")
    figures = results.figures()
    print("\n".join(human_report(results, figures)))
    if not args.no_write:
        (REPO / "BENCHMARKS.md").write_text(markdown(results, figures))
        print(f"\nwrote {REPO / 'BENCHMARKS.md'} (the run took {results.seconds:.0f} s)")
    print()
    print("\n".join([*(f.line for f in figures), *results.archive_lines()]))
