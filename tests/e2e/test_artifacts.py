"""The deployable archives (`make package`) run on their own: each is unpacked into an empty folder, only
its requirements.txt is installed into a fresh venv, and functions-framework serves it against the local
stack (Firestore emulator, HTTP fakes, Cloud Tasks emulator). A correct answer proves the library is
inside the archive and the pinned requirements are complete."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from local import package
from local.processes import REPO, Service, firestore_emulator_available, start_function
from local.run import FUNCTIONS, Ports, Stack, start_stack
from shared.config import FunctionName
from shared.domain.booking import BookingRules, when_label
from shared.domain.leads import LeadStatus
from shared.i18n import t
from tests.conftest import require
from tests.e2e.conftest import OVERRIDES, System
from tests.factories import tilda_form

HALF_HOUR = 30 * 60
PIN = re.compile(r"^[a-z0-9][a-z0-9.-]*==[A-Za-z0-9.+!-]+$")
PINNED = re.compile(r"^[a-z0-9][a-z0-9.-]*==[A-Za-z0-9.+!-]+ \\$")  # continued by its hashes
HASHED = re.compile(
    r"==\S+ \\\n(?:    --hash=sha256:[0-9a-f]{64} \\\n)*    --hash=sha256:[0-9a-f]{64}(?:\n|$)"
)


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    return {name: package.build(name, out) for name in FUNCTIONS}


@pytest.fixture(scope="module")
def installed(
    archives: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, package.Installed]]:
    """Each archive unpacked into an empty folder with its requirements in a fresh venv (in parallel)."""
    workdir = tmp_path_factory.mktemp("artifacts")
    try:
        result = package.install_all(list(archives.values()), workdir)
        for item in result.values():
            print(f"{item.function}: unpacked and installed in {item.seconds:.1f} s")
        yield result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)  # 600 MB of venvs: pytest keeps its last three runs


@pytest.fixture(scope="module")
def stack(
    installed: dict[str, package.Installed], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """The stack of tests/e2e/conftest.py, its functions served from the installed archives (this module's
    `system` fixture gets this stack)."""
    require(
        firestore_emulator_available(),
        "the Firestore emulator (gcloud components install cloud-firestore-emulator)",
    )
    log_dir = Path(tmp_path_factory.mktemp("logs"))
    # `start_stack` treats an empty tuple as "every function"; a name without a main.py starts none.
    running = start_stack(
        ports=Ports.free(), store="firestore", overrides=OVERRIDES, log_dir=log_dir, functions=()
    )

    def serve(item: package.Installed) -> Service:
        return start_function(
            item.function,
            # Nothing from the project's environment: only the archive and its own venv.
            {
                **running.env,
                "PATH": f"{item.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
                "PYTHONPATH": "",
                "VIRTUAL_ENV": str(item.venv),
            },
            getattr(running.ports, item.function),
            log_dir,
            source=item.source / "main.py",
            executable=item.framework,
        )

    try:
        with ThreadPoolExecutor(max_workers=len(installed)) as pool:
            starting = {name: pool.submit(serve, item) for name, item in installed.items()}
        failures = []
        for name, future in starting.items():  # every started one is stopped with the stack, even on failure
            try:
                running.services[name] = future.result()
            except Exception as exc:
                failures.append(exc)
        if failures:
            raise failures[0]
        yield running
    finally:
        running.stop()


# ---- the archives themselves ----


def test_archives_hold_main_the_library_and_pinned_requirements(archives: dict[str, Path]) -> None:
    on_disk = {
        path.relative_to(REPO).as_posix()
        for path in (REPO / "shared").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and not path.name.startswith(".")
    }
    for name, archive in archives.items():
        with zipfile.ZipFile(archive) as opened:
            entries = opened.infolist()
            names = [entry.filename for entry in entries]
            assert names == sorted(names), name
            assert {entry.date_time for entry in entries} == {(1980, 1, 1, 0, 0, 0)}
            assert opened.read("main.py") == (REPO / "functions" / name / "main.py").read_bytes()
            library = {n for n in names if n.startswith("shared/")}
            assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
            # Every file of the library ships: a data file pyproject.toml does not declare shows up here.
            assert on_disk - library == set(), f"{name}: not in the archive"
            assert library - on_disk == set()
            assert set(names) == library | {"main.py", "requirements.txt"}
            text = opened.read("requirements.txt").decode()
        # Each pin with the hashes of its files (pip then installs in hash-checking mode).
        entries = [e for e in text.split("\n") if e and not e.startswith(("#", " "))]
        assert all(PINNED.match(e) for e in entries), entries
        pins = [entry.removesuffix(" \\") for entry in entries]
        assert len(HASHED.findall(text)) == len(pins), text
        assert all(PIN.match(line) for line in pins), pins
        assert [line.split("==")[0] for line in pins] == sorted(line.split("==")[0] for line in pins)
        pinned = {line.split("==")[0] for line in pins}
        assert {"functions-framework", "pydantic", "google-cloud-firestore"} <= pinned
        assert not pinned & {"pytest", "ruff", "mypy", "fakeredis", "pip", "setuptools"}


def test_archives_are_reproducible(archives: dict[str, Path], tmp_path: Path) -> None:
    for name, archive in archives.items():
        assert package.build(name, tmp_path).read_bytes() == archive.read_bytes(), name


def test_every_function_and_project_dependency_is_packaged() -> None:
    folders = {path.parent.name for path in (REPO / "functions").glob("*/main.py")}
    assert set(package.FUNCTIONS) == set(package.REQUIREMENTS) == set(FunctionName) == folders
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    shipped = {canonicalize_name(r) for requirements in package.REQUIREMENTS.values() for r in requirements}
    assert {canonicalize_name(Requirement(r).name) for r in declared} - shipped == set()


def test_the_lock_pins_what_pyproject_asks_and_the_environment_is_the_lock() -> None:
    from importlib import metadata

    def pins(lock: str) -> dict[str, str]:
        return {pin.name: pin.version for pin, hashes in package.locked_hashes(REPO / lock).items() if hashes}

    functions, locked = pins("requirements.lock"), pins("requirements-dev.lock")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    for texts, lock in (
        (project["dependencies"], functions),
        (project["optional-dependencies"]["dev"], locked),
    ):
        for text in texts:
            requirement = Requirement(text)
            name = canonicalize_name(requirement.name)
            assert name in lock and requirement.specifier.contains(lock[name]), f"{text}: run `make lock`"
    assert {n: v for n, v in functions.items() if locked.get(n) != v} == {}  # the tests run the same pins
    installed = {
        canonicalize_name(d.metadata["Name"]): d.version
        for d in metadata.distributions()
        if canonicalize_name(d.metadata["Name"]) not in ("pip", canonicalize_name(project["name"]))
    }
    assert {n: v for n, v in installed.items() if locked.get(n) != v} == {}, "not installed from the lock"


def test_only_the_functions_own_sdks_are_pinned(archives: dict[str, Path]) -> None:
    def pinned(name: str) -> set[str]:
        with zipfile.ZipFile(archives[name]) as opened:
            text = opened.read("requirements.txt").decode()
        return {line.split("==")[0] for line in text.splitlines() if line and not line.startswith(("#", " "))}

    assert {"openai", "python-telegram-bot"} <= pinned("tg_webhook")
    assert "resend" in pinned("email_chain")
    for name in ("tilda_webhook", "email_chain", "reminders"):
        assert "openai" not in pinned(name) and "python-telegram-bot" not in pinned(name), name
    for name in ("tilda_webhook", "reminders"):
        assert "google-api-python-client" not in pinned(name) and "resend" not in pinned(name), name


# ---- the installed archives ----


def test_installed_requirements_are_consistent(installed: dict[str, package.Installed]) -> None:
    for item in installed.values():
        check = subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(item.python), "check"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert check.returncode == 0, f"{item.function}: {check.stdout}{check.stderr}"


# The Container paths of each function beyond those its scenario below exercises, wired in the archive's
# venv: every SDK they import must be installed, and the library must be the archive's.
WIRING = {
    "tilda_webhook": "c.store; c.leads; c.scheduler; c.clock",
    "email_chain": "c.email_chain; build_sheets_service(c.settings)",
    "tg_webhook": (
        "c.bot; c.conversation; c.scenes; c.booking; c.assistant; c.voice; c.openai; "
        "build_google_service('calendar', 'v3', api_url=c.settings.calendar_api_url, timeout=1, scopes=[])"
    ),
    # The reminders schedule tasks too (the unconfirmed lesson's sync, the nudges' next look).
    "reminders": "c.reminders; c.nudges; from google.cloud import tasks_v2",
}
PROBE = """
import importlib, json, pathlib, sys
import shared
from shared.adapters.google_api import build_google_service, build_sheets_service
from shared.bootstrap import Container
from shared.config import load_settings
c = Container(load_settings(sys.argv[1]))
{wiring}
# STATE_BACKEND=redis is a supported setting of every function.
Container(load_settings(sys.argv[1], state_backend="redis", redis_url="redis://127.0.0.1:9/0")).store
print(json.dumps({{"shared": shared.__file__, "prefix": sys.prefix}}))
"""


def test_each_function_is_wired_from_its_own_archive(
    stack: Stack, installed: dict[str, package.Installed]
) -> None:
    def probe(item: package.Installed) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                str(item.python),
                "-c",
                PROBE.format(wiring=WIRING[item.function].replace("; ", "\n")),
                item.function,
            ],
            cwd=item.source,
            env={**stack.env, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=False,
        )

    with ThreadPoolExecutor(max_workers=len(installed)) as pool:
        results = dict(zip(installed, pool.map(probe, installed.values()), strict=True))
    for name, result in results.items():
        item = installed[name]
        assert result.returncode == 0, f"{name}:\n{result.stderr[-3000:]}"
        where = json.loads(result.stdout.splitlines()[-1])
        assert Path(where["shared"]).resolve().is_relative_to(item.source.resolve()), where
        assert Path(where["prefix"]).resolve() == item.venv.resolve(), where


def test_tilda_webhook_archive_accepts_a_lead(system: System) -> None:
    response = system.post_tilda(tilda_form())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["outcome"] == "created"
    lead = system.leads().get(body["lead_id"])
    assert lead is not None and lead.email == "anna.petrova@example.com"
    names = {task["name"].rsplit("/", 1)[-1] for task in system.pending_tasks()}
    # email1, and the batched writer's flush, which writes the row and tells the managers (recorded in
    # the outbox with the lead).
    assert f"{lead.lead_id}-email1" in names and len(names) == 2, names
    assert any(name.startswith("crm-flush-") for name in names), names


def test_email_chain_archive_syncs_the_crm_and_sends_email1(system: System) -> None:
    lead_id = system.post_tilda(tilda_form()).json()["lead_id"]
    [sync] = system.run_due()  # the CRM flush, posted by the Cloud Tasks emulator as Cloud Tasks does
    assert (sync["url"], sync["status"]) == (system.stack.url("email_chain"), 200), sync
    row = system.crm_row(lead_id)
    assert (row["status"], row["email"]) == ("NEW", "anna.petrova@example.com")
    assert "Новая заявка" in system.manager_messages()[0]

    system.advance(HALF_HOUR)  # email1 through the Resend SDK, email2 scheduled through Cloud Tasks
    [email1] = system.emails()
    assert email1["to"] == ["anna.petrova@example.com"]
    assert [task["name"].rsplit("/", 1)[-1] for task in system.pending_tasks()] == [f"{lead_id}-email2"]


def test_tg_webhook_archive_welcomes_and_answers(system: System) -> None:
    parent = 7009001
    assert system.parent_sends("command", parent, command="/start") == 200
    assert "All In Academy" in system.bot_messages(parent)[0]["text"]
    script = f"{system.stack.fakes_url['openai']}/_fake/script"
    system.http.post(script, json={"reply": "Пробный урок длится 60 минут."}).raise_for_status()
    assert system.parent_sends("text", parent, text="Сколько длится пробный урок?") == 200
    assert system.bot_messages(parent)[-1]["text"] == "Пробный урок длится 60 минут."


def test_reminders_archive_reminds_and_rejects(system: System) -> None:
    url, headers = system.stack.url("reminders"), system.task_headers("reminders")
    unknown = system.http.post(
        url, json={"kind": "remind24h", "lead_id": "0" * 16, "booking_id": "abcd"}, headers=headers
    )
    assert (unknown.status_code, unknown.json()["outcome"]) == (200, "rejected")
    malformed = system.http.post(
        url, json={"kind": "remind1h", "lead_id": "x", "booking_id": "abcd"}, headers=headers
    )
    assert (malformed.status_code, malformed.json()["outcome"]) == (200, "rejected")

    parent = 7009002
    lead_id = system.post_tilda(tilda_form()).json()["lead_id"]
    lesson = system.now() + timedelta(hours=24)
    system.leads().update(
        lead_id,
        lambda lead: lead.model_copy(
            update={
                "status": LeadStatus.SCHEDULED,
                "tg_id": parent,
                "booking_id": "b00c1e",
                "lesson_at": lesson,
                "zoom_link": "https://zoom.us/j/123",
            }
        ),
    )
    sent = system.http.post(
        url, json={"kind": "remind24h", "lead_id": lead_id, "booking_id": "b00c1e"}, headers=headers
    )
    assert (sent.status_code, sent.json()["outcome"]) == (200, "sent"), sent.text
    [reminder] = system.bot_messages(parent)
    when = when_label(lesson, "ru", BookingRules(timezone=system.env.get("ACADEMY_TIMEZONE", "Europe/Riga")))
    assert reminder["text"] == t("ru", "reminder_24h", when=when, zoom_link="https://zoom.us/j/123")
