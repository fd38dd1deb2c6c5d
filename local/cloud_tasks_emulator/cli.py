"""`python -m local.cloud_tasks_emulator`: one emulator served over HTTP."""

from __future__ import annotations

import argparse
import json
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

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
        metavar="projects/P/locations/L/queues/Q[=KEY]",
        help="pre-create this queue (repeatable), with the settings under KEY in --queue-settings",
    )
    parser.add_argument(
        "--queue-settings",
        metavar="FILE",
        help="JSON: KEY -> {rate_limits: {...}, retry_config: {...}} with the Terraform resource's names "
        "(google_cloud_tasks_queue), e.g. infra/terraform/queues.json",
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
        "--scheduler-account",
        metavar="EMAIL",
        help="the --every calls carry an OIDC token for this service account (Cloud Scheduler's oidc_token)",
    )
    parser.add_argument(
        "--max-attempts", type=int, default=100, help="default retryConfig.maxAttempts (-1: no limit)"
    )
    parser.add_argument("--min-backoff", type=float, default=0.1, metavar="SECONDS")
    parser.add_argument("--max-backoff", type=float, default=3600.0, metavar="SECONDS")
    parser.add_argument("--max-doublings", type=int, default=16)
    parser.add_argument(
        "--max-retry-duration",
        type=_duration,
        default=0.0,
        metavar="DURATION",
        help="default retryConfig.maxRetryDuration: seconds, or with a unit (90s, 30m, 24h); 0: no limit",
    )
    parser.add_argument(
        "--dispatch-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="for tasks without dispatchDeadline",
    )
    parser.add_argument("--log-level", default="INFO")
    return parser


def queue_resource(settings: Mapping[str, Any]) -> dict[str, Any]:
    """A queue's settings as Terraform names them (rate_limits, retry_config) in the API's JSON."""
    resource: dict[str, Any] = {}
    for block, fields in (("rate_limits", "rateLimits"), ("retry_config", "retryConfig")):
        given = settings.get(block) or {}
        unknown = set(given) - set(_TERRAFORM_FIELDS[block])
        if unknown:
            raise ApiError("INVALID_ARGUMENT", f"unknown {block} settings: {', '.join(sorted(unknown))}")
        resource[fields] = {_camel(key): value for key, value in given.items()}
    return resource


_TERRAFORM_FIELDS = {
    "rate_limits": ("max_dispatches_per_second", "max_concurrent_dispatches"),
    "retry_config": ("max_attempts", "min_backoff", "max_backoff", "max_doublings", "max_retry_duration"),
}


def _duration(text: str) -> float:
    """Seconds from "90", "90s", "30m" or "24h"."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smh]?)", text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 90s, 30m, 24h)")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def _camel(name: str) -> str:
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)


def _queues(specs: Sequence[str], settings_file: str | None) -> tuple[list[str], dict[str, Any]]:
    """`--queue NAME[=KEY]` arguments: the queue names and, for those with a KEY, their settings."""
    table = json.loads(Path(settings_file).read_text()) if settings_file else {}
    names, settings = [], {}
    for spec in specs:
        name, _, key = spec.partition("=")
        names.append(name)
        if key:
            if key not in table:
                raise ApiError("INVALID_ARGUMENT", f"no settings for {key!r} in {settings_file}")
            settings[name] = queue_resource(table[key])
    return names, settings


def emulator_from_args(args: argparse.Namespace) -> CloudTasksEmulator:
    names, settings = _queues(args.queue, args.queue_settings)
    return CloudTasksEmulator(
        queues=names,
        queue_settings=settings,
        max_retry_duration=args.max_retry_duration,
        auto_dispatch=args.auto_dispatch,
        auto_dispatch_interval=args.auto_dispatch_interval,
        schedules=[(float(every), url) for every, url in args.every],
        scheduler_account=args.scheduler_account,
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
    except (ApiError, OSError, ValueError) as exc:
        parser.error(getattr(exc, "message", str(exc)))
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
