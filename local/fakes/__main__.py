"""`python -m local.fakes`: serve the Sheets, Resend and Telegram fakes in one process until interrupted.

    python -m local.fakes --sheets-port 8085 --resend-port 8087 --telegram-port 8088 [--host 127.0.0.1]
        [--calendar-port 8090 [--calendar-seed-days 14]] [--zoom-port 8091] [--openai-port 8092]

Configuration comes from SHEETS_SPREADSHEET_ID, TELEGRAM_BOT_TOKEN, TELEGRAM_BOT_USERNAME (default
allin_academy_bot) and RESEND_API_KEY (plus SHEETS_LEADS_SHEET / SHEETS_LOG_SHEET for the sheet names).
The Google Calendar and Zoom fakes start only when their port is given; they read GOOGLE_CALENDAR_ID,
ACADEMY_TIMEZONE, ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET (local defaults when unset). The
OpenAI fake likewise starts only with --openai-port; it accepts OPENAI_API_KEY (default sk-local-fake-key).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from collections.abc import Sequence
from datetime import time
from types import FrameType

from local.fakes.runner import DEFAULT_SEED_TIMES, start_fakes

log = logging.getLogger("local.fakes")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.fakes", description="Serve the HTTP fakes.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--sheets-port", type=int, default=8085)
    parser.add_argument("--resend-port", type=int, default=8087)
    parser.add_argument("--telegram-port", type=int, default=8088)
    parser.add_argument(
        "--strict-webhooks",
        action="store_true",
        help="refuse http:// webhook URLs and non-Telegram ports, like the real Bot API",
    )
    parser.add_argument(
        "--calendar-port", type=int, default=None, help="serve the Google Calendar fake (0: a free port)"
    )
    parser.add_argument(
        "--zoom-port", type=int, default=None, help="serve the Zoom OAuth + API fake (0: a free port)"
    )
    parser.add_argument(
        "--openai-port", type=int, default=None, help="serve the OpenAI API fake (0: a free port)"
    )
    parser.add_argument(
        "--calendar-seed-days",
        type=int,
        default=0,
        help="fill the calendar with free slots for this many days from today",
    )
    parser.add_argument(
        "--calendar-seed-times",
        type=_times,
        default=DEFAULT_SEED_TIMES,
        help="comma-separated slot start times, e.g. 11:00,15:00,18:00 (in ACADEMY_TIMEZONE)",
    )
    parser.add_argument("--calendar-seed-marker", default="FREE", help="summary of the seeded free slots")
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"))
    return parser.parse_args(argv)


def _times(text: str) -> tuple[time, ...]:
    try:
        return tuple(time.fromisoformat(part.strip()) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"bad time list {text!r}: {exc}") from None


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    fakes = start_fakes(
        os.environ,
        host=args.host,
        sheets_port=args.sheets_port,
        resend_port=args.resend_port,
        telegram_port=args.telegram_port,
        allow_http_webhook=not args.strict_webhooks,
        calendar_port=args.calendar_port,
        zoom_port=args.zoom_port,
        openai_port=args.openai_port,
        calendar_seed_days=args.calendar_seed_days,
        calendar_seed_times=args.calendar_seed_times,
        calendar_seed_marker=args.calendar_seed_marker,
    )
    for name, value in fakes.app_env().items():
        log.info("fakes: point the app here with %s=%s", name, value)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("fakes: signal %s, stopping", signum)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        stop.wait()
    finally:
        fakes.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
