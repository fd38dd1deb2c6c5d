"""`python -m local.cloud_tasks_emulator`: one emulator served over HTTP."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from werkzeug.serving import make_server

from local.cloud_tasks_emulator.emulator import CloudTasksEmulator
from local.cloud_tasks_emulator.wire import ApiError, log

# --------------------------------------------------------------------------------------------------
# CLI


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local.cloud_tasks_emulator",
        description="Cloud Tasks v2 REST emulator (HTTP targets, de-duplication, DeleteTask, virtual clock).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument(
        "--queue",
        action="append",
        default=[],
        metavar="projects/P/locations/L/queues/Q",
        help="pre-create this queue (repeatable)",
    )
    parser.add_argument("--auto-dispatch", action="store_true", help="dispatch due tasks in the background")
    parser.add_argument("--auto-dispatch-interval", type=float, default=0.2, metavar="SECONDS")
    parser.add_argument(
        "--every",
        nargs=2,
        action="append",
        default=[],
        metavar=("SECONDS", "URL"),
        help="with --auto-dispatch, POST to URL every SECONDS of emulator time (Cloud Scheduler; repeatable)",
    )
    parser.add_argument(
        "--max-attempts", type=int, default=100, help="default retryConfig.maxAttempts (-1: no limit)"
    )
    parser.add_argument("--min-backoff", type=float, default=0.1, metavar="SECONDS")
    parser.add_argument("--max-backoff", type=float, default=3600.0, metavar="SECONDS")
    parser.add_argument("--max-doublings", type=int, default=16)
    parser.add_argument(
        "--dispatch-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="for tasks without dispatchDeadline",
    )
    parser.add_argument("--log-level", default="INFO")
    return parser


def emulator_from_args(args: argparse.Namespace) -> CloudTasksEmulator:
    return CloudTasksEmulator(
        queues=args.queue,
        auto_dispatch=args.auto_dispatch,
        auto_dispatch_interval=args.auto_dispatch_interval,
        schedules=[(float(every), url) for every, url in args.every],
        max_attempts=args.max_attempts,
        min_backoff=args.min_backoff,
        max_backoff=args.max_backoff,
        max_doublings=args.max_doublings,
        dispatch_timeout=args.dispatch_timeout,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        emulator = emulator_from_args(args)
    except ApiError as exc:
        parser.error(exc.message)
    server = make_server(args.host, args.port, emulator.wsgi_app, threaded=True)
    log.info(
        "Cloud Tasks emulator on http://%s:%d (queues: %s; auto-dispatch: %s)",
        args.host,
        server.server_port,
        ", ".join(args.queue) or "none",
        "on" if args.auto_dispatch else "off",
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        emulator.close()
