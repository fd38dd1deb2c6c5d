"""How the Leads sheet explains itself to managers: a frozen bold header coloured by who owns the column
(the bot's blue, the managers' green), a filter, a dropdown and a colour per status, readable widths,
times as real date-times on the academy's clock with the zone named in a note on their headers; and the
Log sheet likewise. Pure: the Sheets requests for a header as it stands (columns found by name, wherever
managers put them), and the mark (developer metadata) that says which layout a sheet has.

The bot writes only its own columns (LEAD_COLUMNS). `manager_status` and `notes` are the managers': the
bot adds them to a new sheet and never writes them (it reads `manager_status` back for the funnel).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shared.domain.leads import LEAD_COLUMNS, LOG_COLUMNS, LeadStatus

MANAGER_COLUMNS: tuple[str, ...] = ("manager_status", "notes")
# Times are real date-time values (serials) in the academy's zone, shown through this format: the sheet
# sorts and filters them as dates, and a manager reads the wall-clock time the lesson is at.
TIME_COLUMNS: tuple[str, ...] = ("created_at", "updated_at", "lesson_at")
LOG_TIME_COLUMN = "time"
DATE_TIME_FORMAT = {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm"}
_SERIAL_EPOCH = datetime(1899, 12, 30)  # Sheets' day 0: serial = days since, the fraction the time of day
# A sheet's layout is marked with developer metadata: this key, the layout version and the header it was
# made for. A layout of another version or header is made again (once).
LAYOUT_KEY = "all_in_academy.crm_layout"
LAYOUT_VERSION = "2"
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
_LOG_WIDTHS = {"time": 150, "lead_id": 170, "event": 200, "details": 420}


def to_serial(moment: datetime, zone: ZoneInfo) -> float:
    """The Sheets date-time value of `moment` (aware) as the academy's wall clock shows it."""
    local = moment.astimezone(zone).replace(tzinfo=None)
    return round((local - _SERIAL_EPOCH) / timedelta(days=1), 10)


def from_serial(serial: float, zone: ZoneInfo) -> datetime:
    """The moment a date-time value names on the academy's wall clock (an hour the clocks repeat in
    autumn is read as its first pass)."""
    local = _SERIAL_EPOCH + timedelta(seconds=round(serial * 86400))
    return local.replace(tzinfo=zone)


def layout_mark(header: Sequence[str]) -> str:
    """What a sheet laid out for `header` by this version is marked with."""
    return f"{LAYOUT_VERSION}:" + hashlib.sha1("\t".join(header).encode()).hexdigest()[:16]


def marks(sheet: dict[str, Any]) -> list[dict[str, Any]]:
    """The sheet's layout marks (developer metadata), as spreadsheets.get gives them."""
    return [m for m in sheet.get("developerMetadata") or [] if m.get("metadataKey") == LAYOUT_KEY]


def mark_requests(sheet: dict[str, Any], header: Sequence[str]) -> list[dict[str, Any]]:
    """Mark the sheet as laid out for `header`: the old mark updated, or a new one."""
    sheet_id = sheet["properties"]["sheetId"]
    old = marks(sheet)
    if old:
        return [
            {
                "updateDeveloperMetadata": {
                    "dataFilters": [
                        {"developerMetadataLookup": {"metadataId": m["metadataId"]}} for m in old
                    ],
                    "developerMetadata": {"metadataValue": layout_mark(header)},
                    "fields": "metadataValue",
                }
            }
        ]
    return [
        {
            "createDeveloperMetadata": {
                "developerMetadata": {
                    "metadataKey": LAYOUT_KEY,
                    "metadataValue": layout_mark(header),
                    "location": {"sheetId": sheet_id},
                    "visibility": "DOCUMENT",
                }
            }
        }
    ]


def time_formats(
    sheet_id: int, header: Sequence[str], ours: Sequence[str], times: Sequence[str], note: str
) -> list[dict[str, Any]]:
    """The bot's columns' number formats (date-time on its time columns, none on the others: a column a
    manager moved leaves no date format behind) and the zone named once, in a note on each time header."""
    requests: list[dict[str, Any]] = []
    for index, name in enumerate(header):
        if name not in ours:
            continue  # the managers' columns are formatted as they like
        timed = name in times
        requests.append(
            {
                "repeatCell": {
                    "range": _cells(sheet_id, index, rows=(1, None)),
                    "cell": {"userEnteredFormat": {"numberFormat": DATE_TIME_FORMAT} if timed else {}},
                    "fields": "userEnteredFormat.numberFormat",
                }
            }
        )
        requests.append(
            {
                "repeatCell": {
                    "range": _cells(sheet_id, index, rows=(0, 1)),
                    "cell": {"note": note} if timed else {},
                    "fields": "note",
                }
            }
        )
    return requests


def log_layout_requests(sheet: dict[str, Any], note: str) -> list[dict[str, Any]]:
    """The Log sheet: its header (written, frozen, bold), the time column as date-times, widths."""
    sheet_id = sheet["properties"]["sheetId"]
    header = list(LOG_COLUMNS)
    requests: list[dict[str, Any]] = [
        {
            "updateCells": {
                "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0},
                "rows": [{"values": [{"userEnteredValue": {"stringValue": name}} for name in header]}],
                "fields": "userEnteredValue",
            }
        },
        _frozen_header(sheet_id),
        {
            "repeatCell": {
                "range": {
                    "sheetId": sheet_id,
                    "startRowIndex": 0,
                    "endRowIndex": 1,
                    "endColumnIndex": len(header),
                },
                "cell": {"userEnteredFormat": {"textFormat": {"bold": True}, "backgroundColor": _BOT_HEADER}},
                "fields": "userEnteredFormat(textFormat.bold,backgroundColor)",
            }
        },
        *time_formats(sheet_id, header, header, (LOG_TIME_COLUMN,), note),
    ]
    for index, name in enumerate(header):
        requests.append(_width(sheet_id, index, _LOG_WIDTHS[name]))
    return [*requests, *mark_requests(sheet, header)]


def status_columns(header: Sequence[str]) -> dict[str, int]:
    """The columns that take a status, by name: where they are now."""
    return {name: header.index(name) for name in ("status", "manager_status") if name in header}


def layout_requests(sheet: dict[str, Any], header: Sequence[str], note: str) -> list[dict[str, Any]]:
    """One batchUpdate's requests setting the Leads layout for `header` on `sheet` (as spreadsheets.get
    gives it): the status colours of an earlier layout are deleted first (they sit at the top of the
    sheet's list, where the layout puts its own); `note` names the zone of the time columns."""
    sheet_id = sheet["properties"]["sheetId"]
    width = len(header)
    requests: list[dict[str, Any]] = [
        {"deleteConditionalFormatRule": {"sheetId": sheet_id, "index": 0}} for _ in own_rules(sheet)
    ]
    requests.append(_frozen_header(sheet_id))
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
            requests.append(_width(sheet_id, index, _WIDTHS[name]))
    requests += time_formats(sheet_id, header, LEAD_COLUMNS, TIME_COLUMNS, note)
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
    return [*requests, *mark_requests(sheet, header)]


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
    """Whether the sheet (as spreadsheets.get gives it) has this version's layout for `header`: marked
    so, frozen, filtered across every column, and its status colours where the statuses are now."""
    if [m.get("metadataValue") for m in marks(sheet)] != [layout_mark(header)]:
        return False
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


def is_log_laid_out(sheet: dict[str, Any]) -> bool:
    grid = sheet.get("properties", {}).get("gridProperties", {})
    marked = [m.get("metadataValue") for m in marks(sheet)] == [layout_mark(LOG_COLUMNS)]
    return marked and grid.get("frozenRowCount", 0) >= 1


def _frozen_header(sheet_id: int) -> dict[str, Any]:
    return {
        "updateSheetProperties": {
            "properties": {"sheetId": sheet_id, "gridProperties": {"frozenRowCount": 1}},
            "fields": "gridProperties.frozenRowCount",
        }
    }


def _width(sheet_id: int, column: int, pixels: int) -> dict[str, Any]:
    return {
        "updateDimensionProperties": {
            "range": {
                "sheetId": sheet_id,
                "dimension": "COLUMNS",
                "startIndex": column,
                "endIndex": column + 1,
            },
            "properties": {"pixelSize": pixels},
            "fields": "pixelSize",
        }
    }


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
