"""The CRM on Google Sheets (google-api-python-client).

Rows are found by `lead_id` and columns by header name on every operation: managers sort, insert rows
and reorder columns. Values are written RAW so a name like `=HYPERLINK(...)` stays text. Each public
operation is retried as a whole (re-reading the sheet), so a write whose answer was lost is found on the
retry instead of being appended twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from googleapiclient.errors import HttpError

from shared.adapters.google_api import RETRYABLE_STATUSES, call_with_retries
from shared.domain.crm_layout import MANAGER_COLUMNS, is_laid_out, layout_requests, own_rules
from shared.domain.leads import LEAD_COLUMNS, LOG_COLUMNS, CellValue, cell
from shared.ports import CrmRecord, CrmUnavailable, LogEntry, RowChange

log = logging.getLogger(__name__)
T = TypeVar("T")


class CrmError(Exception):
    """The sheet refused the request (4xx other than 429): a retry will not fix it."""


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def quote_sheet(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


@dataclass
class _Table:
    header: list[str]
    rows: list[list[Any]]  # data rows; rows[i] is sheet row i + 2

    def column(self, name: str) -> int:
        return self.header.index(name)

    def find(self, lead_id: str) -> list[int]:
        """Indexes into `rows` of every row holding this lead_id."""
        key = self.column("lead_id")
        return [i for i, row in enumerate(self.rows) if len(row) > key and str(row[key]) == lead_id]

    def record(self, index: int) -> CrmRecord:
        row = self.rows[index]
        return CrmRecord(
            {name: str(row[i]) if i < len(row) else "" for i, name in enumerate(self.header) if name}
        )


class SheetsCrm:
    def __init__(
        self,
        service_factory: Callable[[], Any],
        spreadsheet_id: str,
        *,
        leads_sheet: str = "Leads",
        log_sheet: str = "Log",
        retries: int = 3,
        backoff_seconds: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        timezone: str = "UTC",
    ) -> None:
        self._service_factory = service_factory
        self._sheets: Any = None  # spreadsheets() resource, built once: each build costs ~20 MB and ~30 ms
        self._values_resource: Any = None
        self._spreadsheet = spreadsheet_id
        self._zone = ZoneInfo(timezone)  # the Log's times are the academy's: what managers read
        self._leads = leads_sheet
        self._log = log_sheet
        self._retries = retries
        self._backoff = backoff_seconds
        self._sleep = sleep
        # httplib2 connections are not thread-safe and functions-framework serves requests on threads.
        self._lock = threading.RLock()
        self._log_ready = False
        self._header: list[str] | None = None  # the Leads header as last read (the batched writer's)
        self._laid_out_for: tuple[str, ...] | None = None  # the header the layout was checked for
        self.calls = 0  # API requests made: the benchmark reports calls per lead

    # ---- port ----------------------------------------------------------------------------------
    def read_all(self) -> list[CrmRecord]:
        def read() -> list[CrmRecord]:
            table = self._read_table()
            return [table.record(index) for index in range(len(table.rows))]

        return self._retrying(read, "read_all")

    def replace_sheet(self, title: str, rows: Sequence[Sequence[CellValue]]) -> None:
        """Two requests (clear, then write); three the first time (the sheet is added)."""

        def replace() -> None:
            try:
                self._execute(self._values().clear(spreadsheetId=self._spreadsheet, range=quote_sheet(title)))
            except HttpError as exc:
                if not _is_missing_sheet(exc):
                    raise
                self._add_sheet(title, None)
            self._execute(
                self._values().update(
                    spreadsheetId=self._spreadsheet,
                    range=f"{quote_sheet(title)}!A1",
                    valueInputOption="RAW",
                    body={"values": [list(row) for row in rows]},
                )
            )

        self._retrying(replace, "replace_sheet")

    def read_lead(self, lead_id: str) -> CrmRecord | None:
        def read() -> CrmRecord | None:
            table = self._read_table()
            found = table.find(lead_id)
            return table.record(found[0]) if found else None

        return self._retrying(read, "read_lead")

    def write_lead(
        self, lead_id: str, values: Mapping[str, CellValue], new_row: Mapping[str, CellValue]
    ) -> CrmRecord | None:
        def write() -> CrmRecord | None:
            table = self._read_table()
            found = table.find(lead_id)
            if not found:
                row = [cell(new_row.get(name, "")) if name else "" for name in table.header]
                self._execute(
                    self._values().append(
                        spreadsheetId=self._spreadsheet,
                        range=f"{quote_sheet(self._leads)}!A1",
                        valueInputOption="RAW",
                        insertDataOption="INSERT_ROWS",
                        body={"values": [row]},
                    )
                )
                return None
            if len(found) > 1:
                self._delete_rows(found[1:])  # a lost answer's write that landed late: keep one row
            before = table.record(found[0])
            sheet_row = found[0] + 2
            data = [
                {
                    "range": f"{quote_sheet(self._leads)}!{column_letter(table.column(name))}{sheet_row}",
                    "values": [[cell(value)]],
                }
                for name, value in values.items()
                if name in table.header
            ]
            if data:
                self._execute(
                    self._values().batchUpdate(
                        spreadsheetId=self._spreadsheet, body={"valueInputOption": "RAW", "data": data}
                    )
                )
            return before

        return self._retrying(write, "write_lead")

    def write_rows(self, changes: Sequence[RowChange]) -> dict[str, CrmRecord | None]:
        """The batched writer: one read of the header, lead_id and status columns (the header is cached
        per instance; a changed one is read again), one update of every existing row's cells, one append
        of every new row. Never the whole sheet: managers' own columns are neither read nor written."""

        title = quote_sheet(self._leads)

        def write() -> dict[str, CrmRecord | None]:
            header, ids, statuses = self._id_columns()
            where: dict[str, list[int]] = {}
            for index, value in enumerate(ids):
                where.setdefault(value, []).append(index)
            data: list[dict[str, Any]] = []
            appended: list[list[CellValue]] = []
            before: dict[str, CrmRecord | None] = {}
            duplicates: list[int] = []
            for change in changes:
                found = where.get(change.lead_id)
                if not found:
                    appended.append([cell(change.new_row.get(name, "")) if name else "" for name in header])
                    before[change.lead_id] = None
                    continue
                duplicates += found[1:]
                row = found[0]
                status = statuses[row] if row < len(statuses) else ""
                before[change.lead_id] = CrmRecord({"lead_id": change.lead_id, "status": status})
                data += [
                    {
                        "range": f"{title}!{column_letter(header.index(name))}{row + 2}",
                        "values": [[cell(value)]],
                    }
                    for name, value in change.values.items()
                    if name in header
                ]
            if data:
                self._execute(
                    self._values().batchUpdate(
                        spreadsheetId=self._spreadsheet, body={"valueInputOption": "RAW", "data": data}
                    )
                )
            if appended:
                self._execute(
                    self._values().append(
                        spreadsheetId=self._spreadsheet,
                        range=f"{quote_sheet(self._leads)}!A1",
                        valueInputOption="RAW",
                        insertDataOption="INSERT_ROWS",
                        body={"values": appended},
                    )
                )
            if duplicates:
                self._delete_rows(duplicates)  # a lost answer's write that landed late: keep one row
            return before

        return self._retrying(write, "write_rows") if changes else {}

    def _id_columns(self, fresh: bool = False) -> tuple[list[str], list[str], list[str]]:
        """The header, and the lead_id and status of every data row, in one request."""
        # First use (or a header that changed): read it whole, which also creates the sheet or columns.
        header = self._header if self._header and not fresh else self._read_table().header
        id_col, status_col = column_letter(header.index("lead_id")), column_letter(header.index("status"))
        title = quote_sheet(self._leads)
        response = self._execute(
            self._values().batchGet(
                spreadsheetId=self._spreadsheet,
                ranges=[f"{title}!1:1", f"{title}!{id_col}2:{id_col}", f"{title}!{status_col}2:{status_col}"],
                majorDimension="COLUMNS",
            )
        )
        ranges = response.get("valueRanges", [])
        current = [str(name).strip() for name in _first_row_from_columns(ranges[0] if ranges else {})]
        if current != header:  # managers moved or deleted columns since: read it again, once
            self._header = None
            if fresh:
                raise CrmUnavailable("the Leads header changed while it was read; try again")
            return self._id_columns(fresh=True)
        self._header = header
        if self._laid_out_for != tuple(header):
            self._lay_out(header)
        return header, _column(ranges, 1), _column(ranges, 2)

    def _lay_out(self, header: list[str]) -> None:
        """Once per instance and header: the sheet explains itself (crm_layout): one read of its
        properties, and one batchUpdate when the layout is missing or the header moved. Best effort: a
        sheet the layout cannot be put on still gets its rows."""
        try:
            meta = self._execute(
                self._spreadsheets().get(
                    spreadsheetId=self._spreadsheet,
                    fields="sheets(properties(sheetId,title,gridProperties),basicFilter,conditionalFormats)",
                )
            )
            sheet = next(s for s in meta.get("sheets", []) if s["properties"]["title"] == self._leads)
            if not is_laid_out(sheet, header):
                requests = layout_requests(sheet["properties"]["sheetId"], header, len(own_rules(sheet)))
                self._execute(
                    self._spreadsheets().batchUpdate(
                        spreadsheetId=self._spreadsheet, body={"requests": requests}
                    )
                )
                log.info("crm sheet laid out", extra={"columns": len(header)})
        except (HttpError, StopIteration, KeyError) as exc:
            log.warning("crm sheet layout not applied", extra={"reason": str(exc)[:200]})
        self._laid_out_for = tuple(header)

    def append_log(self, entries: Sequence[LogEntry]) -> None:
        rows = [
            [e.time.astimezone(self._zone).isoformat(timespec="seconds"), e.lead_id, e.event, e.details]
            for e in entries
        ]

        def append() -> None:
            if not self._log_ready:
                self._ensure_log_header()
            self._execute(
                self._values().append(
                    spreadsheetId=self._spreadsheet,
                    range=f"{quote_sheet(self._log)}!A1",
                    valueInputOption="RAW",
                    insertDataOption="INSERT_ROWS",
                    body={"values": rows},
                )
            )

        if rows:
            self._retrying(append, "append_log")

    def _ensure_log_header(self) -> None:
        """Once per instance: the Log sheet exists and starts with its header row."""
        try:
            response = self._execute(
                self._values().get(spreadsheetId=self._spreadsheet, range=f"{quote_sheet(self._log)}!A1:D1")
            )
        except HttpError as exc:
            if not _is_missing_sheet(exc):
                raise
            self._add_sheet(self._log, list(LOG_COLUMNS))
        else:
            if not response.get("values"):
                self._execute(
                    self._values().update(
                        spreadsheetId=self._spreadsheet,
                        range=f"{quote_sheet(self._log)}!A1",
                        valueInputOption="RAW",
                        body={"values": [list(LOG_COLUMNS)]},
                    )
                )
        self._log_ready = True

    # ---- internals -----------------------------------------------------------------------------
    def _spreadsheets(self) -> Any:
        if self._sheets is None:
            self._sheets = self._service_factory().spreadsheets()
        return self._sheets

    def _values(self) -> Any:
        if self._values_resource is None:
            self._values_resource = self._spreadsheets().values()
        return self._values_resource

    def _execute(self, request: Any) -> Any:
        self.calls += 1
        return request.execute(num_retries=0)

    def _read_table(self) -> _Table:
        try:
            response = self._execute(
                self._values().get(spreadsheetId=self._spreadsheet, range=quote_sheet(self._leads))
            )
        except HttpError as exc:
            if not _is_missing_sheet(exc):
                raise
            self._add_sheet(self._leads, [*LEAD_COLUMNS, *MANAGER_COLUMNS])
            return _Table([*LEAD_COLUMNS, *MANAGER_COLUMNS], [])
        values = response.get("values", [])
        header = [str(name).strip() for name in values[0]] if values else []
        # The bot's columns, and the managers' status it reads back; a new sheet gets the notes column too.
        wanted = [*LEAD_COLUMNS, *(MANAGER_COLUMNS if not header else ("manager_status",))]
        missing = [name for name in wanted if name not in header]
        if missing:  # a new sheet, or a manager deleted a column the bot needs: add it at the end
            self._execute(
                self._values().update(
                    spreadsheetId=self._spreadsheet,
                    range=f"{quote_sheet(self._leads)}!{column_letter(len(header))}1",
                    valueInputOption="RAW",
                    body={"values": [missing]},
                )
            )
            header += missing
        return _Table(header, values[1:])

    def _add_sheet(self, title: str, header: list[str] | None) -> None:
        """Add the sheet `title` (with its `header` row, unless None: the caller writes it all)."""
        try:
            self._execute(
                self._spreadsheets().batchUpdate(
                    spreadsheetId=self._spreadsheet,
                    body={"requests": [{"addSheet": {"properties": {"title": title}}}]},
                )
            )
        except HttpError as exc:
            if exc.resp.status != 400:  # 400: another instance added it a moment ago
                raise
        if header is None:
            return
        self._execute(
            self._values().update(
                spreadsheetId=self._spreadsheet,
                range=f"{quote_sheet(title)}!A1",
                valueInputOption="RAW",
                body={"values": [header]},
            )
        )

    def _delete_rows(self, indexes: list[int]) -> None:
        meta = self._execute(
            self._spreadsheets().get(
                spreadsheetId=self._spreadsheet, fields="sheets(properties(sheetId,title))"
            )
        )
        sheet_id = next(
            s["properties"]["sheetId"] for s in meta["sheets"] if s["properties"]["title"] == self._leads
        )
        requests = [  # bottom-up, so deleting one row does not shift the next
            {
                "deleteDimension": {
                    "range": {
                        "sheetId": sheet_id,
                        "dimension": "ROWS",
                        "startIndex": i + 1,
                        "endIndex": i + 2,
                    }
                }
            }
            for i in sorted(indexes, reverse=True)
        ]
        self._execute(
            self._spreadsheets().batchUpdate(spreadsheetId=self._spreadsheet, body={"requests": requests})
        )
        log.warning("crm duplicate rows removed", extra={"rows": len(indexes)})

    def _retrying(self, operation: Callable[[], T], name: str) -> T:
        return call_with_retries(
            operation,
            label=f"sheets {name}",
            retries=self._retries,
            backoff_seconds=self._backoff,
            sleep=self._sleep,
            lock=self._lock,
            retryable=lambda exc: exc.resp.status in RETRYABLE_STATUSES,
            refused=lambda exc: CrmError(f"sheets {name}: HTTP {exc.resp.status}"),
            unavailable=CrmUnavailable,
        )


def _is_missing_sheet(exc: HttpError) -> bool:
    return exc.resp.status == 400 and "Unable to parse range" in str(exc.content or b"", "utf-8", "replace")


def _first_row_from_columns(value_range: Mapping[str, Any]) -> list[Any]:
    """The header row read with majorDimension=COLUMNS: the first value of each column."""
    return [column[0] if column else "" for column in value_range.get("values", [])]


def _column(ranges: Sequence[Mapping[str, Any]], index: int) -> list[str]:
    """One column read with majorDimension=COLUMNS, as strings (trailing empty cells are not sent)."""
    if index >= len(ranges):
        return []
    values = ranges[index].get("values", [])
    return [str(v) for v in values[0]] if values else []
