"""Fake of the Google Sheets API v4 REST surface the bot uses, for googleapiclient to run against.

Mirrors https://sheets.googleapis.com/v4/... as googleapiclient builds it from its static discovery document
(`sheets.v4.json`) when `client_options={"api_endpoint": "http://127.0.0.1:PORT/"}`:

    GET  /v4/spreadsheets/{id}                              spreadsheets.get
    POST /v4/spreadsheets/{id}:batchUpdate                  spreadsheets.batchUpdate (addSheet, deleteSheet,
                                                            updateSheetProperties, appendDimension,
                                                            deleteDimension)
    GET  /v4/spreadsheets/{id}/values/{range}               spreadsheets.values.get
    PUT  /v4/spreadsheets/{id}/values/{range}               spreadsheets.values.update
    POST /v4/spreadsheets/{id}/values/{range}:append        spreadsheets.values.append
    POST /v4/spreadsheets/{id}/values/{range}:clear         spreadsheets.values.clear
    GET  /v4/spreadsheets/{id}/values:batchGet              spreadsheets.values.batchGet
    POST /v4/spreadsheets/{id}/values:batchUpdate           spreadsheets.values.batchUpdate
    POST /v4/spreadsheets/{id}/values:batchClear            spreadsheets.values.batchClear

What it reproduces: Bearer auth (401 UNAUTHENTICATED), unknown spreadsheet (404 NOT_FOUND), A1 parsing and
"Unable to parse range", grid limits, RAW vs USER_ENTERED input (formulas, numbers, booleans, the leading
apostrophe), the three value render options, trimming of trailing empty cells/rows, the append "table"
search, INSERT_ROWS vs OVERWRITE, atomic batchUpdate, and Google's error JSON
`{"error": {"code", "message", "status"}}`.

What it cannot do: compute formulas. A formula cell renders as `FORMULA_PLACEHOLDER` under FORMATTED_VALUE and
UNFORMATTED_VALUE, and as its text under FORMULA; `formula_cells()` and the state dump list formula cells so a
test can prove the bot writes RAW. Dates, percentages and currencies typed as USER_ENTERED stay strings.
"""

from __future__ import annotations

import copy
import functools
import json
import random
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from local.fakes.base import FakeService, JSONDict, json_response

DEFAULT_ROWS = 1000
DEFAULT_COLUMNS = 26
MAX_CELL_CHARS = 50_000
#: What FORMATTED_VALUE / UNFORMATTED_VALUE return for a formula cell: the fake cannot calculate.
FORMULA_PLACEHOLDER = "#FAKE-FORMULA!"

VALUE_INPUT_OPTIONS = ("RAW", "USER_ENTERED")
RENDER_OPTIONS = ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA")
DIMENSIONS = ("ROWS", "COLUMNS")
INSERT_DATA_OPTIONS = ("OVERWRITE", "INSERT_ROWS")

# google.rpc.Code names, as Google puts them in the "status" field of an error.
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
DEFAULT_MESSAGES = {
    400: "Request contains an invalid argument.",
    401: (
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other"
        " valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
    ),
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    409: "The operation was aborted.",
    429: (
        "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user' of"
        " service 'sheets.googleapis.com' for consumer 'project_number:000000000000'."
    ),
    500: "Internal error encountered.",
    503: "The service is currently unavailable.",
    504: "The service is currently unavailable.",
}
MISSING_CREDENTIALS = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie"
    " or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
)

CellValue = str | int | float | bool


class SheetsApiError(Exception):
    """An error the fake answers in Google's format."""

    def __init__(self, code: int, message: str | None = None, details: list[JSONDict] | None = None) -> None:
        super().__init__(message or DEFAULT_MESSAGES.get(code, "error"))
        self.code = code
        self.message = message or DEFAULT_MESSAGES.get(code, "error")
        self.details = details


def google_error(code: int, message: str | None = None, details: list[JSONDict] | None = None) -> Response:
    error: JSONDict = {
        "code": code,
        "message": message or DEFAULT_MESSAGES.get(code, "Unknown error."),
        "status": STATUS_NAMES.get(code, "UNKNOWN"),
    }
    if details:
        error["details"] = details
    # Google serves errors as JSON with this exact content type.
    response = json_response({"error": error}, code)
    response.headers["Content-Type"] = "application/json; charset=UTF-8"
    return response


# ---- model -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    """A non-empty cell: its effective value, and the formula text when the cell is a formula."""

    value: CellValue
    formula: str | None = None


@dataclass
class Sheet:
    sheet_id: int
    title: str
    index: int
    rows: int = DEFAULT_ROWS
    columns: int = DEFAULT_COLUMNS
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)  # (row, col), zero-based

    def properties(self) -> JSONDict:
        return {
            "sheetId": self.sheet_id,
            "title": self.title,
            "index": self.index,
            "sheetType": "GRID",
            "gridProperties": {"rowCount": self.rows, "columnCount": self.columns},
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


def render(cell: Cell, option: str) -> CellValue:
    if cell.formula is not None:
        return cell.formula if option == "FORMULA" else FORMULA_PLACEHOLDER
    value = cell.value
    if option == "FORMATTED_VALUE":
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int | float):
            return _format_number(value)
    return value


def _read(rng: GridRange, option: str, dimension: str) -> list[list[CellValue]]:
    """Cells of a range as the API returns them: trailing empty cells and rows/columns dropped."""
    r0, c0, r1, c1 = rng.clipped()
    present = {(r, c): cell for (r, c), cell in rng.sheet.cells.items() if r0 <= r <= r1 and c0 <= c <= c1}
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
                    line[r - r0] = render(present[(r, col)], option)
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
                line[c - c0] = render(present[(row, c)], option)
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


# ---- the fake --------------------------------------------------------------------------------------------
SheetsConfig = Mapping[str, Iterable[str] | Mapping[str, Sequence[Sequence[Any]]] | None]

_SID = r"(?P<sid>[^/:]+)"
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(rf"^/v4/spreadsheets/{_SID}$"), "_get_spreadsheet"),
    ("POST", re.compile(rf"^/v4/spreadsheets/{_SID}:batchUpdate$"), "_batch_update"),
    ("GET", re.compile(rf"^/v4/spreadsheets/{_SID}/values:batchGet$"), "_values_batch_get"),
    ("POST", re.compile(rf"^/v4/spreadsheets/{_SID}/values:batchUpdate$"), "_values_batch_update"),
    ("POST", re.compile(rf"^/v4/spreadsheets/{_SID}/values:batchClear$"), "_values_batch_clear"),
    ("POST", re.compile(rf"^/v4/spreadsheets/{_SID}/values/(?P<a1>.+):append$"), "_values_append"),
    ("POST", re.compile(rf"^/v4/spreadsheets/{_SID}/values/(?P<a1>.+):clear$"), "_values_clear"),
    ("GET", re.compile(rf"^/v4/spreadsheets/{_SID}/values/(?P<a1>.+)$"), "_values_get"),
    ("PUT", re.compile(rf"^/v4/spreadsheets/{_SID}/values/(?P<a1>.+)$"), "_values_update"),
]


class SheetsFake(FakeService):
    """Stateful Google Sheets v4 fake.

    `spreadsheets` maps each known spreadsheet id to its sheets: a list of titles, or a mapping of title to
    initial rows (written as RAW). None or an empty list gives the real default: one sheet named "Sheet1".
    `tokens`, when given, are the only accepted Bearer tokens; otherwise any non-empty token is accepted.
    """

    name = "sheets"
    recorded_headers = ("Authorization", "Content-Type", "User-Agent", "X-Goog-Api-Client")

    def __init__(
        self,
        spreadsheets: SheetsConfig | None = None,
        *,
        tokens: Iterable[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._config: dict[str, Any] = {
            sid: (dict(sheets) if isinstance(sheets, Mapping) else list(sheets or []))
            for sid, sheets in (spreadsheets or {}).items()
        }
        self.tokens = set(tokens) if tokens is not None else None
        self._spreadsheets: dict[str, Spreadsheet] = {}
        self.reset_state()

    # ---- Python helpers --------------------------------------------------------------------------------
    def add_spreadsheet(
        self, spreadsheet_id: str, sheets: Iterable[str] | Mapping[str, Sequence[Sequence[Any]]] | None = None
    ) -> None:
        with self.lock:
            self._spreadsheets[spreadsheet_id] = self._build(spreadsheet_id, sheets)

    def add_sheet(
        self, spreadsheet_id: str, title: str, rows: int = DEFAULT_ROWS, columns: int = DEFAULT_COLUMNS
    ) -> int:
        """Add a sheet as a person would in the UI; returns its sheetId."""
        with self.lock:
            spreadsheet = self._spreadsheet(spreadsheet_id)
            if spreadsheet.sheet_by_title(title) is not None:
                raise ValueError(f"sheet {title!r} already exists")
            sheet = Sheet(spreadsheet.new_sheet_id(), title, len(spreadsheet.sheets), rows, columns)
            spreadsheet.sheets.append(sheet)
            return sheet.sheet_id

    def sheet_titles(self, spreadsheet_id: str) -> list[str]:
        with self.lock:
            return [sheet.title for sheet in self._spreadsheet(spreadsheet_id).sheets]

    def sheet_values(
        self, spreadsheet_id: str, title: str, render_option: str = "FORMULA"
    ) -> list[list[Any]]:
        """The whole sheet as values.get would return it (default: FORMULA, i.e. formulas as their text)."""
        with self.lock:
            sheet = self._sheet(spreadsheet_id, title)
            return _read(GridRange(sheet, 0, 0, None, None), render_option, "ROWS")

    def formula_cells(self, spreadsheet_id: str, title: str) -> dict[str, str]:
        """A1 address -> formula text of every formula cell (what USER_ENTERED made of "=...")."""
        with self.lock:
            sheet = self._sheet(spreadsheet_id, title)
            return {
                a1_cell(r, c): cell.formula
                for (r, c), cell in sorted(sheet.cells.items())
                if cell.formula is not None
            }

    def is_formula(self, spreadsheet_id: str, title: str, cell: str) -> bool:
        return cell.upper() in self.formula_cells(spreadsheet_id, title)

    def set_values(
        self,
        spreadsheet_id: str,
        title: str,
        values: Sequence[Sequence[Any]],
        start: str = "A1",
        *,
        value_input_option: str = "USER_ENTERED",
        clear: bool = False,
    ) -> None:
        """Simulate a manager: type `values` at `start` (USER_ENTERED, as in the UI).

        `clear` empties the sheet first: with the whole table re-written, that simulates a sort.
        Grows the grid if needed."""
        with self.lock:
            sheet = self._sheet(spreadsheet_id, title)
            parsed = _parse_cells(start)
            if parsed is None:
                raise ValueError(f"bad start cell {start!r}")
            r0, c0 = parsed[0], parsed[1]
            if clear:
                sheet.cells.clear()
            rows = [list(row) for row in values]
            sheet.rows = max(sheet.rows, r0 + len(rows))
            sheet.columns = max(sheet.columns, c0 + max((len(row) for row in rows), default=0))
            _write(sheet, r0, c0, rows, value_input_option)

    # ---- FakeService -------------------------------------------------------------------------------------
    def reset_state(self) -> None:
        self._spreadsheets = {sid: self._build(sid, sheets) for sid, sheets in self._config.items()}

    def dump_state(self) -> JSONDict:
        return {
            "spreadsheets": {
                sid: {
                    "title": spreadsheet.title,
                    "sheets": [
                        {
                            **sheet.properties(),
                            "values": _read(GridRange(sheet, 0, 0, None, None), "FORMULA", "ROWS"),
                            "formulas": {
                                a1_cell(r, c): cell.formula
                                for (r, c), cell in sorted(sheet.cells.items())
                                if cell.formula is not None
                            },
                        }
                        for sheet in spreadsheet.sheets
                    ],
                }
                for sid, spreadsheet in self._spreadsheets.items()
            }
        }

    def error_response(
        self, status: int, message: str | None = None, retry_after: int | None = None
    ) -> Response:
        details = None
        if status == 429:
            details = [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "RATE_LIMIT_EXCEEDED",
                    "domain": "googleapis.com",
                    "metadata": {
                        "service": "sheets.googleapis.com",
                        "quota_limit": "WriteRequestsPerMinutePerUser",
                    },
                }
            ]
        response = google_error(status, message, details)
        # Sheets sends no Retry-After on 429 (clients back off exponentially); only when a test asks for one.
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response

    def handle(self, request: Request) -> Response:
        try:
            self._authenticate(request)
            for method, pattern, handler_name in _ROUTES:
                match = pattern.match(request.path)
                if match and request.method == method:
                    spreadsheet = self._spreadsheets.get(match.group("sid"))
                    if spreadsheet is None:
                        raise SheetsApiError(404)
                    handler = getattr(self, handler_name)
                    params = {k: v for k, v in match.groupdict().items() if k != "sid"}
                    return json_response(handler(request, spreadsheet, **params))
            raise SheetsApiError(404, f"The requested URL {request.path} was not found on this server.")
        except SheetsApiError as exc:
            return (
                self.error_response(exc.code, exc.message)
                if not exc.details
                else google_error(exc.code, exc.message, exc.details)
            )

    # ---- internals -------------------------------------------------------------------------------------
    def _build(self, spreadsheet_id: str, sheets: Any) -> Spreadsheet:
        rng = random.Random(spreadsheet_id)
        spreadsheet = Spreadsheet(spreadsheet_id, f"Fake spreadsheet {spreadsheet_id}", [], rng)
        initial: Mapping[str, Sequence[Sequence[Any]]]
        if isinstance(sheets, Mapping):
            initial = sheets
        else:
            initial = {title: [] for title in (sheets or [])}
        if not initial:
            initial = {"Sheet1": []}
        for index, (title, rows) in enumerate(initial.items()):
            # The first sheet of a new spreadsheet has id 0, like a spreadsheet created in the UI.
            sheet_id = 0 if index == 0 else spreadsheet.new_sheet_id()
            sheet = Sheet(sheet_id, title, index)
            sheet.rows = max(sheet.rows, len(rows))
            sheet.columns = max(sheet.columns, max((len(row) for row in rows), default=0))
            _write(sheet, 0, 0, [list(row) for row in rows], "RAW")
            spreadsheet.sheets.append(sheet)
        return spreadsheet

    def _spreadsheet(self, spreadsheet_id: str) -> Spreadsheet:
        try:
            return self._spreadsheets[spreadsheet_id]
        except KeyError:
            raise KeyError(f"unknown spreadsheet {spreadsheet_id!r}") from None

    def _sheet(self, spreadsheet_id: str, title: str) -> Sheet:
        sheet = self._spreadsheet(spreadsheet_id).sheet_by_title(title)
        if sheet is None:
            raise KeyError(f"unknown sheet {title!r} in {spreadsheet_id!r}")
        return sheet

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        token = token or request.args.get("access_token", "")
        if not token:
            raise SheetsApiError(
                401,
                MISSING_CREDENTIALS,
                [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "CREDENTIALS_MISSING",
                        "domain": "googleapis.com",
                        "metadata": {"service": "sheets.googleapis.com"},
                    }
                ],
            )
        if self.tokens is not None and token not in self.tokens:
            raise SheetsApiError(401)

    @contextmanager
    def _transaction(self, spreadsheet: Spreadsheet) -> Iterator[None]:
        """Requests that change data are all-or-nothing, like the real batch endpoints."""
        saved = copy.deepcopy(spreadsheet.sheets)
        try:
            yield
        except BaseException:
            spreadsheet.sheets[:] = saved
            raise

    @staticmethod
    def _json_body(request: Request) -> JSONDict:
        body = request.get_json(silent=True)
        if body is None and request.get_data(cache=True):
            raise SheetsApiError(400, "Invalid JSON payload received. Unexpected token.")
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise SheetsApiError(400, "Invalid JSON payload received. Expected an object.")
        return body

    # spreadsheets.get
    def _get_spreadsheet(self, request: Request, spreadsheet: Spreadsheet) -> JSONDict:
        return {
            "spreadsheetId": spreadsheet.spreadsheet_id,
            "properties": {
                "title": spreadsheet.title,
                "locale": "en_US",
                "autoRecalc": "ON_CHANGE",
                "timeZone": "Etc/GMT",
            },
            "sheets": [{"properties": sheet.properties()} for sheet in spreadsheet.sheets],
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{spreadsheet.spreadsheet_id}/edit",
        }

    # spreadsheets.batchUpdate
    def _batch_update(self, request: Request, spreadsheet: Spreadsheet) -> JSONDict:
        body = self._json_body(request)
        requests = body.get("requests")
        if not isinstance(requests, list) or not requests:
            raise SheetsApiError(400, "Must specify at least one request.")
        replies: list[JSONDict] = []
        with self._transaction(spreadsheet):
            for i, item in enumerate(requests):
                if not isinstance(item, dict) or len(item) != 1:
                    raise SheetsApiError(
                        400, f"Invalid requests[{i}]: exactly one kind of request is required."
                    )
                ((kind, spec),) = item.items()
                handler = getattr(self, f"_request_{_snake(kind)}", None)
                if handler is None and kind in _real_request_kinds():
                    raise SheetsApiError(
                        501, f"Invalid requests[{i}]: the fake does not implement '{kind}' yet"
                    )
                if handler is None:
                    raise SheetsApiError(
                        400,
                        f"Invalid JSON payload received. Unknown name \"{kind}\" at 'requests[{i}]':"
                        " Cannot find field.",
                    )
                try:
                    replies.append(handler(spreadsheet, spec if isinstance(spec, dict) else {}))
                except SheetsApiError as exc:
                    raise SheetsApiError(exc.code, f"Invalid requests[{i}].{kind}: {exc.message}") from None
        out: JSONDict = {"spreadsheetId": spreadsheet.spreadsheet_id, "replies": replies}
        if body.get("includeSpreadsheetInResponse"):
            out["updatedSpreadsheet"] = self._get_spreadsheet(request, spreadsheet)
        return out

    def _request_add_sheet(self, spreadsheet: Spreadsheet, spec: JSONDict) -> JSONDict:
        props = spec.get("properties") or {}
        title = props.get("title")
        if title is None:
            n = len(spreadsheet.sheets) + 1
            while spreadsheet.sheet_by_title(f"Sheet{n}") is not None:
                n += 1
            title = f"Sheet{n}"
        if not isinstance(title, str) or not title.strip():
            raise SheetsApiError(400, "The sheet name cannot be empty.")
        if any(sheet.title.lower() == title.lower() for sheet in spreadsheet.sheets):
            raise SheetsApiError(
                400, f'A sheet with the name "{title}" already exists. Please enter another name.'
            )
        sheet_id = props.get("sheetId")
        if sheet_id is None:
            sheet_id = spreadsheet.new_sheet_id()
        elif spreadsheet.sheet_by_id(sheet_id) is not None:
            raise SheetsApiError(400, f"Sheet with id {sheet_id} already exists.")
        grid = props.get("gridProperties") or {}
        index = props.get("index", len(spreadsheet.sheets))
        index = max(0, min(int(index), len(spreadsheet.sheets)))
        for other in spreadsheet.sheets:
            if other.index >= index:
                other.index += 1
        sheet = Sheet(
            int(sheet_id),
            title,
            index,
            int(grid.get("rowCount", DEFAULT_ROWS)),
            int(grid.get("columnCount", DEFAULT_COLUMNS)),
        )
        spreadsheet.sheets.append(sheet)
        spreadsheet.reindex()
        return {"addSheet": {"properties": sheet.properties()}}

    def _request_delete_sheet(self, spreadsheet: Spreadsheet, spec: JSONDict) -> JSONDict:
        sheet = spreadsheet.sheet_by_id(spec.get("sheetId", -1))
        if sheet is None:
            raise SheetsApiError(400, f"No grid with id: {spec.get('sheetId')}")
        if len(spreadsheet.sheets) == 1:
            raise SheetsApiError(400, "You can't remove all the sheets in a document.")
        spreadsheet.sheets.remove(sheet)
        spreadsheet.reindex()
        return {}

    def _request_update_sheet_properties(self, spreadsheet: Spreadsheet, spec: JSONDict) -> JSONDict:
        props = spec.get("properties") or {}
        fields = spec.get("fields")
        if not fields:
            raise SheetsApiError(400, "At least one field must be updated with 'fields'.")
        sheet = spreadsheet.sheet_by_id(props.get("sheetId", 0))
        if sheet is None:
            raise SheetsApiError(400, f"No grid with id: {props.get('sheetId', 0)}")
        wanted = {f.strip() for f in fields.split(",")}
        grid = props.get("gridProperties") or {}
        if "*" in wanted or "title" in wanted:
            title = props.get("title", "")
            if any(s.title.lower() == title.lower() and s is not sheet for s in spreadsheet.sheets):
                raise SheetsApiError(
                    400, f'A sheet with the name "{title}" already exists. Please enter another name.'
                )
            sheet.title = title
        if "*" in wanted or "gridProperties" in wanted or "gridProperties.rowCount" in wanted:
            sheet.rows = int(grid.get("rowCount", sheet.rows))
        if "*" in wanted or "gridProperties" in wanted or "gridProperties.columnCount" in wanted:
            sheet.columns = int(grid.get("columnCount", sheet.columns))
        # Shrinking the grid drops the cells outside it, as in the real sheet.
        sheet.cells = {(r, c): v for (r, c), v in sheet.cells.items() if r < sheet.rows and c < sheet.columns}
        return {}

    def _request_append_dimension(self, spreadsheet: Spreadsheet, spec: JSONDict) -> JSONDict:
        sheet = spreadsheet.sheet_by_id(spec.get("sheetId", 0))
        if sheet is None:
            raise SheetsApiError(400, f"No grid with id: {spec.get('sheetId', 0)}")
        length = int(spec.get("length", 0))
        if length <= 0:
            raise SheetsApiError(400, "length must be greater than 0")
        if spec.get("dimension") == "COLUMNS":
            sheet.columns += length
        elif spec.get("dimension") == "ROWS":
            sheet.rows += length
        else:
            raise SheetsApiError(400, "dimension must be ROWS or COLUMNS")
        return {}

    def _request_delete_dimension(self, spreadsheet: Spreadsheet, spec: JSONDict) -> JSONDict:
        """Remove rows or columns [startIndex, endIndex); the cells below/right move up/left."""
        rng = spec.get("range") or {}
        sheet = spreadsheet.sheet_by_id(rng.get("sheetId", 0))
        if sheet is None:
            raise SheetsApiError(400, f"No grid with id: {rng.get('sheetId', 0)}")
        start, end = int(rng.get("startIndex", 0)), int(rng.get("endIndex", 0))
        dimension = rng.get("dimension")
        limit = sheet.rows if dimension == "ROWS" else sheet.columns
        if dimension not in ("ROWS", "COLUMNS"):
            raise SheetsApiError(400, "dimension must be ROWS or COLUMNS")
        if not 0 <= start < end <= limit:
            raise SheetsApiError(400, f"Invalid range: startIndex {start}, endIndex {end}")
        if end - start >= limit:
            raise SheetsApiError(400, "You can't delete all the rows on the sheet.")
        count = end - start
        moved: dict[tuple[int, int], Cell] = {}
        for (r, c), value in sheet.cells.items():
            index = r if dimension == "ROWS" else c
            if start <= index < end:
                continue
            shift = count if index >= end else 0
            moved[(r - shift, c) if dimension == "ROWS" else (r, c - shift)] = value
        sheet.cells = moved
        if dimension == "ROWS":
            sheet.rows -= count
        else:
            sheet.columns -= count
        return {}

    # values.get / values.batchGet
    def _read_response(self, spreadsheet: Spreadsheet, text: str, request: Request) -> JSONDict:
        option = _check_option(
            "valueRenderOption", request.args.get("valueRenderOption"), RENDER_OPTIONS, "FORMATTED_VALUE"
        )
        dimension = _check_option("majorDimension", request.args.get("majorDimension"), DIMENSIONS, "ROWS")
        rng = parse_range(spreadsheet, text)
        rng.check_grid()
        out: JSONDict = {"range": rng.a1(), "majorDimension": dimension}
        values = _read(rng, option, dimension)
        if values:
            out["values"] = values
        return out

    def _values_get(self, request: Request, spreadsheet: Spreadsheet, a1: str) -> JSONDict:
        return self._read_response(spreadsheet, a1, request)

    def _values_batch_get(self, request: Request, spreadsheet: Spreadsheet) -> JSONDict:
        ranges = request.args.getlist("ranges")
        out: JSONDict = {"spreadsheetId": spreadsheet.spreadsheet_id}
        if ranges:
            out["valueRanges"] = [self._read_response(spreadsheet, text, request) for text in ranges]
        return out

    # values.update / values.batchUpdate
    def _update_one(
        self, spreadsheet: Spreadsheet, text: str, value_range: Any, option: str, where: str
    ) -> _Written:
        rng = parse_range(spreadsheet, text)
        body_range = value_range.get("range") if isinstance(value_range, dict) else None
        if body_range and where == "body":
            other = parse_range(spreadsheet, body_range)
            if other.key() != rng.key():
                raise SheetsApiError(
                    400,
                    f"Requested writing within range [{text}], but the body's range [{body_range}] differs.",
                )
        values = _matrix(value_range, where)
        height = len(values)
        width = max((len(row) for row in values), default=0)
        if rng.single_cell:
            # A single cell is only the anchor of the write: the values may extend right and down from it.
            rng = GridRange(rng.sheet, rng.start_row, rng.start_col, None, None)
        if rng.end_row is not None and height and rng.start_row + height - 1 > rng.end_row:
            raise SheetsApiError(
                400,
                f"Requested writing within range [{text}],"
                f" but tried writing to row [{rng.start_row + height}]",
            )
        if rng.end_col is not None and width and rng.start_col + width - 1 > rng.end_col:
            raise SheetsApiError(
                400,
                f"Requested writing within range [{text}], but tried writing to column "
                f"[{column_letters(rng.start_col + width - 1)}]",
            )
        if height and width:
            r1, c1 = rng.start_row + height - 1, rng.start_col + width - 1
            if r1 >= rng.sheet.rows or c1 >= rng.sheet.columns:
                raise grid_limit_error(rng.sheet, rng.start_row, rng.start_col, r1, c1)
        written = _write(rng.sheet, rng.start_row, rng.start_col, values, option)
        if not (height and width):
            written.rows, written.columns = 0, 0
        return written

    def _with_values(
        self, out: JSONDict, request_flags: Mapping[str, Any], written: _Written, key: str = "updatedData"
    ) -> JSONDict:
        if str(request_flags.get("includeValuesInResponse", "")).lower() == "true" and written.rows:
            option = request_flags.get("responseValueRenderOption") or "FORMATTED_VALUE"
            rng = GridRange(
                written.sheet,
                written.r0,
                written.c0,
                written.r0 + written.rows - 1,
                written.c0 + written.columns - 1,
            )
            data: JSONDict = {"range": rng.a1(), "majorDimension": "ROWS"}
            values = _read(rng, option, "ROWS")
            if values:
                data["values"] = values
            out[key] = data
        return out

    def _values_update(self, request: Request, spreadsheet: Spreadsheet, a1: str) -> JSONDict:
        option = _check_option(
            "valueInputOption", request.args.get("valueInputOption"), VALUE_INPUT_OPTIONS, None
        )
        body = self._json_body(request)
        with self._transaction(spreadsheet):
            written = self._update_one(spreadsheet, a1, body, option, "body")
        return self._with_values(written.response(spreadsheet.spreadsheet_id), request.args, written)

    def _values_batch_update(self, request: Request, spreadsheet: Spreadsheet) -> JSONDict:
        body = self._json_body(request)
        option = _check_option("valueInputOption", body.get("valueInputOption"), VALUE_INPUT_OPTIONS, None)
        data = body.get("data") or []
        if not isinstance(data, list):
            raise SheetsApiError(400, "Invalid JSON payload received. 'data' must be a list.")
        responses: list[JSONDict] = []
        sheets: set[int] = set()
        totals = {"rows": 0, "columns": 0, "cells": 0}
        with self._transaction(spreadsheet):
            for i, value_range in enumerate(data):
                if not isinstance(value_range, dict) or not value_range.get("range"):
                    raise SheetsApiError(400, f"Invalid data[{i}]: No range specified.")
                try:
                    written = self._update_one(
                        spreadsheet, value_range["range"], value_range, option, f"data[{i}]"
                    )
                except SheetsApiError as exc:
                    raise SheetsApiError(exc.code, f"Invalid data[{i}]: {exc.message}") from None
                responses.append(
                    self._with_values(written.response(spreadsheet.spreadsheet_id), body, written)
                )
                if written.cells:
                    sheets.add(written.sheet.sheet_id)
                totals["rows"] += written.rows
                totals["columns"] += written.columns
                totals["cells"] += written.cells
        out: JSONDict = {"spreadsheetId": spreadsheet.spreadsheet_id}
        if totals["cells"]:
            out.update(
                totalUpdatedRows=totals["rows"],
                totalUpdatedColumns=totals["columns"],
                totalUpdatedCells=totals["cells"],
                totalUpdatedSheets=len(sheets),
            )
        if responses:
            out["responses"] = responses
        return out

    # values.append
    def _values_append(self, request: Request, spreadsheet: Spreadsheet, a1: str) -> JSONDict:
        option = _check_option(
            "valueInputOption", request.args.get("valueInputOption"), VALUE_INPUT_OPTIONS, None
        )
        insert = _check_option(
            "insertDataOption", request.args.get("insertDataOption"), INSERT_DATA_OPTIONS, "OVERWRITE"
        )
        body = self._json_body(request)
        rng = parse_range(spreadsheet, a1)
        values = _matrix(body, "body")
        sheet = rng.sheet
        # The range only says where to look for a "table": a single cell means "the table around here".
        r0, c0 = rng.start_row, rng.start_col
        last_row = sheet.rows - 1 if rng.end_row is None or rng.single_cell else rng.end_row
        last_col = sheet.columns - 1 if rng.end_col is None or rng.single_cell else rng.end_col
        by_row: dict[int, list[int]] = {}
        for r, c in sheet.cells:
            if r0 <= r <= last_row and c0 <= c <= last_col:
                by_row.setdefault(r, []).append(c)
        table: tuple[int, int, int, int] | None = None
        if by_row:
            # The table starts at the first row with data and runs while rows are non-empty: a blank row ends
            # it, so data below a gap gets overwritten (the real API's well-known surprise).
            top = min(by_row)
            bottom = top
            while bottom + 1 in by_row:
                bottom += 1
            cols = [c for r in range(top, bottom + 1) for c in by_row[r]]
            table = (top, min(cols), bottom, max(cols))
        target_row = table[2] + 1 if table else r0
        target_col = table[1] if table else c0
        height = len(values)
        width = max((len(row) for row in values), default=0)
        out: JSONDict = {"spreadsheetId": spreadsheet.spreadsheet_id}
        if table:
            out["tableRange"] = format_range(sheet, *table)
        with self._transaction(spreadsheet):
            if insert == "INSERT_ROWS" and height:
                sheet.cells = {
                    ((r + height if r >= target_row else r), c): cell for (r, c), cell in sheet.cells.items()
                }
                sheet.rows += height
            # Appending past the grid grows it (rows and columns), unlike values.update.
            sheet.rows = max(sheet.rows, target_row + height)
            sheet.columns = max(sheet.columns, target_col + width)
            written = _write(sheet, target_row, target_col, values, option)
        if not (height and width):
            written.rows, written.columns = 0, 0
        out["updates"] = self._with_values(
            written.response(spreadsheet.spreadsheet_id), request.args, written
        )
        return out

    # values.clear / values.batchClear
    def _clear(self, spreadsheet: Spreadsheet, text: str) -> str:
        rng = parse_range(spreadsheet, text)
        rng.check_grid()
        r0, c0, r1, c1 = rng.clipped()
        rng.sheet.cells = {
            (r, c): cell for (r, c), cell in rng.sheet.cells.items() if not (r0 <= r <= r1 and c0 <= c <= c1)
        }
        return rng.a1()

    def _values_clear(self, request: Request, spreadsheet: Spreadsheet, a1: str) -> JSONDict:
        with self._transaction(spreadsheet):
            cleared = self._clear(spreadsheet, a1)
        return {"spreadsheetId": spreadsheet.spreadsheet_id, "clearedRange": cleared}

    def _values_batch_clear(self, request: Request, spreadsheet: Spreadsheet) -> JSONDict:
        ranges = self._json_body(request).get("ranges") or []
        with self._transaction(spreadsheet):
            cleared = [self._clear(spreadsheet, text) for text in ranges]
        out: JSONDict = {"spreadsheetId": spreadsheet.spreadsheet_id}
        if cleared:
            out["clearedRanges"] = cleared
        return out
