"""The whole system as real processes: functions-framework functions, the Cloud Tasks emulator, the HTTP
fakes and the Firestore emulator, started once per session on free ports and reset before each test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.processes import firestore_emulator_available
from local.run import Ports, Stack, start_stack
from shared.adapters.store_firestore import FirestoreStore
from shared.domain.leads import LOG_COLUMNS
from shared.flows.lead_repository import LeadRepository
from tests.conftest import require
from tests.factories import tilda_form, urlencoded

OVERRIDES = {
    "APP_ENV": "test",
    "SHEETS_TIMEOUT_SECONDS": "1",
    "RETRY_BACKOFF_SECONDS": "0.05",
    # Each task writes its own CRM changes at once, so a test reads the sheet right after run_due();
    # the batched window is tested in tests/unit and measured by `make bench`.
    "CRM_FLUSH_SECONDS": "0",
    # A hanging model must fail fast here; the SDK still retries once, as in production.
    "OPENAI_TIMEOUT_SECONDS": "1",
    # A hanging service fails within seconds here (the fault matrix hangs them longer).
    "TELEGRAM_TIMEOUT_SECONDS": "2",
    "CALENDAR_TIMEOUT_SECONDS": "2",
    "ZOOM_TIMEOUT_SECONDS": "2",
    "RESEND_TIMEOUT_SECONDS": "2",
    "STORE_TIMEOUT_SECONDS": "5",
    # Who may press lead cards' buttons (tests/e2e/test_desk.py: the manager, not the group's other member).
    "MANAGER_IDS": "910001",
}


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require(
        firestore_emulator_available(),
        "the Firestore emulator (gcloud components install cloud-firestore-emulator)",
    )
    running = start_stack(
        ports=Ports.free(),
        store="firestore",
        overrides=OVERRIDES,
        log_dir=Path(tmp_path_factory.mktemp("logs")),
        functions=("tilda_webhook", "email_chain", "tg_webhook", "reminders"),
    )
    yield running
    running.stop()


class System:
    """What a test can do to the running system and what it can see of it."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.env = stack.env
        self.http = httpx.Client(timeout=30)

    # ---- acting ----
    def post_tilda(self, form: dict[str, str] | None = None, **headers: str) -> httpx.Response:
        return self.http.post(
            self.stack.url("tilda_webhook"),
            content=urlencoded(form or tilda_form()),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Tilda-Secret": self.env["TILDA_SECRET"],
                **headers,
            },
        )

    def task_headers(self, function: str, account: str | None = None) -> dict[str, str]:
        """What Cloud Tasks and Cloud Scheduler send a task handler: an OIDC token for the tasks invoker
        (or `account`), its audience the function's URL, signed by the emulator."""
        body = {
            "email": account or self.env["TASKS_INVOKER_SERVICE_ACCOUNT"],
            "audience": self.stack.url(function),
        }
        response = self.http.post(f"{self.stack.tasks_url}/_emulator/token", json=body)
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['token']}"}

    def reconcile(self) -> dict[str, int]:
        """What Cloud Scheduler does every few minutes: the reconciler re-drives the overdue effects."""
        response = self.http.post(
            self.stack.url("email_chain") + "reconcile", headers=self.task_headers("email_chain")
        )
        response.raise_for_status()
        return dict(response.json()["delivered"])

    def run_due(self) -> list[dict[str, Any]]:
        response = self.http.post(f"{self.stack.tasks_url}/_emulator/run-due")
        response.raise_for_status()
        return response.json()["dispatched"]

    def advance(self, seconds: float) -> list[dict[str, Any]]:
        response = self.http.post(f"{self.stack.tasks_url}/_emulator/advance", json={"seconds": seconds})
        response.raise_for_status()
        return response.json()["dispatched"]

    def fault(self, service: str, **spec: Any) -> None:
        self.http.post(f"{self.stack.fakes_url[service]}/_fake/faults", json=spec).raise_for_status()

    def telegram_api(self, method: str, **params: Any) -> Any:
        url = f"{self.stack.fakes_url['telegram']}/bot{self.env['TELEGRAM_BOT_TOKEN']}/{method}"
        response = self.http.post(url, json=params)
        response.raise_for_status()
        return response.json()["result"]

    def parent_sends(self, kind: str, user_id: int, **fields: Any) -> int:
        """A parent acts in Telegram; the fake delivers the update to tg_webhook; returns its status."""
        body = {
            "kind": kind,
            "user": {"id": user_id, "first_name": "Анна", "username": "anna_p", "language_code": "ru"},
        }
        response = self.http.post(
            f"{self.stack.fakes_url['telegram']}/_fake/updates", json={**body, **fields}
        )
        response.raise_for_status()
        return response.json()["webhook_status"]

    def bot_messages(self, chat_id: int) -> list[dict[str, Any]]:
        url = f"{self.stack.fakes_url['telegram']}/_fake/messages"
        return self.http.get(url, params={"chat_id": chat_id}).json()

    def now(self) -> datetime:
        """The emulator's clock, which the functions read too."""
        seconds = self.http.get(f"{self.stack.tasks_url}/_emulator/now").json()["epochSeconds"]
        return datetime.fromtimestamp(seconds, UTC)

    def add_free_slot(self, start: datetime, minutes: int = 60) -> str:
        """A manager adds a free lesson slot to the calendar (an event titled with the marker)."""
        calendar = self.env["GOOGLE_CALENDAR_ID"]
        response = self.http.post(
            f"{self.stack.fakes_url['calendar']}/calendar/v3/calendars/{calendar}/events",
            json={
                "summary": "FREE",
                "start": {"dateTime": start.isoformat()},
                "end": {"dateTime": (start + timedelta(minutes=minutes)).isoformat()},
            },
            headers={"Authorization": "Bearer manager"},
        )
        response.raise_for_status()
        return response.json()["id"]

    def calendar_event(self, event_id: str) -> dict[str, Any]:
        calendar = self.env["GOOGLE_CALENDAR_ID"]
        url = f"{self.stack.fakes_url['calendar']}/calendar/v3/calendars/{calendar}/events/{event_id}"
        return self.http.get(url, headers={"Authorization": "Bearer manager"}).json()

    # ---- seeing ----
    def pending_tasks(self) -> list[dict[str, Any]]:
        return self.http.get(f"{self.stack.tasks_url}/_emulator/tasks").json()["tasks"]

    def _state(self, service: str) -> dict[str, Any]:
        return self.http.get(f"{self.stack.fakes_url[service]}/_fake/state").json()

    def sheet(self, title: str, *, formatted: bool = False) -> list[dict[str, Any]]:
        """The sheet's rows by header: the values as stored (a date-time as its serial), or `formatted`
        as a manager sees them."""
        spreadsheet = self._state("sheets")["spreadsheets"][self.env["SHEETS_SPREADSHEET_ID"]]
        sheet = next((s for s in spreadsheet["sheets"] if s["title"] == title), None)
        if sheet is None or not sheet.get("values"):
            return []
        header, *rows = sheet["formatted" if formatted else "values"]
        return [dict(zip(header, row, strict=False)) for row in rows]

    def sheet_header(self, title: str) -> list[str]:
        spreadsheet = self._state("sheets")["spreadsheets"][self.env["SHEETS_SPREADSHEET_ID"]]
        sheet = next(s for s in spreadsheet["sheets"] if s["title"] == title)
        return [str(name) for name in sheet["values"][0]]

    def sheet_formulas(self) -> dict[str, str]:
        spreadsheet = self._state("sheets")["spreadsheets"][self.env["SHEETS_SPREADSHEET_ID"]]
        return {cell: f for sheet in spreadsheet["sheets"] for cell, f in sheet["formulas"].items()}

    def crm_row(self, lead_id: str) -> dict[str, Any]:
        rows = [row for row in self.sheet("Leads") if row.get("lead_id") == lead_id]
        assert len(rows) == 1, f"expected one CRM row for {lead_id}, found {len(rows)}"
        return rows[0]

    def emails(self) -> list[dict[str, Any]]:
        return self._state("resend")["sent"]

    def manager_messages(self) -> list[str]:
        chat = self.env["MANAGER_CHAT_ID"]
        return [m["text"] for m in self._state("telegram")["messages"] if str(m["chat"]["id"]) == chat]

    def sheets_calls(self) -> int:
        return len(self.http.get(f"{self.stack.fakes_url['sheets']}/_fake/calls").json())

    def store(self) -> FirestoreStore:
        """The functions' own state store (the Firestore emulator), to look at what they saved."""
        from google.cloud import firestore

        os.environ["FIRESTORE_EMULATOR_HOST"] = self.env["FIRESTORE_EMULATOR_HOST"]
        return FirestoreStore(firestore.Client(project=self.env["GOOGLE_CLOUD_PROJECT"]))

    def leads(self) -> LeadRepository:
        return LeadRepository(self.store())

    def documents(self, *, names_only: bool = False) -> list[tuple[str, Any]]:
        """Every document the functions keep, as (collection/id, its snapshot); `names_only`: fetched
        without their data (the write time is still there)."""
        client = self.store()._db
        return [
            (f"{collection.id}/{snapshot.id}", snapshot)
            for collection in client.collections()
            for snapshot in (collection.select([]) if names_only else collection).stream()
        ]


@pytest.fixture
def system(stack: Stack) -> Iterator[System]:
    stack.reset()
    running = System(stack)
    # The functions keep running across tests and check the Log header once per instance (as in
    # production, where nobody wipes the sheet); the reset wiped it, so put it back as it was.
    running.http.put(
        f"{stack.fakes_url['sheets']}/v4/spreadsheets/{stack.env['SHEETS_SPREADSHEET_ID']}/values/Log!A1",
        params={"valueInputOption": "RAW"},
        json={"values": [list(LOG_COLUMNS)]},
        headers={"Authorization": "Bearer test"},
    ).raise_for_status()
    running.http.delete(f"{stack.fakes_url['sheets']}/_fake/calls").raise_for_status()
    # What `setWebhook` does in production (the reset forgot it).
    running.telegram_api(
        "setWebhook", url=stack.url("tg_webhook"), secret_token=stack.env["TELEGRAM_WEBHOOK_SECRET"]
    )
    yield running
    running.http.close()
