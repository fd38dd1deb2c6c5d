"""Which heavy libraries each function imports, checked in a fresh interpreter under -X importtime."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from local.bench.constants import (
    AI_QUESTIONS,
    BENCH_REMINDER,
    CHECK_SCRIPT,
    FORBIDDEN_IMPORTS,
    POLL_SECONDS,
    SERVE_CHECK_SCRIPT,
    START_TIMEOUT_SECONDS,
    BenchError,
)
from local.bench.lab import Lab
from local.bench.results import Booking, ImportCheck, ImportEntry
from local.processes import REPO, Service
from shared.domain.jobs import ChainStep, CrmSync, Step, SyncEvent

# ---- imports -------------------------------------------------------------------------------------------


def import_check(lab: Lab, function: str, requests: list[dict[str, Any]]) -> tuple[ImportCheck, list[Any]]:
    """Run `function` in a fresh interpreter under -X importtime; return its imports and JSON answers."""
    source = REPO / "functions" / function / "main.py"
    requests_path = lab.log_dir / f"{function}-requests.json"
    out_path = lab.log_dir / f"{function}-imports.json"
    requests_path.write_text(json.dumps(requests))
    completed = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-c",
            CHECK_SCRIPT,
            str(source),
            function,
            str(requests_path),
            str(out_path),
        ],
        cwd=REPO,
        env={**os.environ, **lab.env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    if completed.returncode != 0:
        raise BenchError(f"import check of {function} failed:\n{completed.stderr[-3000:]}")
    return read_import_check(function, out_path, completed.stderr)


def read_import_check(function: str, out_path: Path, stderr: str) -> tuple[ImportCheck, list[Any]]:
    """The check interpreter's output: its loaded modules and answers, and the `-X importtime` lines."""
    result = json.loads(out_path.read_text())
    modules = set(result["modules"])
    forbidden = {
        name: any(m == name or m.startswith(name + ".") for m in modules)
        for name in FORBIDDEN_IMPORTS[function]
    }
    answers = [
        json.loads(a["body"]) if a["status"] == 200 else {"status": a["status"], "body": a["body"]}
        for a in result["answers"]
    ]
    return ImportCheck(forbidden, parse_importtime(stderr), len(modules)), answers


def served_import_check(lab: Lab, function: str, name: str, converse: Callable[[], None]) -> ImportCheck:
    """Serve `function` from a fresh interpreter under -X importtime on its usual port while `converse`
    talks to it (through the fakes), then read its imports; `name` tells the files of this check apart."""
    source = REPO / "functions" / function / "main.py"
    out_path = lab.log_dir / f"{name}-imports.json"
    stderr_path = lab.log_dir / f"{name}-importtime.log"
    port = lab.port(function)  # free: the check runs while no other instance of `function` does
    # Files, not pipes: nobody reads them while the function runs, and a full pipe would block it.
    with stderr_path.open("w") as stderr, (lab.log_dir / f"{name}-stdout.log").open("w") as stdout:
        process = subprocess.Popen(
            [sys.executable, "-X", "importtime", "-c", SERVE_CHECK_SCRIPT, str(source), function]
            + [str(port), str(out_path)],
            cwd=REPO,
            env={**os.environ, **lab.env},
            stdin=subprocess.PIPE,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    service = Service(name, process, lab.url(function), stderr_path)
    try:
        wait_for_port(service, port)
        converse()
        assert process.stdin is not None
        process.stdin.close()  # the script then stops serving and writes its modules
        if process.wait(timeout=30) != 0:
            raise BenchError(f"import check {name} failed:\n{stderr_path.read_text()[-3000:]}")
    finally:
        service.stop()
    check, _ = read_import_check(function, out_path, stderr_path.read_text())
    return check


def wait_for_port(service: Service, port: int) -> None:
    """Until something accepts connections on `port` (the process must stay up meanwhile)."""
    deadline = time.perf_counter() + START_TIMEOUT_SECONDS
    while time.perf_counter() < deadline:
        if service.process.poll() is not None:
            raise BenchError(
                f"{service.name} exited with {service.process.returncode}:\n{service.log_tail()}"
            )
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(POLL_SECONDS)
    raise BenchError(f"{service.name} did not listen on port {port} in {START_TIMEOUT_SECONDS:.0f}s")


def parse_importtime(stderr: str) -> tuple[ImportEntry, ...]:
    """The `-X importtime` lines, each with the phase (framework, main.py, request) it happened in."""
    entries: list[ImportEntry] = []
    phase = "framework"
    for line in stderr.splitlines():
        if line.startswith("bench-phase: "):
            phase = line.removeprefix("bench-phase: ")
            continue
        if not line.startswith("import time:") or "imported package" in line:
            continue
        own, cumulative, module = line.removeprefix("import time:").split("|", 2)
        name = module.removeprefix(" ")
        depth = (len(name) - len(name.lstrip())) // 2
        entries.append(ImportEntry(phase, name.strip(), int(cumulative) / 1000, int(own) / 1000, depth))
    return tuple(entries)


def check_imports(lab: Lab, booking: Booking) -> tuple[dict[str, ImportCheck], ImportCheck]:
    """tilda_webhook takes a new lead; email_chain syncs it and sends its email1; reminders sends the −24 h
    reminder of `booking`; tg_webhook registers a new parent who books a lesson (real work), and, in a
    second interpreter, answers another one's question (the assistant path, which must import openai)."""
    tilda_request = {"body": urlencode(lab.lead_form()), "headers": lab.tilda_headers}
    tilda, answers = import_check(lab, "tilda_webhook", [tilda_request])
    if answers[0].get("outcome") != "created":
        raise BenchError(f"tilda_webhook import check: {answers[0]}")
    lead_id = answers[0]["lead_id"]
    tasks = [
        CrmSync(lead_id=lead_id, event=SyncEvent.CREATED, key=uuid.uuid4().hex[:12]),
        ChainStep(step=Step.EMAIL1, lead_id=lead_id),
    ]
    json_headers = {"Content-Type": "application/json"}
    chain_headers = {**json_headers, **lab.task_headers("email_chain")}  # as Cloud Tasks posts them
    chain, answers = import_check(
        lab, "email_chain", [{"body": task.model_dump_json(), "headers": chain_headers} for task in tasks]
    )
    if [a.get("outcome") for a in answers] != ["done", "done"]:
        raise BenchError(f"email_chain import check: {answers}")
    reminder_headers = {**json_headers, **lab.task_headers("reminders")}
    reminder = {"body": json.dumps(booking.reminder(BENCH_REMINDER)), "headers": reminder_headers}
    reminders, answers = import_check(lab, "reminders", [reminder])
    if answers[0].get("outcome") != "sent":
        raise BenchError(f"reminders import check: {answers[0]}")
    lab.check_reminded(booking, BENCH_REMINDER)
    # A clean calendar for the booking below (the bot scenario's slots are taken); `booking` is done with.
    lab.stack.reset()
    lab.set_webhook()
    lab.script_ai_reply()
    (slot,) = lab.add_free_slots(1)
    bot = served_import_check(lab, "tg_webhook", "tg_webhook", lambda: register_and_book(lab, slot))
    ai = served_import_check(lab, "tg_webhook", "tg_webhook-ai", lambda: ask_once(lab))
    imports = {"tilda_webhook": tilda, "email_chain": chain, "tg_webhook": bot, "reminders": reminders}
    return imports, ai


def register_and_book(lab: Lab, slot: datetime) -> None:
    """A new parent's whole way through the bot without the assistant: /start … name, day, time, confirm."""
    lab.book(lab.register_parent(), slot)


def ask_once(lab: Lab) -> None:
    """A new parent's first message is a question, answered by the model."""
    lab.ask(lab.new_parent(), AI_QUESTIONS[0])
