"""Values: input parsing (RAW, USER_ENTERED), rendering options, reads and writes of a grid range."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from local.fakes.base import JSONDict
from local.fakes.sheets.api import DIMENSIONS, FORMULA_PLACEHOLDER, MAX_CELL_CHARS, CellValue, SheetsApiError
from local.fakes.sheets.model import Cell, Sheet
from local.fakes.sheets.number_format import is_date, render_number
from local.fakes.sheets.ranges import GridRange, format_range

# ---- values ----------------------------------------------------------------------------------------------
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_GROUPED_NUMBER = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


def _number(text: str) -> int | float:
    value = float(text.replace(",", ""))
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def parse_input(value: Any, option: str) -> Cell | None:
    """A value from a request as the cell it becomes; None clears the cell (empty string)."""
    if isinstance(value, bool):
        return Cell(value)
    if isinstance(value, int | float):
        return Cell(_number(repr(value)) if isinstance(value, float) else value)
    if not isinstance(value, str):
        raise SheetsApiError(400, f"Invalid value: {value!r} is not a string, number or boolean")
    if len(value) > MAX_CELL_CHARS:
        raise SheetsApiError(
            400, f"Your input contains more than the maximum of {MAX_CELL_CHARS} characters in a single cell."
        )
    if value == "":
        return None
    if option == "RAW":
        # RAW stores exactly what was sent: "=1+1" and "007" stay strings.
        return Cell(value)
    # USER_ENTERED: parsed as if typed into the UI (en_US locale).
    if value.startswith("'"):
        return Cell(value[1:]) if len(value) > 1 else None
    if value.startswith("=") and len(value) > 1:
        return Cell(FORMULA_PLACEHOLDER, formula=value)
    stripped = value.strip()
    if stripped.upper() in ("TRUE", "FALSE"):
        return Cell(stripped.upper() == "TRUE")
    if _NUMBER.match(stripped) or _GROUPED_NUMBER.match(stripped):
        # "+7 999..." without spaces becomes a number and loses its "+": exactly the real sheet's behaviour.
        return Cell(_number(stripped))
    return Cell(value)


def _format_number(value: int | float) -> str:
    if isinstance(value, int) or value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.15g}".replace("e+", "E+").replace("e-", "E-")


def render(
    cell: Cell, option: str, number_format: JSONDict | None = None, date_option: str = "SERIAL_NUMBER"
) -> CellValue:
    """A cell as a read returns it: FORMATTED_VALUE as the sheet shows it (a number through its number
    format), UNFORMATTED_VALUE as stored (a date-time as its serial, unless `date_option` is
    FORMATTED_STRING)."""
    if cell.formula is not None:
        return cell.formula if option == "FORMULA" else FORMULA_PLACEHOLDER
    value = cell.value
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE") if option == "FORMATTED_VALUE" else value
    if isinstance(value, int | float):
        if option == "FORMATTED_VALUE" or (date_option == "FORMATTED_STRING" and is_date(number_format)):
            return render_number(value, number_format, _format_number(value))
    return value


def _read(
    rng: GridRange, option: str, dimension: str, date_option: str = "SERIAL_NUMBER"
) -> list[list[CellValue]]:
    """Cells of a range as the API returns them: trailing empty cells and rows/columns dropped."""
    r0, c0, r1, c1 = rng.clipped()
    sheet = rng.sheet
    present = {
        (r, c): render(cell, option, sheet.number_format(r, c, cell), date_option)
        for (r, c), cell in sheet.cells.items()
        if r0 <= r <= r1 and c0 <= c <= c1
    }
    if not present:
        return []
    if dimension == "COLUMNS":
        major = sorted({c for _, c in present})
        out: list[list[CellValue]] = []
        for col in range(c0, max(major) + 1):
            rows = [r for (r, c) in present if c == col]
            line: list[CellValue] = []
            if rows:
                line = ["" for _ in range(r0, max(rows) + 1)]
                for r in rows:
                    line[r - r0] = present[(r, col)]
            out.append(line)
        return out
    last_row = max(r for r, _ in present)
    out = []
    for row in range(r0, last_row + 1):
        cols = [c for (r, c) in present if r == row]
        line = []
        if cols:
            line = ["" for _ in range(c0, max(cols) + 1)]
            for c in cols:
                line[c - c0] = present[(row, c)]
        out.append(line)
    return out


def _check_option(name: str, value: str | None, allowed: Sequence[str], default: str | None) -> str:
    if value is None or value == "":
        if default is None:
            raise SheetsApiError(400, f"'{name}' is required but not specified")
        return default
    if value not in allowed:
        raise SheetsApiError(400, f"Invalid value at '{_snake(name)}', \"{value}\"")
    return value


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def _matrix(value_range: Any, where: str) -> list[list[Any]]:
    """`values` of a ValueRange in row-major order (COLUMNS input transposed)."""
    if not isinstance(value_range, dict):
        raise SheetsApiError(400, f"Invalid JSON payload received. {where} must be a ValueRange object.")
    values = value_range.get("values", [])
    if not isinstance(values, list) or not all(isinstance(row, list) for row in values):
        raise SheetsApiError(400, f"Invalid JSON payload received. Invalid value at '{where}.values'")
    dimension = _check_option("majorDimension", value_range.get("majorDimension"), DIMENSIONS, "ROWS")
    if dimension == "COLUMNS":
        height = max((len(col) for col in values), default=0)
        return [[col[r] if r < len(col) else None for col in values] for r in range(height)]
    return values


@dataclass
class _Written:
    sheet: Sheet
    r0: int
    c0: int
    rows: int
    columns: int
    cells: int

    def a1(self) -> str:
        return format_range(self.sheet, self.r0, self.c0, self.r0 + self.rows - 1, self.c0 + self.columns - 1)

    def response(self, spreadsheet_id: str) -> JSONDict:
        out: JSONDict = {"spreadsheetId": spreadsheet_id}
        if self.rows and self.columns:
            out.update(
                updatedRange=self.a1(),
                updatedRows=self.rows,
                updatedColumns=self.columns,
                updatedCells=self.cells,
            )
        return out


def _write(sheet: Sheet, r0: int, c0: int, values: list[list[Any]], option: str) -> _Written:
    """Store a row-major matrix at (r0, c0); None leaves a cell as it is, "" clears it."""
    parsed: list[tuple[int, int, Cell | None]] = []
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            if value is None:
                continue
            parsed.append((r0 + i, c0 + j, parse_input(value, option)))
    for r, c, cell in parsed:
        if cell is None:
            sheet.cells.pop((r, c), None)
        elif (old := sheet.cells.get((r, c))) is not None:  # a new value keeps the cell's number format
            sheet.cells[(r, c)] = replace(cell, number_format=old.number_format, format_seq=old.format_seq)
        else:
            sheet.cells[(r, c)] = cell
    rows = len(values)
    columns = max((len(row) for row in values), default=0)
    return _Written(sheet, r0, c0, rows, columns, len(parsed))


@functools.cache
def _real_request_kinds() -> frozenset[str]:
    """Request kinds the real batchUpdate accepts, read from googleapiclient's discovery document."""
    try:
        import googleapiclient

        path = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "sheets.v4.json"
        return frozenset(json.loads(path.read_text())["schemas"]["Request"]["properties"])
    except (ImportError, OSError, KeyError, ValueError):
        return frozenset()
