"""A1 notation: ranges parsed and formatted as the real API does, with its errors."""

from __future__ import annotations

import re
from dataclasses import dataclass

from local.fakes.sheets.api import SheetsApiError
from local.fakes.sheets.model import Sheet, Spreadsheet

# ---- A1 notation -----------------------------------------------------------------------------------------
_ENDPOINT = re.compile(r"^([A-Za-z]{1,3})?([1-9][0-9]{0,6})?$")
_PLAIN_TITLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CELL_LIKE = re.compile(r"^([A-Za-z]{1,3}[0-9]+|[Rr][0-9]*[Cc][0-9]*)$")


def column_letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def column_index(letters: str) -> int:
    value = 0
    for char in letters.upper():
        value = value * 26 + ord(char) - ord("A") + 1
    return value - 1


def a1_cell(row: int, col: int) -> str:
    return f"{column_letters(col)}{row + 1}"


def quote_title(title: str) -> str:
    """Sheet name as Google writes it in a range: bare when it is a plain identifier, else quoted."""
    if _PLAIN_TITLE.match(title) and not _CELL_LIKE.match(title):
        return title
    return "'" + title.replace("'", "''") + "'"


@dataclass(frozen=True, eq=False)
class GridRange:
    """A rectangle on one sheet; `end_*` None means "to the edge of the grid". Zero-based, inclusive."""

    sheet: Sheet
    start_row: int
    start_col: int
    end_row: int | None
    end_col: int | None

    def key(self) -> tuple[int, int, int, int | None, int | None]:
        return (id(self.sheet), self.start_row, self.start_col, self.end_row, self.end_col)

    @property
    def single_cell(self) -> bool:
        return self.start_row == self.end_row and self.start_col == self.end_col

    def clipped(self) -> tuple[int, int, int, int]:
        end_row = self.sheet.rows - 1 if self.end_row is None else self.end_row
        end_col = self.sheet.columns - 1 if self.end_col is None else self.end_col
        return self.start_row, self.start_col, end_row, end_col

    def a1(self) -> str:
        return format_range(self.sheet, *self.clipped())

    def check_grid(self) -> None:
        r0, c0, r1, c1 = self.clipped()
        if (
            r0 >= self.sheet.rows
            or c0 >= self.sheet.columns
            or r1 >= self.sheet.rows
            or c1 >= self.sheet.columns
        ):
            raise grid_limit_error(self.sheet, r0, c0, r1, c1)


def format_range(sheet: Sheet, r0: int, c0: int, r1: int, c1: int) -> str:
    cells = a1_cell(r0, c0) if (r0, c0) == (r1, c1) else f"{a1_cell(r0, c0)}:{a1_cell(r1, c1)}"
    return f"{quote_title(sheet.title)}!{cells}"


def grid_limit_error(sheet: Sheet, r0: int, c0: int, r1: int, c1: int) -> SheetsApiError:
    cells = a1_cell(r0, c0) if (r0, c0) == (r1, c1) else f"{a1_cell(r0, c0)}:{a1_cell(r1, c1)}"
    title = sheet.title.replace("'", "''")
    return SheetsApiError(
        400,
        f"Range ('{title}'!{cells}) exceeds grid limits."
        f" Max rows: {sheet.rows}, max columns: {sheet.columns}",
    )


def _parse_cells(text: str) -> tuple[int, int, int | None, int | None] | None:
    """The part after `!`: `A1`, `A1:C5`, `A:A`, `1:1`, `A2:Z`. None when it is not A1 notation."""
    parts = text.split(":")
    if len(parts) == 1:
        match = _ENDPOINT.match(parts[0])
        if not match or not match.group(1) or not match.group(2):
            return None  # a lone "A" or "1" is not a range
        row, col = int(match.group(2)) - 1, column_index(match.group(1))
        return row, col, row, col
    if len(parts) != 2:
        return None
    start, end = (_ENDPOINT.match(part) for part in parts)
    if not start or not end or not parts[0] or not parts[1]:
        return None
    start_row = int(start.group(2)) - 1 if start.group(2) else 0
    start_col = column_index(start.group(1)) if start.group(1) else 0
    end_row = int(end.group(2)) - 1 if end.group(2) else None
    end_col = column_index(end.group(1)) if end.group(1) else None
    if start.group(1) and not end.group(1) and end.group(2) and not start.group(2):
        return None  # "A:5" mixes a column with a row
    if end_row is not None and end_row < start_row:
        start_row, end_row = end_row, start_row
    if end_col is not None and end_col < start_col:
        start_col, end_col = end_col, start_col
    return start_row, start_col, end_row, end_col


def parse_range(spreadsheet: Spreadsheet, text: str) -> GridRange:
    """Resolve an A1 range against a spreadsheet; 400 "Unable to parse range" like the real API."""
    error = SheetsApiError(400, f"Unable to parse range: {text}")
    raw = text.strip()
    title: str | None
    cells: str | None
    if raw.startswith("'"):
        i, chars = 1, []
        while True:
            if i >= len(raw):
                raise error
            if raw[i] == "'":
                if raw[i + 1 : i + 2] == "'":
                    chars.append("'")
                    i += 2
                    continue
                break
            chars.append(raw[i])
            i += 1
        title = "".join(chars)
        rest = raw[i + 1 :]
        if rest == "":
            cells = None
        elif rest.startswith("!") and len(rest) > 1:
            cells = rest[1:]
        else:
            raise error
    elif "!" in raw:
        title, _, cells = raw.rpartition("!")
        if not cells:
            raise error
    else:
        sheet = spreadsheet.sheet_by_title(raw)
        if sheet is not None:
            return GridRange(sheet, 0, 0, None, None)
        # No sheet name: A1 notation on the first sheet.
        parsed = _parse_cells(raw)
        if parsed is None or not spreadsheet.sheets:
            raise error
        return GridRange(spreadsheet.sheets[0], *parsed)
    sheet = spreadsheet.sheet_by_title(title)
    if sheet is None:
        raise error
    if cells is None:
        return GridRange(sheet, 0, 0, None, None)
    parsed = _parse_cells(cells)
    if parsed is None:
        raise error
    return GridRange(sheet, *parsed)
