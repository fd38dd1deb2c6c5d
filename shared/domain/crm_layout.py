"""How the Leads sheet explains itself to managers: a frozen bold header coloured by who owns the column
(the bot's blue, the managers' green), a filter, a dropdown and a colour per status, readable widths.
Pure: the Sheets requests for a header as it stands (columns found by name, wherever managers put them).

The bot writes only its own columns (LEAD_COLUMNS). `manager_status` and `notes` are the managers': the
bot adds them to a new sheet and never writes them (it reads `manager_status` back for the funnel).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.domain.leads import LEAD_COLUMNS, LeadStatus

MANAGER_COLUMNS: tuple[str, ...] = ("manager_status", "notes")
MANAGER_STATUSES: tuple[str, ...] = ("CALLED", "NO_ANSWER", "PAID", "LOST")

_BOT_HEADER = {"red": 0.85, "green": 0.9, "blue": 0.97}
_MANAGERS_HEADER = {"red": 0.85, "green": 0.95, "blue": 0.85}
# A colour per status, bot's and managers' (the same word gets the same colour in both columns).
STATUS_COLOURS: dict[str, dict[str, float]] = {
    LeadStatus.NEW: {"red": 1.0, "green": 0.95, "blue": 0.8},
    LeadStatus.ACTIVATED: {"red": 0.87, "green": 0.92, "blue": 1.0},
    LeadStatus.SCHEDULED: {"red": 0.8, "green": 0.9, "blue": 1.0},
    LeadStatus.CANCELLED: {"red": 0.93, "green": 0.93, "blue": 0.93},
    LeadStatus.CALLED: {"red": 0.9, "green": 0.85, "blue": 1.0},
    LeadStatus.NO_ANSWER: {"red": 1.0, "green": 0.87, "blue": 0.75},
    LeadStatus.ATTENDED: {"red": 0.8, "green": 0.95, "blue": 0.8},
    LeadStatus.NO_SHOW: {"red": 1.0, "green": 0.8, "blue": 0.8},
    LeadStatus.DELETED: {"red": 0.85, "green": 0.85, "blue": 0.85},
    "PAID": {"red": 0.6, "green": 0.9, "blue": 0.6},
    "LOST": {"red": 0.95, "green": 0.75, "blue": 0.75},
}
_WIDTHS = {"lead_id": 170, "created_at": 150, "updated_at": 150, "name": 160, "phone": 140, "email": 220}
_WIDTHS |= {"lesson_at": 150, "zoom_link": 220, "notes": 320, "manager_status": 140, "status": 120}


def status_columns(header: Sequence[str]) -> dict[str, int]:
    """The columns that take a status, by name: where they are now."""
    return {name: header.index(name) for name in ("status", "manager_status") if name in header}


def layout_requests(sheet_id: int, header: Sequence[str], old_rules: int = 0) -> list[dict[str, Any]]:
    """One batchUpdate's requests setting the layout for `header`; `old_rules`: how many conditional
    formats of an earlier layout to delete first (they sit at the top of the sheet's list, where the
    layout puts its own)."""
    width = len(header)
    requests: list[dict[str, Any]] = [
        {"deleteConditionalFormatRule": {"sheetId": sheet_id, "index": 0}} for _ in range(old_rules)
    ]
    requests.append(
        {
            "updateSheetProperties": {
                "properties": {"sheetId": sheet_id, "gridProperties": {"frozenRowCount": 1}},
                "fields": "gridProperties.frozenRowCount",
            }
        }
    )
    for index, name in enumerate(header):
        colour = _BOT_HEADER if name in LEAD_COLUMNS else _MANAGERS_HEADER
        requests.append(
            {
                "repeatCell": {
                    "range": _cells(sheet_id, index, rows=(0, 1)),
                    "cell": {"userEnteredFormat": {"textFormat": {"bold": True}, "backgroundColor": colour}},
                    "fields": "userEnteredFormat(textFormat.bold,backgroundColor)",
                }
            }
        )
        if name in _WIDTHS:
            requests.append(
                {
                    "updateDimensionProperties": {
                        "range": {
                            "sheetId": sheet_id,
                            "dimension": "COLUMNS",
                            "startIndex": index,
                            "endIndex": index + 1,
                        },
                        "properties": {"pixelSize": _WIDTHS[name]},
                        "fields": "pixelSize",
                    }
                }
            )
    requests.append({"setBasicFilter": {"filter": {"range": {"sheetId": sheet_id, "endColumnIndex": width}}}})
    for name, index in status_columns(header).items():
        choices = [s.value for s in LeadStatus] if name == "status" else list(MANAGER_STATUSES)
        requests.append(
            {
                "setDataValidation": {
                    "range": _cells(sheet_id, index, rows=(1, None)),
                    "rule": {
                        "condition": {
                            "type": "ONE_OF_LIST",
                            "values": [{"userEnteredValue": c} for c in choices],
                        },
                        "strict": False,  # the bot's own new statuses are never refused
                        "showCustomUi": True,
                    },
                }
            }
        )
    for rule in status_rules(sheet_id, header):
        requests.append({"addConditionalFormatRule": {"rule": rule, "index": 0}})
    return requests


def status_rules(sheet_id: int, header: Sequence[str]) -> list[dict[str, Any]]:
    """A colour per status value, on each status column."""
    rules = []
    for name, index in status_columns(header).items():
        choices = [s.value for s in LeadStatus] if name == "status" else list(MANAGER_STATUSES)
        for choice in choices:
            rules.append(
                {
                    "ranges": [_cells(sheet_id, index, rows=(1, None))],
                    "booleanRule": {
                        "condition": {"type": "TEXT_EQ", "values": [{"userEnteredValue": choice}]},
                        "format": {"backgroundColor": STATUS_COLOURS[choice]},
                    },
                }
            )
    return rules


def is_laid_out(sheet: dict[str, Any], header: Sequence[str]) -> bool:
    """Whether the sheet (as spreadsheets.get gives it) has the layout for `header`: frozen, filtered
    across every column, and its status colours on the columns where the statuses are now."""
    grid = sheet.get("properties", {}).get("gridProperties", {})
    filter_range = (sheet.get("basicFilter") or {}).get("range", {})
    if grid.get("frozenRowCount", 0) < 1 or filter_range.get("endColumnIndex") != len(header):
        return False
    ours = own_rules(sheet)
    wanted = set(status_columns(header).values())
    return {r["ranges"][0].get("startColumnIndex") for r in ours} == wanted and len(ours) == len(
        status_rules(0, header)
    )


def own_rules(sheet: dict[str, Any]) -> list[dict[str, Any]]:
    """The conditional formats a layout added: the leading run of status colours (managers' own rules,
    added later in the Sheets UI, come after them)."""
    rules = []
    for rule in sheet.get("conditionalFormats") or []:
        values = rule.get("booleanRule", {}).get("condition", {}).get("values", [])
        if len(values) != 1 or values[0].get("userEnteredValue") not in STATUS_COLOURS:
            break
        rules.append(rule)
    return rules


def _cells(sheet_id: int, column: int, rows: tuple[int, int | None]) -> dict[str, int]:
    rng = {
        "sheetId": sheet_id,
        "startColumnIndex": column,
        "endColumnIndex": column + 1,
        "startRowIndex": rows[0],
    }
    if rows[1] is not None:
        rng["endRowIndex"] = rows[1]
    return rng
