"""The whole system on one machine: state store, HTTP fakes, Cloud Tasks emulator and the functions.

`make dev` runs `python -m local.run`; the end-to-end tests start the same stack on free ports. Offline
by default; a service whose real credentials are in `.env` is used for real instead of its fake.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import signal
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from local.httpserver import ServerThread
from local.processes import (
    REPO,
    Service,
    firestore_emulator_available,
    free_port,
    start,
    start_firestore_emulator,
    start_function,
    start_redis_server,
)

log = logging.getLogger("local.run")

FUNCTIONS = ("tilda_webhook", "tg_webhook", "email_chain", "reminders")

# Safe local values for every required variable; `.env` and the environment override them.
LOCAL_DEFAULTS: dict[str, str] = {
    "APP_ENV": "local",
    "LOG_LEVEL": "INFO",
    "GOOGLE_CLOUD_PROJECT": "demo-allin-local",
    "TILDA_SECRET": "local-tilda-secret",
    "TELEGRAM_BOT_TOKEN": "123456789:local-bot-token",
    "TELEGRAM_WEBHOOK_SECRET": "local-webhook-secret",
    "TELEGRAM_BOT_USERNAME": "allin_academy_bot",
    "MANAGER_CHAT_ID": "-1001000000001",
    "DEV_CHAT_ID": "-1001000000002",
    "MANAGER_LINK": "https://t.me/allin_manager",
    "WELCOME_VIDEO_NOTE_FILE_ID": "DQACAgIAAxkBAAIBlocal-welcome-video-note",
    "GOOGLE_CALENDAR_ID": "lessons@allinacademy.example",
    "ZOOM_ACCOUNT_ID": "local-zoom-account",
    "ZOOM_CLIENT_ID": "local-zoom-client",
    "ZOOM_CLIENT_SECRET": "local-zoom-secret",
    "SHEETS_SPREADSHEET_ID": "local-crm-sheet",
    "RESEND_API_KEY": "re_local_key",
    "OPENAI_API_KEY": "sk-local-fake-key",
    "EMAIL_FROM": "All In Academy <hello@allinacademy.example>",
    "TASKS_LOCATION": "europe-west1",
    "EMAIL_CHAIN_QUEUE": "email-chain",
    "REMINDERS_QUEUE": "reminders",
    "TASKS_INVOKER_SERVICE_ACCOUNT": "tasks-invoker@demo-allin-local.iam.gserviceaccount.com",
}


RECONCILE_EVERY_SECONDS = 300  # as infra/terraform's reconcile_schedule
# The queues' rates and retries, which Terraform deploys (locals.tf reads the same file).
QUEUE_SETTINGS = REPO / "infra" / "terraform" / "queues.json"
EFFECTS_HORIZON_HOURS = (
    "24"  # Settings' default (EFFECTS_HORIZON_HOURS), as Terraform's effects_horizon_hours
)


@dataclass(frozen=True)
class Ports:
    tilda_webhook: int = 8081
    tg_webhook: int = 8082
    email_chain: int = 8083
    reminders: int = 8084
    sheets: int = 8085
    resend: int = 8087
    telegram: int = 8088
    calendar: int = 8086
    zoom: int = 8090
    openai: int = 8091
    firestore: int = 8089
    redis: int = 6380
    tasks: int = 8123
    console: int = 8080

    @classmethod
    def free(cls) -> Ports:
        return cls(**{name: free_port() for name in cls.__dataclass_fields__})


@dataclass
class Stack:
    """A running local system; `stop()` ends every process it started."""

    ports: Ports
    env: dict[str, str]
    store: str
    services: dict[str, Service] = field(default_factory=dict)
    real: list[str] = field(default_factory=list)

    def url(self, function: str) -> str:
        return f"http://127.0.0.1:{getattr(self.ports, function)}/"

    @property
    def fakes_url(self) -> dict[str, str]:
        names = ("sheets", "resend", "telegram", "calendar", "zoom", "openai")
        return {name: f"http://127.0.0.1:{getattr(self.ports, name)}" for name in names}

    @property
    def tasks_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.tasks}"

    def reset(self) -> None:
        """Forget all state between tests: fakes, pending tasks and the store."""
        for url in self.fakes_url.values():
            httpx.post(f"{url}/_fake/reset", timeout=5).raise_for_status()
        httpx.post(f"{self.tasks_url}/_emulator/reset", timeout=5).raise_for_status()
        self.wipe_store()

    def wipe_store(self) -> None:
        """Every document of the store gone (the emulator's or redis-server's own reset)."""
        if self.store == "firestore":
            project = self.env["GOOGLE_CLOUD_PROJECT"]
            httpx.delete(
                f"http://127.0.0.1:{self.ports.firestore}/emulator/v1/projects/{project}/databases/(default)/documents",
                timeout=10,
            ).raise_for_status()
        else:
            import redis

            redis.Redis.from_url(self.env["REDIS_URL"]).flushall()

    def console(self) -> ServerThread:
        """The browser console (local/console) over this stack, on 127.0.0.1 only; the caller stops it."""
        from local.console.app import Console

        app = Console(fakes=self.fakes_url, tasks=self.tasks_url, env=self.env)
        return ServerThread(app, host="127.0.0.1", port=self.ports.console).start()

    def stop(self) -> None:
        for service in reversed(list(self.services.values())):
            service.stop()
        self.services.clear()


def _is_real(env: Mapping[str, str], variable: str) -> bool:
    value = env.get(variable, "")
    return (
        bool(value)
        and value != LOCAL_DEFAULTS.get(variable)
        and not value.lower().startswith(("dummy", "changeme"))
    )


def choose_store(preference: str) -> str:
    if preference != "auto":
        return preference
    if firestore_emulator_available():
        return "firestore"
    if shutil.which("redis-server"):
        return "redis"
    return "embedded-redis"


def start_stack(
    *,
    ports: Ports | None = None,
    store: str = "auto",
    overrides: Mapping[str, str] | None = None,
    auto_dispatch: bool = False,
    log_dir: Path | None = None,
    functions: tuple[str, ...] | None = None,
    calendar_seed_days: int = 0,
) -> Stack:
    """Start everything; on any failure stop what was started and raise."""
    ports = ports or Ports()
    env = {**LOCAL_DEFAULTS, **(overrides or {})}
    stack = Stack(ports, env, choose_store(store))
    try:
        _start_store(stack, log_dir)
        _start_fakes(stack, log_dir, calendar_seed_days)
        _start_tasks_emulator(stack, auto_dispatch, log_dir)
        for name in FUNCTIONS if functions is None else functions:
            if (REPO / "functions" / name / "main.py").exists():
                stack.services[name] = start_function(name, env, getattr(ports, name), log_dir)
        if "tg_webhook" in stack.services:
            if "telegram" in stack.real:
                _start_poller(stack, log_dir)  # no public URL for Telegram to call: fetch updates instead
            else:
                _register_webhook(stack)
    except BaseException:
        stack.stop()
        raise
    return stack


def _start_store(stack: Stack, log_dir: Path | None) -> None:
    env = stack.env
    if stack.store == "firestore":
        service = start_firestore_emulator(stack.ports.firestore, log_dir)
        env.update(STATE_BACKEND="firestore", **service.env)
    elif stack.store == "redis":
        service = start_redis_server(stack.ports.redis, log_dir)
        env.update(STATE_BACKEND="redis", **service.env)
    else:
        port = stack.ports.redis
        service = start(
            "embedded-redis",
            [sys.executable, "-m", "local.embedded_redis", "--port", str(port)],
            f"redis://127.0.0.1:{port}",
            log_dir=log_dir,
        )
        env.update(STATE_BACKEND="redis", REDIS_URL=f"redis://127.0.0.1:{port}/0")
    stack.services["store"] = service


def _start_fakes(stack: Stack, log_dir: Path | None, calendar_seed_days: int = 0) -> None:
    env, ports = stack.env, stack.ports
    stack.services["fakes"] = start(
        "fakes",
        [
            sys.executable,
            "-m",
            "local.fakes",
            "--sheets-port",
            str(ports.sheets),
            "--resend-port",
            str(ports.resend),
            "--telegram-port",
            str(ports.telegram),
            "--calendar-port",
            str(ports.calendar),
            "--zoom-port",
            str(ports.zoom),
            "--openai-port",
            str(ports.openai),
            "--calendar-seed-days",
            str(calendar_seed_days),
        ],
        f"http://127.0.0.1:{ports.telegram}",
        env=env,
        ready=f"http://127.0.0.1:{ports.telegram}/_fake/calls",
        log_dir=log_dir,
    )
    # Each service talks to its fake unless `.env` holds its real credentials.
    if _is_real(env, "GOOGLE_APPLICATION_CREDENTIALS") and _is_real(env, "SHEETS_SPREADSHEET_ID"):
        stack.real.append("sheets")
    else:
        env.setdefault("SHEETS_API_URL", f"http://127.0.0.1:{ports.sheets}/")
    if _is_real(env, "RESEND_API_KEY"):
        stack.real.append("resend")
    else:
        env.setdefault("RESEND_API_URL", f"http://127.0.0.1:{ports.resend}")
    if _is_real(env, "GOOGLE_APPLICATION_CREDENTIALS") and _is_real(env, "GOOGLE_CALENDAR_ID"):
        stack.real.append("calendar")
    else:
        env.setdefault("CALENDAR_API_URL", f"http://127.0.0.1:{ports.calendar}/calendar/v3/")
    if _is_real(env, "ZOOM_CLIENT_SECRET"):
        stack.real.append("zoom")
    else:
        env.setdefault("ZOOM_API_URL", f"http://127.0.0.1:{ports.zoom}/v2")
        env.setdefault("ZOOM_OAUTH_URL", f"http://127.0.0.1:{ports.zoom}/oauth/token")
    if _is_real(env, "OPENAI_API_KEY"):
        stack.real.append("openai")
    else:
        env.setdefault("OPENAI_BASE_URL", f"http://127.0.0.1:{ports.openai}/v1")
    if _is_real(env, "TELEGRAM_BOT_TOKEN"):
        stack.real.append("telegram")
    else:
        env.setdefault("TELEGRAM_API_URL", f"http://127.0.0.1:{ports.telegram}")


def _start_tasks_emulator(stack: Stack, auto_dispatch: bool, log_dir: Path | None) -> None:
    env, ports = stack.env, stack.ports
    queue_root = f"projects/{env['GOOGLE_CLOUD_PROJECT']}/locations/{env['TASKS_LOCATION']}/queues"
    command = [sys.executable, "-m", "local.cloud_tasks_emulator", "--port", str(ports.tasks)]
    # The queues' rates and retries as Terraform deploys them (infra/terraform/queues.json), retried for
    # the effects horizon like there: local drain times and give-ups are production's.
    for target, queue in (("email_chain", env["EMAIL_CHAIN_QUEUE"]), ("reminders", env["REMINDERS_QUEUE"])):
        command += ["--queue", f"{queue_root}/{queue}={target}"]
    horizon = f"{env.get('EFFECTS_HORIZON_HOURS') or EFFECTS_HORIZON_HOURS}h"
    command += ["--queue-settings", str(QUEUE_SETTINGS), "--max-retry-duration", horizon]
    if auto_dispatch:
        # Cloud Scheduler's reconciler (infra/terraform/scheduler.tf), on the emulator's clock.
        reconcile = f"http://127.0.0.1:{ports.email_chain}/reconcile"
        command += ["--auto-dispatch", "--every", str(RECONCILE_EVERY_SECONDS), reconcile]
        command += ["--scheduler-account", env["TASKS_INVOKER_SERVICE_ACCOUNT"]]
    stack.services["cloud-tasks"] = start(
        "cloud-tasks-emulator",
        command,
        f"http://127.0.0.1:{ports.tasks}",
        ready=f"http://127.0.0.1:{ports.tasks}/_emulator/now",
        log_dir=log_dir,
    )
    env.update(
        CLOUD_TASKS_API_URL=f"http://127.0.0.1:{ports.tasks}",
        LOCAL_CLOCK_URL=f"http://127.0.0.1:{ports.tasks}/_emulator/now",
        # The task handlers verify their callers' tokens against the emulator's key, as against Google's.
        TASKS_OIDC_CERTS_URL=f"http://127.0.0.1:{ports.tasks}/_emulator/certs",
        EMAIL_CHAIN_URL=f"http://127.0.0.1:{ports.email_chain}/",
        REMINDERS_URL=f"http://127.0.0.1:{ports.reminders}/",
    )


def _register_webhook(stack: Stack) -> None:
    """What `setWebhook` does in production: the Telegram fake then delivers updates to tg_webhook."""
    token = stack.env["TELEGRAM_BOT_TOKEN"]
    httpx.post(
        f"{stack.fakes_url['telegram']}/bot{token}/setWebhook",
        json={"url": stack.url("tg_webhook"), "secret_token": stack.env["TELEGRAM_WEBHOOK_SECRET"]},
        timeout=10,
    ).raise_for_status()


def _start_poller(stack: Stack, log_dir: Path | None) -> None:
    """A real bot token: long polling hands each update to the local tg_webhook as Telegram would."""
    stack.services["telegram-poller"] = start(
        "telegram-poller",
        [sys.executable, "-m", "local.telegram_webhook", "poll", "--to", stack.url("tg_webhook")],
        stack.url("tg_webhook"),  # it has no port of its own: ready once tg_webhook is
        env=stack.env,
        log_dir=log_dir,
    )


def _summary(stack: Stack) -> str:
    env = stack.env
    lines = [
        "",
        "All In Academy bot is running locally.",
        f"  console            http://127.0.0.1:{stack.ports.console}/  (be a parent, a manager, the clock)",
        f"  state store        {stack.store}",
    ]
    for name in FUNCTIONS:
        if name in stack.services:
            lines.append(f"  {name:<18} {stack.url(name)}")
    for name, url in stack.fakes_url.items():
        lines.append(
            f"  {name + ' fake':<18} {url}/_fake/calls"
            + ("  (unused: real service)" if name in stack.real else "")
        )
    lines += [
        f"  cloud tasks        {stack.tasks_url}/_emulator/tasks  (runs due tasks by itself)",
    ]
    if "telegram-poller" in stack.services:
        lines.append(
            f"  telegram           the real bot @{env.get('TELEGRAM_BOT_USERNAME', '?')}:"
            " updates by long polling, write to it in Telegram"
        )
    lines += [
        "",
        "Send a test lead:",
        f"  curl -s {stack.url('tilda_webhook')} -H 'X-Tilda-Secret: {env['TILDA_SECRET']}' \\",
        "    -d Name=Anna -d Phone=+79161234567 -d Email=anna@example.com -d tranid=demo-1",
        "Move time 30 minutes on (email1 goes out):",
        f"  curl -s -X POST {stack.tasks_url}/_emulator/advance -H 'Content-Type: application/json' \\",
        "    -d '{\"seconds\": 1800}'",
        f"See the CRM sheet: curl -s {stack.fakes_url['sheets']}/_fake/state",
        "Talk to the bot as parent 1001 (the Telegram fake delivers to tg_webhook), then read its answers:",
        f"  curl -s {stack.fakes_url['telegram']}/_fake/updates -H 'Content-Type: application/json' \\",
        '    -d \'{"kind": "command", "user_id": 1001, "command": "/start"}\'',
        f"  curl -s '{stack.fakes_url['telegram']}/_fake/messages?chat_id=1001'",
        f"See the emails:    curl -s {stack.fakes_url['resend']}/_fake/state",
        'Script the AI\'s next answer (voice: {"transcript": ...}):',
        f"  curl -s {stack.fakes_url['openai']}/_fake/script -H 'Content-Type: application/json' \\",
        '    -d \'{"reply": "We have lessons on Mondays."}\'',
        "Stop with Ctrl-C.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", choices=["auto", "firestore", "redis", "embedded-redis"], default="auto")
    parser.add_argument("--env-file", default=str(REPO / ".env"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # readiness polls are not news

    from dotenv import dotenv_values

    file_values = (
        {k: v for k, v in dotenv_values(args.env_file).items() if v} if Path(args.env_file).exists() else {}
    )
    log_dir = REPO / ".local-data" / "logs"
    # Two weeks of free lesson slots in the Calendar fake, so the bot has something to offer.
    stack = start_stack(
        store=args.store, overrides=file_values, auto_dispatch=True, log_dir=log_dir, calendar_seed_days=14
    )
    console = stack.console()
    log.info(_summary(stack))
    log.info("  logs               %s", log_dir)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        while not stopped.wait(1):
            for name, service in stack.services.items():
                if service.process.poll() is not None:
                    log.error("%s exited:\n%s", name, service.log_tail())
                    stopped.set()
    except KeyboardInterrupt:
        pass
    finally:
        console.stop()
        stack.stop()


if __name__ == "__main__":
    main()
