"""`SheetsFake`: spreadsheets, the endpoint, authentication and spreadsheets.get."""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from werkzeug.wrappers import Request, Response

from local.fakes.base import FakeService, JSONDict, json_response
from local.fakes.sheets.api import (
    DEFAULT_COLUMNS,
    DEFAULT_ROWS,
    MISSING_CREDENTIALS,
    SheetsApiError,
    google_error,
)
from local.fakes.sheets.cells import CellRequests, sheet_metadata
from local.fakes.sheets.formatting import FormattingRequests
from local.fakes.sheets.model import Sheet, Spreadsheet
from local.fakes.sheets.ranges import GridRange, _parse_cells, a1_cell
from local.fakes.sheets.requests import BatchUpdateRequests
from local.fakes.sheets.values import _read, _write
from local.fakes.sheets.values_api import ValuesEndpoints

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


class SheetsFake(BatchUpdateRequests, CellRequests, FormattingRequests, ValuesEndpoints, FakeService):
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
                            # What a manager sees: numbers through their formats (date-times as dates).
                            "formatted": _read(GridRange(sheet, 0, 0, None, None), "FORMATTED_VALUE", "ROWS"),
                            "formulas": {
                                a1_cell(r, c): cell.formula
                                for (r, c), cell in sorted(sheet.cells.items())
                                if cell.formula is not None
                            },
                            **sheet.formatting(),
                            "developerMetadata": sheet_metadata(spreadsheet, sheet),
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
            "sheets": [
                _sheet_resource(sheet, sheet_metadata(spreadsheet, sheet)) for sheet in spreadsheet.sheets
            ],
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{spreadsheet.spreadsheet_id}/edit",
        }


def _sheet_resource(sheet: Sheet, metadata: list[JSONDict]) -> JSONDict:
    """A Sheet as spreadsheets.get gives it: its properties, and its filter, conditional formats and
    developer metadata when it has them (the API leaves empty ones out)."""
    resource: JSONDict = {"properties": sheet.properties()}
    if sheet.basic_filter is not None:
        resource["basicFilter"] = sheet.basic_filter
    if sheet.conditional_formats:
        resource["conditionalFormats"] = sheet.conditional_formats
    if metadata:
        resource["developerMetadata"] = metadata
    return resource
