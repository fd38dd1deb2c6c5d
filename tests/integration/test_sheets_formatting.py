"""The Sheets fake's formatting requests through the real google-api-python-client: accepted and recorded
as the API's JSON (number formats, bold headers, frozen rows, a filter, dropdowns, status colours, column
widths), refused as the real service refuses (unknown fields, wrong enum values, ranges off the grid,
missing `fields`, conditions without their values), and a refused batch changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from googleapiclient.errors import HttpError

from local.fakes import SheetsFake
from shared.adapters.google_api import build_sheets_service
from shared.config import load_settings

SHEET = "formatted-sheet"


@pytest.fixture
def sheets() -> Iterator[tuple[SheetsFake, Any, int]]:
    fake = SheetsFake({SHEET: ["Leads"]})
    with fake.server() as server:
        config = load_settings(app_env="test", sheets_api_url=f"{server.url}/", sheets_timeout_seconds=2)
        service = build_sheets_service(config).spreadsheets()
        sheet_id = service.get(spreadsheetId=SHEET).execute()["sheets"][0]["properties"]["sheetId"]
        yield fake, service, sheet_id


def batch(service: Any, *requests: dict[str, Any]) -> dict[str, Any]:
    return dict(service.batchUpdate(spreadsheetId=SHEET, body={"requests": list(requests)}).execute())


def state(fake: SheetsFake) -> dict[str, Any]:
    return dict(fake.state()["spreadsheets"][SHEET]["sheets"][0])


def test_formatting_is_recorded_as_the_api_writes_it(sheets: tuple[SheetsFake, Any, int]) -> None:
    fake, service, sheet_id = sheets
    header = {"sheetId": sheet_id, "startRowIndex": 0, "endRowIndex": 1}
    lesson_column = {"sheetId": sheet_id, "startRowIndex": 1, "startColumnIndex": 3, "endColumnIndex": 4}
    status_column = {"sheetId": sheet_id, "startRowIndex": 1, "startColumnIndex": 1, "endColumnIndex": 2}
    batch(
        service,
        {
            "updateSheetProperties": {
                "properties": {"sheetId": sheet_id, "gridProperties": {"frozenRowCount": 1}},
                "fields": "gridProperties.frozenRowCount",
            }
        },
        {
            "repeatCell": {
                "range": header,
                "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
                "fields": "userEnteredFormat.textFormat.bold",
            }
        },
        {
            "repeatCell": {
                "range": lesson_column,
                "cell": {
                    "userEnteredFormat": {
                        "numberFormat": {"type": "DATE_TIME", "pattern": "dd.mm.yyyy hh:mm"}
                    }
                },
                "fields": "userEnteredFormat.numberFormat",
            }
        },
        {"setBasicFilter": {"filter": {"range": {"sheetId": sheet_id, "endColumnIndex": 5}}}},
        {
            "setDataValidation": {
                "range": status_column,
                "rule": {
                    "condition": {
                        "type": "ONE_OF_LIST",
                        "values": [{"userEnteredValue": "NEW"}, {"userEnteredValue": "PAID"}],
                    },
                    "strict": True,
                    "showCustomUi": True,
                },
            }
        },
        {
            "addConditionalFormatRule": {
                "rule": {
                    "ranges": [status_column],
                    "booleanRule": {
                        "condition": {"type": "TEXT_EQ", "values": [{"userEnteredValue": "PAID"}]},
                        "format": {"backgroundColor": {"red": 0.8, "green": 0.95, "blue": 0.8}},
                    },
                },
                "index": 0,
            }
        },
        {
            "updateDimensionProperties": {
                "range": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": 0, "endIndex": 2},
                "properties": {"pixelSize": 140},
                "fields": "pixelSize",
            }
        },
    )
    sheet = state(fake)
    assert sheet["gridProperties"]["frozenRowCount"] == 1
    assert [f["fields"] for f in sheet["formats"]] == [
        "userEnteredFormat.textFormat.bold",
        "userEnteredFormat.numberFormat",
    ]
    assert sheet["formats"][1]["cell"]["userEnteredFormat"]["numberFormat"]["type"] == "DATE_TIME"
    assert sheet["basicFilter"]["range"] == {"sheetId": sheet_id, "endColumnIndex": 5}
    assert sheet["dataValidation"][0]["rule"]["condition"]["type"] == "ONE_OF_LIST"
    assert sheet["conditionalFormats"][0]["booleanRule"]["condition"]["values"] == [
        {"userEnteredValue": "PAID"}
    ]
    assert sheet["columnWidths"] == {"0": 140, "1": 140}
    got = service.get(spreadsheetId=SHEET).execute()["sheets"][0]["properties"]["gridProperties"]
    assert got["frozenRowCount"] == 1

    # Clearing a validation and deleting a conditional format, as a layout re-applied does.
    batch(
        service,
        {"setDataValidation": {"range": status_column}},
        {"deleteConditionalFormatRule": {"sheetId": sheet_id, "index": 0}},
        {"clearBasicFilter": {"sheetId": sheet_id}},
    )
    sheet = state(fake)
    assert (
        sheet["dataValidation"] == [] and sheet["conditionalFormats"] == [] and sheet["basicFilter"] is None
    )


def aimed(value: Any, sheet_id: int) -> Any:
    """The request with every "SID" placeholder replaced by the sheet's id."""
    if isinstance(value, dict):
        return {key: aimed(item, sheet_id) for key, item in value.items()}
    if isinstance(value, list):
        return [aimed(item, sheet_id) for item in value]
    return sheet_id if value == "SID" else value


ALL = {"sheetId": "SID"}
PAID = [{"userEnteredValue": "PAID"}]


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        (
            {"repeatCell": {"range": ALL, "cell": {"userEnteredFormat": {"bold": True}}, "fields": "*"}},
            'Unknown name "bold"',
        ),
        (
            {
                "repeatCell": {
                    "range": ALL,
                    "cell": {"userEnteredFormat": {"numberFormat": {"type": "DATETIME"}}},
                    "fields": "*",
                }
            },
            "TYPE_ENUM",
        ),
        ({"repeatCell": {"range": ALL, "cell": {}}}, "'fields'"),
        ({"repeatCell": {"range": {**ALL, "endColumnIndex": 27}, "cell": {}, "fields": "*"}}, "exceeds grid"),
        (
            {"setDataValidation": {"range": ALL, "rule": {"condition": {"type": "ONE_OF_LIST"}}}},
            "ONE_OF_LIST",
        ),
        (
            {
                "addConditionalFormatRule": {
                    "rule": {
                        "ranges": [ALL],
                        "booleanRule": {"condition": {"type": "ONE_OF_LIST", "values": PAID}},
                    }
                }
            },
            "condition type",
        ),
        ({"deleteConditionalFormatRule": {"sheetId": "SID", "index": 3}}, "No conditional format"),
        (
            {
                "updateSheetProperties": {
                    "properties": {"sheetId": "SID", "gridProperties": {"frozenRowCount": 1000}},
                    "fields": "gridProperties.frozenRowCount",
                }
            },
            "freeze all visible rows",
        ),
        ({"setBasicFilter": {"filter": {"range": {**ALL, "startRowIndex": "one"}}}}, "TYPE_INT32"),
    ],
)
def test_what_the_real_api_refuses_is_refused_and_the_batch_changes_nothing(
    sheets: tuple[SheetsFake, Any, int], request_body: dict[str, Any], message: str
) -> None:
    fake, service, sheet_id = sheets
    freeze = {
        "updateSheetProperties": {
            "properties": {"sheetId": sheet_id, "gridProperties": {"frozenRowCount": 2}},
            "fields": "gridProperties.frozenRowCount",
        }
    }
    with pytest.raises(HttpError) as refused:
        batch(service, freeze, aimed(request_body, sheet_id))
    assert refused.value.resp.status == 400 and message in str(refused.value)
    assert "frozenRowCount" not in state(fake)["gridProperties"]  # the freeze before it undone too
