"""`python -m local.console`: serve the console over running fakes and a Cloud Tasks emulator (Docker
Compose runs it so; `make dev` starts it in its own process, local/run.py).

    python -m local.console [--host 127.0.0.1] [--port 8080] --tasks http://cloud-tasks:8123 \\
        --fake telegram=http://fakes:8088 --fake sheets=http://fakes:8085 ...

The settings it shows and uses (MANAGER_CHAT_ID, TELEGRAM_BOT_USERNAME, GOOGLE_CALENDAR_ID,
SHEETS_SPREADSHEET_ID, ACADEMY_TIMEZONE, MANAGER_IDS) come from the environment.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from collections.abc import Sequence

from local.console.app import FAKES, Console
from local.httpserver import ServerThread

log = logging.getLogger("local.console")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.console", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--tasks", required=True, help="the Cloud Tasks emulator's URL")
    parser.add_argument("--fake", action="append", default=[], help="NAME=URL, one per fake")
    args = parser.parse_args(argv)
    args.fakes = dict(item.split("=", 1) for item in args.fake)
    if unknown := set(args.fakes) - set(FAKES):
        parser.error(f"unknown fakes: {sorted(unknown)}; known: {', '.join(FAKES)}")
    return args


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    server = ServerThread(
        Console(fakes=args.fakes, tasks=args.tasks, env=dict(os.environ)), args.host, args.port
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    server.start()
    log.info("console on http://%s:%d/", args.host, args.port)
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
