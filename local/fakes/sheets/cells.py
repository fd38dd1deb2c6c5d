"""spreadsheets.batchUpdate's cell requests (updateCells, appendCells) and developer metadata (create,
update, delete). Cells are written as CellData: `userEnteredValue` is an ExtendedValue (a stringValue stays
text even when it starts with "=", as RAW does), and the `fields` mask says which parts of each cell
change; a part named in the mask but absent from the data is cleared, as the API does."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

from local.fakes.base import JSONDict
from local.fakes.sheets.api import FORMULA_PLACEHOLDER, MAX_CELL_CHARS, SheetsApiError
from local.fakes.sheets.formatting import _grid_range, _sheet, field_paths
from local.fakes.sheets.model import Cell, Sheet, Spreadsheet, format_clock
from local.fakes.sheets.ranges import grid_limit_error

_VALUE_KINDS = ("numberValue", "stringValue", "boolValue", "formulaValue", "errorValue")
_VISIBILITIES = ("DOCUMENT", "PROJECT")


class CellRequests:
    """updateCells, appendCells and the developer metadata requests (mixed into SheetsFake)."""

    def _request_update_cells(self, spreadsheet: Spreadsheet, spec: JSONDict) -> JSONDict:
        rows, mask = _rows_and_mask(spec)
        if ("start" in spec) == ("range" in spec):
            raise SheetsApiError(400, "Exactly one of start or range must be specified.")
        if "start" in spec:
            start = spec["start"] or {}
            sheet = _sheet(spreadsheet, start.get("sheetId", 0))
            r0, c0 = int(start.get("rowIndex", 0)), int(start.get("columnIndex", 0))
            r1 = r0 + len(rows) - 1
            c1 = c0 + max((len(row.get("values") or []) for row in rows), default=1) - 1
            if r0 < 0 or c0 < 0 or r1 >= sheet.rows or c1 >= sheet.columns:
                raise grid_limit_error(sheet, r0, c0, max(r0, r1), max(c0, c1))
            _put_rows(sheet, r0, c0, rows, mask)
            return {}
        sheet, rng = _grid_range(spreadsheet, spec["range"])
        r0, c0 = rng.get("startRowIndex", 0), rng.get("startColumnIndex", 0)
        r1, c1 = rng.get("endRowIndex", sheet.rows), rng.get("endColumnIndex", sheet.columns)
        if len(rows) > r1 - r0 or any(len(row.get("values") or []) > c1 - c0 for row in rows):
            raise SheetsApiError(400, "The rows given do not fit in the range.")
        # The range's cells the data does not reach get the mask's parts cleared.
        padded = [
            {"values": [*(row.get("values") or []), *[{}] * (c1 - c0 - len(row.get("values") or []))]}
            for row in [*rows, *[{}] * (r1 - r0 - len(rows))]
        ]
        _put_rows(sheet, r0, c0, padded, mask)
        return {}

    def _request_append_cells(self, spreadsheet: Spreadsheet, spec: JSONDict) -> JSONDict:
        """New rows after the last row holding data, the grid growing as needed."""
        rows, mask = _rows_and_mask(spec)
        sheet = _sheet(spreadsheet, spec.get("sheetId", 0))
        width = max((len(row.get("values") or []) for row in rows), default=0)
        if width > sheet.columns:
            raise grid_limit_error(sheet, 0, 0, 0, width - 1)
        r0 = max((r for r, _ in sheet.cells), default=-1) + 1
        sheet.rows = max(sheet.rows, r0 + len(rows))
        _put_rows(sheet, r0, 0, rows, mask)
        return {}

    def _request_create_developer_metadata(self, spreadsheet: Spreadsheet, spec: JSONDict) -> JSONDict:
        metadata = dict(spec.get("developerMetadata") or {})
        if not metadata.get("metadataKey"):
            raise SheetsApiError(400, "Developer metadata must always have a key specified.")
        if metadata.get("visibility") not in _VISIBILITIES:
            raise SheetsApiError(400, "Developer metadata must always have visibility specified.")
        location = dict(metadata.get("location") or {})
        if "dimensionRange" in location:
            raise SheetsApiError(501, "the fake keeps developer metadata on sheets and the spreadsheet only")
        if "sheetId" in location:
            _sheet(spreadsheet, location["sheetId"])
            location = {"locationType": "SHEET", "sheetId": int(location["sheetId"])}
        elif location.get("spreadsheet"):
            location = {"locationType": "SPREADSHEET", "spreadsheet": True}
        else:
            raise SheetsApiError(400, "Developer metadata must specify a location.")
        taken = {m["metadataId"] for m in spreadsheet.developer_metadata}
        metadata_id = int(metadata.get("metadataId") or 0)
        if metadata_id in taken:
            raise SheetsApiError(400, f"Developer metadata with id {metadata_id} already exists.")
        while not metadata_id or metadata_id in taken:
            metadata_id = random.randint(1, 2**31 - 1)
        stored = {**metadata, "metadataId": metadata_id, "location": location}
        spreadsheet.developer_metadata.append(stored)
        return {"createDeveloperMetadata": {"developerMetadata": stored}}

    def _request_update_developer_metadata(self, spreadsheet: Spreadsheet, spec: JSONDict) -> JSONDict:
        if not spec.get("fields"):
            raise SheetsApiError(400, "At least one field must be updated with 'fields'.")
        filters = spec.get("dataFilters") or []
        if not filters:
            raise SheetsApiError(400, "Must specify at least one data filter.")
        new = spec.get("developerMetadata") or {}
        paths = field_paths(spec["fields"])
        if "location" in paths or "metadataId" in paths:
            raise SheetsApiError(501, "the fake updates a metadata's key, value and visibility only")
        updated = []
        for metadata in spreadsheet.developer_metadata:
            if any(_matches(metadata, f.get("developerMetadataLookup") or {}) for f in filters):
                for path in paths:
                    if path in new:
                        metadata[path] = new[path]
                    else:
                        metadata.pop(path, None)
                updated.append(metadata)
        return {"updateDeveloperMetadata": {"developerMetadata": updated}}

    def _request_delete_developer_metadata(self, spreadsheet: Spreadsheet, spec: JSONDict) -> JSONDict:
        lookup = (spec.get("dataFilter") or {}).get("developerMetadataLookup")
        if not lookup:
            raise SheetsApiError(400, "Must specify a developerMetadataLookup data filter.")
        deleted = [m for m in spreadsheet.developer_metadata if _matches(m, lookup)]
        spreadsheet.developer_metadata = [m for m in spreadsheet.developer_metadata if m not in deleted]
        return {"deleteDeveloperMetadata": {"deletedDeveloperMetadata": deleted}}


def sheet_metadata(spreadsheet: Spreadsheet, sheet: Sheet) -> list[JSONDict]:
    return [m for m in spreadsheet.developer_metadata if m["location"].get("sheetId") == sheet.sheet_id]


def _matches(metadata: JSONDict, lookup: JSONDict) -> bool:
    location = lookup.get("metadataLocation") or {}
    wanted = {
        "metadataId": lookup.get("metadataId"),
        "metadataKey": lookup.get("metadataKey"),
        "metadataValue": lookup.get("metadataValue"),
        "visibility": lookup.get("visibility"),
    }
    if any(value is not None and metadata.get(key) != value for key, value in wanted.items()):
        return False
    if lookup.get("locationType") and metadata["location"]["locationType"] != lookup["locationType"]:
        return False
    return "sheetId" not in location or metadata["location"].get("sheetId") == location["sheetId"]


def _rows_and_mask(spec: JSONDict) -> tuple[list[JSONDict], set[str]]:
    if not spec.get("fields"):
        raise SheetsApiError(400, "At least one field must be updated with 'fields'.")
    mask = set(field_paths(spec["fields"]))
    unknown = {
        p for p in mask if p.split(".")[0] not in ("*", "userEnteredValue", "userEnteredFormat", "note")
    }
    if unknown:
        raise SheetsApiError(
            501, f"the fake writes values, number formats and notes only, not {sorted(unknown)}"
        )
    return list(spec.get("rows") or []), mask


def _touches(mask: set[str], path: str) -> bool:
    """Whether the mask covers `path` (a parent or the path itself, or "*")."""
    parts = path.split(".")
    return "*" in mask or any(".".join(parts[: i + 1]) in mask for i in range(len(parts)))


def _put_rows(sheet: Sheet, r0: int, c0: int, rows: list[JSONDict], mask: set[str]) -> None:
    for i, row in enumerate(rows):
        for j, data in enumerate(row.get("values") or []):
            _put(sheet, r0 + i, c0 + j, data or {}, mask)


def _put(sheet: Sheet, r: int, c: int, data: JSONDict, mask: set[str]) -> None:
    cell = sheet.cells.get((r, c))
    if _touches(mask, "userEnteredValue"):
        value = _value(data.get("userEnteredValue"))
        if value is None:
            sheet.cells.pop((r, c), None)
            cell = None
        else:
            cell = (
                replace(value, number_format=cell.number_format, format_seq=cell.format_seq)
                if cell
                else value
            )
    if _touches(mask, "userEnteredFormat.numberFormat") and cell is not None:
        number_format = (data.get("userEnteredFormat") or {}).get("numberFormat")
        if number_format is not None and not number_format.get("type"):
            raise SheetsApiError(400, "NumberFormat.type must be set when writing a number format.")
        cell = replace(cell, number_format=number_format, format_seq=next(format_clock))
    if cell is not None:
        sheet.cells[(r, c)] = cell
    if _touches(mask, "note"):
        if data.get("note"):
            sheet.notes[(r, c)] = str(data["note"])
        else:
            sheet.notes.pop((r, c), None)


def _value(extended: Any) -> Cell | None:
    if not extended:
        return None
    if not isinstance(extended, dict) or len(extended) != 1 or next(iter(extended)) not in _VALUE_KINDS:
        raise SheetsApiError(400, "Exactly one value kind must be set in userEnteredValue.")
    ((kind, value),) = extended.items()
    if kind == "stringValue":
        if len(str(value)) > MAX_CELL_CHARS:
            raise SheetsApiError(
                400,
                f"Your input contains more than the maximum of {MAX_CELL_CHARS} characters in a single cell.",
            )
        return Cell(str(value))
    if kind == "numberValue":
        number = float(value)
        return Cell(int(number) if number.is_integer() and abs(number) < 2**53 else number)
    if kind == "boolValue":
        return Cell(bool(value))
    if kind == "formulaValue":
        return Cell(FORMULA_PLACEHOLDER, formula=str(value))
    return Cell(f"#ERROR: {value}")
