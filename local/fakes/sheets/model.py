"""The fake's spreadsheets, sheets and cells."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field

from local.fakes.base import JSONDict
from local.fakes.sheets.api import DEFAULT_COLUMNS, DEFAULT_ROWS, CellValue


def _covers(rng: JSONDict, row: int, column: int) -> bool:
    return rng.get("startRowIndex", 0) <= row < rng.get("endRowIndex", 1 << 30) and rng.get(
        "startColumnIndex", 0
    ) <= column < rng.get("endColumnIndex", 1 << 30)


# ---- model -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    """A non-empty cell: its effective value, the formula text when the cell is a formula, and the number
    format updateCells/appendCells gave it (with when: a later repeatCell over it wins)."""

    value: CellValue
    formula: str | None = None
    number_format: JSONDict | None = None
    format_seq: int = 0


# Orders number formats set on cells and on ranges: the later one is the cell's.
format_clock = itertools.count(1)


@dataclass
class Sheet:
    sheet_id: int
    title: str
    index: int
    rows: int = DEFAULT_ROWS
    columns: int = DEFAULT_COLUMNS
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)  # (row, col), zero-based
    frozen_rows: int = 0
    frozen_columns: int = 0
    # What the formatting requests set, as the API's own JSON (spreadsheets.get gives them back so):
    formats: list[JSONDict] = field(default_factory=list)  # repeatCell: {range, cell, fields}, in order
    basic_filter: JSONDict | None = None
    validations: list[JSONDict] = field(default_factory=list)  # setDataValidation: {range, rule}
    conditional_formats: list[JSONDict] = field(default_factory=list)  # ConditionalFormatRule, by index
    column_widths: dict[int, int] = field(default_factory=dict)  # pixelSize by column
    number_formats: list[tuple[int, JSONDict, JSONDict | None]] = field(
        default_factory=list
    )  # seq, range, fmt
    notes: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col): the cell's note

    def number_format(self, row: int, column: int, cell: Cell | None) -> JSONDict | None:
        """The cell's number format: its own or the latest repeatCell's over it, whichever came last."""
        own_seq, own = (cell.format_seq, cell.number_format) if cell else (0, None)
        for seq, rng, number_format in reversed(self.number_formats):
            if seq <= own_seq:
                break
            if _covers(rng, row, column):
                return number_format
        return own

    def properties(self) -> JSONDict:
        grid: JSONDict = {"rowCount": self.rows, "columnCount": self.columns}
        if self.frozen_rows:
            grid["frozenRowCount"] = self.frozen_rows
        if self.frozen_columns:
            grid["frozenColumnCount"] = self.frozen_columns
        return {
            "sheetId": self.sheet_id,
            "title": self.title,
            "index": self.index,
            "sheetType": "GRID",
            "gridProperties": grid,
        }

    def formatting(self) -> JSONDict:
        """The sheet's formatting as spreadsheets.get lists it (plus the repeatCell requests applied)."""
        return {
            "formats": self.formats,
            "basicFilter": self.basic_filter,
            "dataValidation": self.validations,
            "conditionalFormats": self.conditional_formats,
            "columnWidths": {str(c): px for c, px in sorted(self.column_widths.items())},
            "notes": {f"{r},{c}": note for (r, c), note in sorted(self.notes.items())},
        }

    def extent(self) -> tuple[int, int]:
        """(rows, columns) actually holding data."""
        if not self.cells:
            return 0, 0
        return max(r for r, _ in self.cells) + 1, max(c for _, c in self.cells) + 1


@dataclass
class Spreadsheet:
    spreadsheet_id: str
    title: str
    sheets: list[Sheet]
    rng: random.Random
    developer_metadata: list[JSONDict] = field(default_factory=list)  # on its sheets and on itself

    def sheet_by_title(self, title: str) -> Sheet | None:
        for sheet in self.sheets:
            if sheet.title == title:
                return sheet
        # Sheet names in A1 ranges are matched without regard to case, like the Sheets UI does.
        for sheet in self.sheets:
            if sheet.title.lower() == title.lower():
                return sheet
        return None

    def sheet_by_id(self, sheet_id: int) -> Sheet | None:
        return next((sheet for sheet in self.sheets if sheet.sheet_id == sheet_id), None)

    def new_sheet_id(self) -> int:
        taken = {sheet.sheet_id for sheet in self.sheets}
        while True:
            candidate = self.rng.randint(1, 2**31 - 1)
            if candidate not in taken:
                return candidate

    def reindex(self) -> None:
        self.sheets.sort(key=lambda sheet: sheet.index)
        for index, sheet in enumerate(self.sheets):
            sheet.index = index
