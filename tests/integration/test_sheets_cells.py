"""The Sheets fake's date-time cells and cell requests through the real google-api-python-client: a
serial number under a DATE_TIME format reads back as the sheet shows it (FORMATTED_VALUE), as its serial
(UNFORMATTED_VALUE) or as a formatted string (dateTimeRenderOption); updateCells and appendCells write
CellData under a field mask (a stringValue "=..." stays text); developer metadata is created, found by
spreadsheets.get, updated and deleted; and what the real service refuses is refused."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from local.fakes import SheetsFake
from tests.integration.test_sheets_formatting import SHEET, batch, sheets, state

__all__ = ["sheets"]  # the fixture: a fake with one sheet "Leads", its service and sheet id

RIGA_LESSON = 46359.625  # 2026-12-03 15:00 as a Sheets serial (days since 1899-12-30)
DATE_TIME = {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm"}


def read(service: Any, a1: str, **options: str) -> list[list[Any]]:
    return list(service.values().get(spreadsheetId=SHEET, range=a1, **options).execute().get("values", []))


def row(*cells: dict[str, Any]) -> dict[str, Any]:
    return {"values": list(cells)}


def test_a_date_time_serial_reads_as_the_sheet_shows_it(sheets: tuple[SheetsFake, Any, int]) -> None:
    fake, service, sheet_id = sheets
    batch(
        service,
        {
            "updateCells": {
                "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0},
                "rows": [
                    row(
                        {
                            "userEnteredValue": {"numberValue": RIGA_LESSON},
                            "userEnteredFormat": {"numberFormat": DATE_TIME},
                        },
                        {"userEnteredValue": {"numberValue": RIGA_LESSON}},
                        {"userEnteredValue": {"stringValue": "=HYPERLINK(1)"}},
                        {"userEnteredValue": {"boolValue": True}},
                    )
                ],
                "fields": "userEnteredValue,userEnteredFormat.numberFormat",
            }
        },
    )
    assert read(service, "Leads!A1:D1") == [["2026-12-03 15:00", "46359.625", "=HYPERLINK(1)", "TRUE"]]
    assert read(service, "Leads!A1:D1", valueRenderOption="UNFORMATTED_VALUE") == [
        [RIGA_LESSON, RIGA_LESSON, "=HYPERLINK(1)", True]
    ]
    assert read(
        service, "Leads!A1:B1", valueRenderOption="UNFORMATTED_VALUE", dateTimeRenderOption="FORMATTED_STRING"
    ) == [["2026-12-03 15:00", RIGA_LESSON]]
    assert fake.formula_cells(SHEET, "Leads") == {}  # a stringValue is text, never a formula
    assert state(fake)["formatted"] == [["2026-12-03 15:00", "46359.625", "=HYPERLINK(1)", "TRUE"]]


@pytest.mark.parametrize(
    ("pattern", "shown"),
    [
        ("dd.mm.yyyy hh:mm", "03.12.2026 15:00"),
        ("d mmm yyyy, h:mm am/pm", "3 Dec 2026, 3:00 PM"),
        ("ddd hh:mm:ss", "Thu 15:00:00"),
        ('yyyy-mm-dd "at" hh:mm', "2026-12-03 at 15:00"),
    ],
)
def test_date_patterns_tell_minutes_from_months(
    sheets: tuple[SheetsFake, Any, int], pattern: str, shown: str
) -> None:
    _, service, sheet_id = sheets
    service.values().update(
        spreadsheetId=SHEET, range="Leads!B2", valueInputOption="RAW", body={"values": [[RIGA_LESSON]]}
    ).execute()
    batch(
        service,
        {
            "repeatCell": {
                "range": {
                    "sheetId": sheet_id,
                    "startRowIndex": 1,
                    "startColumnIndex": 1,
                    "endColumnIndex": 2,
                },
                "cell": {"userEnteredFormat": {"numberFormat": {"type": "DATE_TIME", "pattern": pattern}}},
                "fields": "userEnteredFormat.numberFormat",
            }
        },
    )
    assert read(service, "Leads!B2") == [[shown]]


def test_the_later_number_format_wins_and_a_new_value_keeps_it(sheets: tuple[SheetsFake, Any, int]) -> None:
    _, service, sheet_id = sheets
    column = {"sheetId": sheet_id, "startRowIndex": 1, "startColumnIndex": 0, "endColumnIndex": 1}
    service.values().update(
        spreadsheetId=SHEET, range="Leads!A2:A3", valueInputOption="RAW", body={"values": [[1.5], [2.25]]}
    ).execute()
    batch(
        service,
        {
            "repeatCell": {
                "range": column,
                "cell": {"userEnteredFormat": {"numberFormat": DATE_TIME}},
                "fields": "userEnteredFormat.numberFormat",
            }
        },
    )
    assert read(service, "Leads!A2:A3") == [["1899-12-31 12:00"], ["1900-01-01 06:00"]]
    # A cell's own format set later wins over the column's; a value written RAW keeps its cell's format.
    batch(
        service,
        {
            "updateCells": {
                "start": {"sheetId": sheet_id, "rowIndex": 2, "columnIndex": 0},
                "rows": [row({"userEnteredFormat": {"numberFormat": {"type": "NUMBER", "pattern": "0.00"}}})],
                "fields": "userEnteredFormat.numberFormat",
            }
        },
    )
    service.values().update(
        spreadsheetId=SHEET, range="Leads!A3", valueInputOption="RAW", body={"values": [[3]]}
    ).execute()
    assert read(service, "Leads!A2:A3") == [["1899-12-31 12:00"], ["3.00"]]
    # A repeatCell whose mask names the format but whose cell has none clears it.
    batch(
        service,
        {
            "repeatCell": {
                "range": column,
                "cell": {"userEnteredFormat": {}},
                "fields": "userEnteredFormat.numberFormat",
            }
        },
    )
    assert read(service, "Leads!A2:A3") == [["1.5"], ["3"]]


def test_append_cells_adds_rows_after_the_last_row_with_data(sheets: tuple[SheetsFake, Any, int]) -> None:
    _, service, sheet_id = sheets
    service.values().update(
        spreadsheetId=SHEET,
        range="Leads!A1",
        valueInputOption="RAW",
        body={"values": [["lead_id", "name"], ["a1", "Anna"], [], ["a3", "gap above"]]},
    ).execute()
    text = lambda value: {"userEnteredValue": {"stringValue": value}}  # noqa: E731
    batch(
        service,
        {
            "appendCells": {
                "sheetId": sheet_id,
                "rows": [row(text("b1"), text("Boris")), row(text("b2"), text("=1+1"))],
                "fields": "userEnteredValue",
            }
        },
    )
    assert read(service, "Leads!A1:B6") == [
        ["lead_id", "name"],
        ["a1", "Anna"],
        [],
        ["a3", "gap above"],
        ["b1", "Boris"],
        ["b2", "=1+1"],
    ]


def test_a_sheet_grows_for_appended_rows(sheets: tuple[SheetsFake, Any, int]) -> None:
    _, service, sheet_id = sheets
    rows = [row({"userEnteredValue": {"numberValue": n}}) for n in range(1001)]
    batch(service, {"appendCells": {"sheetId": sheet_id, "rows": rows, "fields": "*"}})
    grid = service.get(spreadsheetId=SHEET).execute()["sheets"][0]["properties"]["gridProperties"]
    assert grid["rowCount"] == 1001
    assert read(service, "Leads!A1001") == [["1000"]]


@pytest.mark.parametrize(
    ("request_body", "error"),
    [
        (
            {"appendCells": {"sheetId": 0, "rows": [row({"userEnteredValue": {"stringValue": "x"}})]}},
            "fields",
        ),
        (
            {
                "updateCells": {
                    "start": {"sheetId": 0, "rowIndex": 1000, "columnIndex": 0},
                    "rows": [row({"userEnteredValue": {"stringValue": "x"}})],
                    "fields": "userEnteredValue",
                }
            },
            "exceeds grid limits",
        ),
        (
            {
                "updateCells": {
                    "start": {"sheetId": 0, "rowIndex": 0, "columnIndex": 0},
                    "rows": [row({"userEnteredValue": {"stringValue": "x", "numberValue": 1}})],
                    "fields": "userEnteredValue",
                }
            },
            "Exactly one value kind",
        ),
        (
            {
                "updateCells": {
                    "start": {"sheetId": 0, "rowIndex": 0, "columnIndex": 0},
                    "rows": [
                        row(
                            {
                                "userEnteredValue": {"numberValue": 1},
                                "userEnteredFormat": {"numberFormat": {"pattern": "yyyy"}},
                            }
                        )
                    ],
                    "fields": "userEnteredValue,userEnteredFormat.numberFormat",
                }
            },
            "type must be set",
        ),
        (
            {
                "appendCells": {
                    "sheetId": 0,
                    "rows": [row({"userEnteredValue": {"dateValue": 1}})],
                    "fields": "*",
                }
            },
            "Unknown name",
        ),
        (
            {
                "createDeveloperMetadata": {
                    "developerMetadata": {"metadataKey": "k", "location": {"sheetId": 0}}
                }
            },
            "visibility",
        ),
    ],
)
def test_what_the_real_service_refuses(
    sheets: tuple[SheetsFake, Any, int], request_body: dict[str, Any], error: str
) -> None:
    fake, service, sheet_id = sheets
    ((kind, spec),) = request_body.items()
    for where in (spec, spec.get("start"), (spec.get("developerMetadata") or {}).get("location")):
        if isinstance(where, dict) and "sheetId" in where:
            where["sheetId"] = sheet_id
    before = state(fake)
    with pytest.raises(HttpError) as refused:
        batch(service, {"updateCells": _cell_a1(sheet_id, "kept")}, request_body)
    assert refused.value.resp.status == 400
    assert error in str(refused.value)
    assert state(fake) == before  # the whole batch is undone


def test_developer_metadata_marks_a_sheet(sheets: tuple[SheetsFake, Any, int]) -> None:
    _, service, sheet_id = sheets
    created = batch(
        service,
        {
            "createDeveloperMetadata": {
                "developerMetadata": {
                    "metadataKey": "crm_layout",
                    "metadataValue": "v1",
                    "location": {"sheetId": sheet_id},
                    "visibility": "DOCUMENT",
                }
            }
        },
    )["replies"][0]["createDeveloperMetadata"]["developerMetadata"]
    assert created["location"] == {"locationType": "SHEET", "sheetId": sheet_id}
    listed = service.get(spreadsheetId=SHEET).execute()["sheets"][0]["developerMetadata"]
    assert listed == [created]
    lookup = {"developerMetadataLookup": {"metadataId": created["metadataId"]}}
    batch(
        service,
        {
            "updateDeveloperMetadata": {
                "dataFilters": [lookup],
                "developerMetadata": {"metadataValue": "v2"},
                "fields": "metadataValue",
            }
        },
    )
    listed = service.get(spreadsheetId=SHEET).execute()["sheets"][0]["developerMetadata"]
    assert [m["metadataValue"] for m in listed] == ["v2"]
    batch(service, {"deleteDeveloperMetadata": {"dataFilter": lookup}})
    assert "developerMetadata" not in service.get(spreadsheetId=SHEET).execute()["sheets"][0]


def _cell_a1(sheet_id: int, value: str) -> dict[str, Any]:
    return {
        "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0},
        "rows": [row({"userEnteredValue": {"stringValue": value}})],
        "fields": "userEnteredValue",
    }
