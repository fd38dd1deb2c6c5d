"""The CRM on Google Sheets (google-api-python-client).

Rows are found by `lead_id` and columns by header name on every operation: managers sort, insert rows
and reorder columns. Values are written RAW so a name like `=HYPERLINK(...)` stays text. Each public
operation is retried as a whole (re-reading the sheet), so a write whose answer was lost is found on the
retry instead of being appended twice.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from googleapiclient.errors import HttpError

from shared.adapters.google_api import RETRYABLE_STATUSES, call_with_retries
from shared.domain.crm_layout import (
    DATE_TIME_FORMAT,
    LOG_TIME_COLUMN,
    MANAGER_COLUMNS,
    TIME_COLUMNS,
    from_serial,
    is_laid_out,
    is_log_laid_out,
    layout_requests,
    log_layout_requests,
    to_serial,
)
from shared.domain.leads import LEAD_COLUMNS, CellValue, cell
from shared.domain.timezones import zone_time
from shared.i18n import t
from shared.ports import CrmRecord, CrmUnavailable, LogEntry, RowChange

log = logging.getLogger(__name__)
T = TypeVar("T")
# What the layout check reads of each sheet.
_META_FIELDS = (
    "sheets(properties(sheetId,title,gridProperties),basicFilter,conditionalFormats,developerMetadata)"
)
_TIME_FIELDS = "userEnteredValue,userEnteredFormat.numberFormat"  # a time cell: its value and date format


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
        language: str = "ru",
    ) -> None:
        self._service_factory = service_factory
        self._sheets: Any = None  # spreadsheets() resource, built once: each build costs ~20 MB and ~30 ms
        self._values_resource: Any = None
        self._spreadsheet = spreadsheet_id
        self._zone = ZoneInfo(timezone)  # every time in the sheet is the academy's: what managers read
        # The zone, named once: in a note on each time column's header, in the managers' language.
        self._time_note = t(language, "crm_time_note", zone=zone_time(timezone, language), iana=timezone)
        self._leads = leads_sheet
        self._log = log_sheet
        self._retries = retries
        self._backoff = backoff_seconds
        self._sleep = sleep
        # httplib2 connections are not thread-safe and functions-framework serves requests on threads.
        self._lock = threading.RLock()
        self._sheet_meta: dict[str, dict[str, Any]] | None = None  # spreadsheets.get's sheets, by title
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
            requests = self._row_requests(
                table.header, {lead_id: found}, [RowChange(lead_id, values, new_row)]
            )
            requests += self._delete_requests(found[1:])  # a lost answer's write that landed late
            self._batch(requests)
            return table.record(found[0]) if found else None

        return self._retrying(write, "write_lead")

    def write_rows(
        self, changes: Sequence[RowChange], log: Sequence[LogEntry] = ()
    ) -> dict[str, CrmRecord | None]:
        """The batched writer: one read of the header, lead_id and status columns (the header is cached
        per instance; a changed one is read again), then one batchUpdate holding every existing row's
        cells, every new row and every Log row. Never the whole sheet: managers' own columns are neither
        read nor written."""

        def write() -> dict[str, CrmRecord | None]:
            before: dict[str, CrmRecord | None] = {}
            requests: list[dict[str, Any]] = []
            if changes:
                header, ids, statuses = self._id_columns()
                where: dict[str, list[int]] = {}
                for index, value in enumerate(ids):
                    where.setdefault(value, []).append(index)
                found = {change.lead_id: where.get(change.lead_id, []) for change in changes}
                for lead_id, rows in found.items():
                    status = statuses[rows[0]] if rows and rows[0] < len(statuses) else ""
                    before[lead_id] = CrmRecord({"lead_id": lead_id, "status": status}) if rows else None
                requests = self._row_requests(header, found, changes)
                requests += self._delete_requests([i for rows in found.values() for i in rows[1:]])
            if log:
                requests.append(self._log_request(log))
            self._batch(requests)
            return before

        return self._retrying(write, "write_rows") if changes or log else {}

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
        """Once per instance and header: the Leads sheet explains itself (crm_layout), in one batchUpdate
        when its layout is missing, of an older version or made for another header. Best effort: a sheet
        the layout cannot be put on still gets its rows."""
        # A header changed since this instance last looked: its colours and marks as they are now.
        meta = self._meta(fresh=self._laid_out_for is not None)
        sheet = meta.get(self._leads) or self._meta(fresh=True)[self._leads]
        if not is_laid_out(sheet, header):
            self._best_effort(layout_requests(sheet, header, self._time_note), "leads")
        self._laid_out_for = tuple(header)

    def append_log(self, entries: Sequence[LogEntry]) -> None:
        self.write_rows([], entries)

    def _meta(self, fresh: bool = False) -> dict[str, dict[str, Any]]:
        """The sheets (ids, grid, filter, formats, layout marks) by title, read once per instance; the Log
        sheet is added, or laid out, on the way."""
        if self._sheet_meta is None or fresh:
            meta = self._execute(
                self._spreadsheets().get(spreadsheetId=self._spreadsheet, fields=_META_FIELDS)
            )
            sheets = {s["properties"]["title"]: s for s in meta.get("sheets", [])}
            log_sheet = sheets.get(self._log)
            if log_sheet is None:
                sheets[self._log] = self._add_log_sheet()
            elif not is_log_laid_out(log_sheet):
                self._best_effort(log_layout_requests(log_sheet, self._time_note), "log")
            self._sheet_meta = sheets
        return self._sheet_meta

    def _add_log_sheet(self) -> dict[str, Any]:
        """The Log sheet with its header and layout, in one batchUpdate (or as another instance just
        added it)."""
        sheet = {"properties": {"title": self._log, "sheetId": random.randint(1, 2**31 - 1)}}
        add = {"addSheet": {"properties": sheet["properties"]}}
        try:
            self._batch([add, *log_layout_requests(sheet, self._time_note)])
        except HttpError as exc:
            if exc.resp.status != 400:
                raise
            log.info("log sheet added meanwhile", extra={"reason": str(exc)[:200]})
            self._sheet_meta = None
            return self._meta()[self._log]
        return sheet

    def _best_effort(self, requests: list[dict[str, Any]], what: str) -> None:
        try:
            self._batch(requests)
            log.info("crm sheet laid out", extra={"sheet": what})
        except HttpError as exc:
            if exc.resp.status in RETRYABLE_STATUSES:
                raise
            log.warning("crm sheet layout not applied", extra={"sheet": what, "reason": str(exc)[:200]})

    def _sheet_id(self, title: str) -> int:
        sheet = self._meta().get(title) or self._meta(fresh=True)[title]
        return int(sheet["properties"]["sheetId"])

    def _row_requests(
        self, header: list[str], found: Mapping[str, list[int]], changes: Sequence[RowChange]
    ) -> list[dict[str, Any]]:
        """The cells of each lead's existing row (its first one), by header name, and its new row when
        there is none; other columns (the managers') are left as they are."""
        sheet_id = self._sheet_id(self._leads)
        requests: list[dict[str, Any]] = []
        appended: list[dict[str, Any]] = []
        for change in changes:
            rows = found.get(change.lead_id) or []
            if not rows:
                appended.append(
                    {"values": [self._cell(name, change.new_row.get(name, "")) for name in header]}
                )
                continue
            for name, value in change.values.items():
                if name not in header:
                    continue
                requests.append(
                    {
                        "updateCells": {
                            "start": {
                                "sheetId": sheet_id,
                                "rowIndex": rows[0] + 1,
                                "columnIndex": header.index(name),
                            },
                            "rows": [{"values": [self._cell(name, value)]}],
                            "fields": _TIME_FIELDS if name in TIME_COLUMNS else "userEnteredValue",
                        }
                    }
                )
        if appended:
            requests.append({"appendCells": {"sheetId": sheet_id, "rows": appended, "fields": _TIME_FIELDS}})
        return requests

    def _log_request(self, entries: Sequence[LogEntry]) -> dict[str, Any]:
        rows = [
            {
                "values": [
                    self._cell(LOG_TIME_COLUMN, e.time),
                    self._cell("lead_id", e.lead_id),
                    self._cell("event", e.event),
                    self._cell("details", e.details),
                ]
            }
            for e in entries
        ]
        return {"appendCells": {"sheetId": self._sheet_id(self._log), "rows": rows, "fields": _TIME_FIELDS}}

    def _cell(self, name: str, value: object) -> dict[str, Any]:
        """A value as CellData: a time (a datetime, or the ISO text the store keeps) as a date-time
        value in the academy's zone, text as text (never a formula: RAW-safe), numbers and booleans as
        themselves, "" as an empty cell."""
        if name in (*TIME_COLUMNS, LOG_TIME_COLUMN) and (moment := _moment(value)) is not None:
            return {
                "userEnteredValue": {"numberValue": to_serial(moment, self._zone)},
                "userEnteredFormat": {"numberFormat": DATE_TIME_FORMAT},
            }
        value = cell(value)
        if value == "":
            return {}
        if isinstance(value, bool):
            return {"userEnteredValue": {"boolValue": value}}
        if isinstance(value, int | float):
            return {"userEnteredValue": {"numberValue": value}}
        return {"userEnteredValue": {"stringValue": value}}

    def _delete_requests(self, indexes: list[int]) -> list[dict[str, Any]]:
        """Extra rows of a lead (a lost answer's write that landed late) deleted, bottom-up so deleting
        one row does not shift the next; after the batch's other requests, which use the rows as read."""
        if not indexes:
            return []
        log.warning("crm duplicate rows removed", extra={"rows": len(indexes)})
        sheet_id = self._sheet_id(self._leads)
        return [
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

    def _batch(self, requests: list[dict[str, Any]]) -> None:
        if requests:
            self._execute(
                self._spreadsheets().batchUpdate(spreadsheetId=self._spreadsheet, body={"requests": requests})
            )

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
        """The whole Leads sheet as stored (times as their serials, read back as ISO in the academy's
        zone; booleans as TRUE/FALSE, as a manager types them)."""
        try:
            response = self._execute(
                self._values().get(
                    spreadsheetId=self._spreadsheet,
                    range=quote_sheet(self._leads),
                    valueRenderOption="UNFORMATTED_VALUE",
                    dateTimeRenderOption="SERIAL_NUMBER",
                )
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
        rows = [
            [self._text(header[i] if i < len(header) else "", v) for i, v in enumerate(r)] for r in values[1:]
        ]
        return _Table(header, rows)

    def _text(self, name: str, value: Any) -> str:
        """A stored value as the text the bot reads: a time column's date-time as ISO in the academy's
        zone (text a manager typed stays as typed)."""
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int | float):
            if name in TIME_COLUMNS:
                return from_serial(float(value), self._zone).isoformat(timespec="seconds")
            return str(int(value)) if float(value).is_integer() else repr(value)
        return str(value)

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

    def _forget_if_stale(self, exc: HttpError) -> bool:
        """A sheet deleted (or re-added) since the ids were read: forget them, and retry."""
        stale = exc.resp.status == 400 and "No grid with id" in str(exc.content or b"", "utf-8", "replace")
        if stale:
            self._sheet_meta, self._header, self._laid_out_for = None, None, None
        return stale

    def _retrying(self, operation: Callable[[], T], name: str) -> T:
        return call_with_retries(
            operation,
            label=f"sheets {name}",
            retries=self._retries,
            backoff_seconds=self._backoff,
            sleep=self._sleep,
            lock=self._lock,
            retryable=lambda exc: exc.resp.status in RETRYABLE_STATUSES or self._forget_if_stale(exc),
            refused=lambda exc: CrmError(f"sheets {name}: HTTP {exc.resp.status}"),
            unavailable=CrmUnavailable,
        )


def _moment(value: object) -> datetime | None:
    """A time as the store has it (a datetime, or its ISO text with an offset); None for anything else."""
    if isinstance(value, datetime):
        return value if value.tzinfo else None
    if isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        return moment if moment.tzinfo else None
    return None


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
