"""The CRM sheet's times as managers read them (through the real google-api-python-client against the
Sheets fake): real date-time values on the academy's wall clock across a daylight-saving change, the
zone named once in a note on each time column's header, read back as the moments they are; and the
layout made once per version and header, again when either changes, never over the managers' columns."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from local.fakes import SheetsFake
from shared.adapters.google_api import build_sheets_service
from shared.adapters.sheets import SheetsCrm
from shared.config import load_settings
from shared.domain.crm_layout import LAYOUT_KEY, layout_mark
from shared.ports import LogEntry, RowChange

SHEET = "crm-times"
# Europe's clocks go back on 25 October 2026: 13:00 UTC is 16:00 in Riga before and 15:00 after.
BEFORE, AFTER = datetime(2026, 10, 24, 13, tzinfo=UTC), datetime(2026, 10, 26, 13, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[SheetsFake]:
    sheets = SheetsFake({SHEET: ["Leads"]})
    with sheets.server() as server:
        sheets.url = server.url  # type: ignore[attr-defined]
        yield sheets


def crm_for(fake: SheetsFake, language: str = "ru") -> SheetsCrm:
    url = f"{fake.url}/"  # type: ignore[attr-defined]
    config = load_settings(app_env="test", sheets_api_url=url, sheets_timeout_seconds=1)
    return SheetsCrm(
        lambda: build_sheets_service(config),
        SHEET,
        retries=2,
        backoff_seconds=0.01,
        timezone="Europe/Riga",
        language=language,
    )


def lead_row(lead_id: str, lesson: datetime | None) -> dict[str, object]:
    created = datetime(2026, 10, 20, 6, 5, tzinfo=UTC)
    return {
        "lead_id": lead_id,
        "status": "SCHEDULED",
        "name": "Анна",
        "created_at": created.isoformat(),
        "updated_at": created.isoformat(),
        "lesson_at": lesson.isoformat() if lesson else "",
        "tg_id": 5551234567,
        "bot_activated": True,
    }


def sheet_state(fake: SheetsFake, title: str) -> dict:
    return next(s for s in fake.state()["spreadsheets"][SHEET]["sheets"] if s["title"] == title)


def by_header(fake: SheetsFake, title: str, key: str = "formatted") -> list[dict]:
    header, *rows = sheet_state(fake, title)[key]
    return [dict(zip(header, r, strict=False)) for r in rows]


def test_times_are_date_values_on_the_academys_clock_across_a_dst_change(fake: SheetsFake) -> None:
    crm = crm_for(fake)
    crm.write_rows(
        [
            RowChange("before", {}, lead_row("before", BEFORE)),
            RowChange("after", {}, lead_row("after", AFTER)),
        ],
        [LogEntry(AFTER, "after", "LESSON_SCHEDULED", "")],
    )
    shown = {r["lead_id"]: r for r in by_header(fake, "Leads")}
    assert shown["before"]["lesson_at"] == "2026-10-24 16:00"  # summer time: UTC+3
    assert shown["after"]["lesson_at"] == "2026-10-26 15:00"  # winter time: UTC+2
    assert shown["before"]["created_at"] == "2026-10-20 09:05"
    assert by_header(fake, "Log")[-1]["time"] == "2026-10-26 15:00"
    stored = {r["lead_id"]: r for r in by_header(fake, "Leads", "values")}
    # Real date-time values (serials), so the sheet sorts and filters them as dates; other values as typed.
    assert stored["after"]["lesson_at"] - stored["before"]["lesson_at"] == pytest.approx(47 / 24)
    assert stored["before"]["tg_id"] == 5551234567 and stored["before"]["bot_activated"] is True

    # Read back as the moments they are, in the academy's zone (what the funnel counts by).
    records = {r.values["lead_id"]: r.values for r in crm.read_all()}
    assert records["before"]["lesson_at"] == "2026-10-24T16:00:00+03:00"
    assert datetime.fromisoformat(records["after"]["lesson_at"]) == AFTER
    assert records["before"]["tg_id"] == "5551234567" and records["before"]["bot_activated"] == "TRUE"
    assert crm.read_lead("after").values["created_at"] == "2026-10-20T09:05:00+03:00"  # type: ignore[union-attr]

    # A lesson moved over the change, and one cancelled (its cell emptied).
    crm.write_rows(
        [
            RowChange("before", {"lesson_at": AFTER.isoformat()}, {}),
            RowChange("after", {"lesson_at": "", "status": "CANCELLED"}, {}),
        ]
    )
    shown = {r["lead_id"]: r for r in by_header(fake, "Leads")}
    assert shown["before"]["lesson_at"] == "2026-10-26 15:00" and shown["after"].get("lesson_at", "") == ""


def test_the_zone_is_named_once_in_a_note_on_each_time_header(fake: SheetsFake) -> None:
    crm_for(fake).write_rows([RowChange("a1", {}, lead_row("a1", AFTER))])
    leads = sheet_state(fake, "Leads")
    header = leads["values"][0]
    notes = {int(cell.split(",")[1]): note for cell, note in leads["notes"].items() if cell.startswith("0,")}
    assert {header[c] for c in notes} == {"created_at", "updated_at", "lesson_at"}
    assert all("по рижскому времени" in note and "Europe/Riga" in note for note in notes.values())
    assert "lesson_at" in header  # the column keeps its name: managers' formulas and filters find it
    log = sheet_state(fake, "Log")
    assert log["values"][0] == ["time", "lead_id", "event", "details"]
    assert log["gridProperties"]["frozenRowCount"] == 1 and "рижскому" in log["notes"]["0,0"]


def test_the_layout_is_made_once_per_version_and_header(fake: SheetsFake) -> None:
    crm_for(fake).write_rows([RowChange("a1", {}, lead_row("a1", AFTER))])
    marks = [m for m in sheet_state(fake, "Leads")["developerMetadata"] if m["metadataKey"] == LAYOUT_KEY]
    assert [m["metadataValue"] for m in marks] == [layout_mark(sheet_state(fake, "Leads")["values"][0])]

    fake.clear_calls()
    crm_for(fake).write_rows([RowChange("b2", {}, lead_row("b2", AFTER))])  # another instance: checked only
    writes = [c for c in fake.calls() if c["path"].endswith(":batchUpdate")]
    assert [[next(iter(r)) for r in c["body"]["requests"]] for c in writes] == [["appendCells"]]

    # A sheet laid out by an older version (no mark) is laid out again, once, over its old colours.
    [mark] = marks
    service = build_sheets_service(
        load_settings(app_env="test", sheets_api_url=f"{fake.url}/")
    ).spreadsheets()  # type: ignore[attr-defined]
    lookup = {"developerMetadataLookup": {"metadataId": mark["metadataId"]}}
    service.batchUpdate(
        spreadsheetId=SHEET, body={"requests": [{"deleteDeveloperMetadata": {"dataFilter": lookup}}]}
    ).execute()
    rules = len(sheet_state(fake, "Leads")["conditionalFormats"])
    for lead in ("c3", "d4"):
        crm_for(fake).write_rows([RowChange(lead, {}, lead_row(lead, AFTER))])
    leads = sheet_state(fake, "Leads")
    assert len(leads["conditionalFormats"]) == rules
    assert [m["metadataValue"] for m in leads["developerMetadata"]] == [layout_mark(leads["values"][0])]


def test_a_moved_time_column_takes_its_date_format_along(fake: SheetsFake) -> None:
    crm = crm_for(fake)
    crm.write_rows([RowChange("a1", {}, lead_row("a1", AFTER))])
    header, first = sheet_state(fake, "Leads")["values"]
    # A manager swaps lesson_at and tg_id, and adds a number column of their own at the end.
    order = list(header)
    i, j = order.index("lesson_at"), order.index("tg_id")
    order[i], order[j] = order[j], order[i]
    values = dict(zip(header, first, strict=False))
    fake.set_values(
        SHEET,
        "Leads",
        [[*order, "sum_paid"], [*[values.get(n, "") for n in order], 120]],
        value_input_option="RAW",
        clear=True,
    )
    crm.write_rows([RowChange("a1", {"status": "ATTENDED"}, {})])
    [row] = by_header(fake, "Leads")
    assert row["lesson_at"] == "2026-10-26 15:00" and row["tg_id"] == "5551234567"  # not a date
    assert row["sum_paid"] == "120" and row["status"] == "ATTENDED"
