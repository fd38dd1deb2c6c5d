"""spreadsheets.values.*: get, batchGet, update, batchUpdate, append, clear and batchClear."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from werkzeug.wrappers import Request

from local.fakes.base import JSONDict
from local.fakes.sheets.api import (
    DATE_TIME_RENDER_OPTIONS,
    DIMENSIONS,
    INSERT_DATA_OPTIONS,
    RENDER_OPTIONS,
    VALUE_INPUT_OPTIONS,
    SheetsApiError,
)
from local.fakes.sheets.model import Spreadsheet
from local.fakes.sheets.ranges import GridRange, column_letters, format_range, grid_limit_error, parse_range
from local.fakes.sheets.values import _check_option, _matrix, _read, _write, _Written


class ValuesEndpoints:
    """spreadsheets.values.* (mixed into SheetsFake)."""

    # values.get / values.batchGet
    def _read_response(self, spreadsheet: Spreadsheet, text: str, request: Request) -> JSONDict:
        option = _check_option(
            "valueRenderOption", request.args.get("valueRenderOption"), RENDER_OPTIONS, "FORMATTED_VALUE"
        )
        dates = _check_option(
            "dateTimeRenderOption",
            request.args.get("dateTimeRenderOption"),
            DATE_TIME_RENDER_OPTIONS,
            "SERIAL_NUMBER",
        )
        dimension = _check_option("majorDimension", request.args.get("majorDimension"), DIMENSIONS, "ROWS")
        rng = parse_range(spreadsheet, text)
        rng.check_grid()
        out: JSONDict = {"range": rng.a1(), "majorDimension": dimension}
        values = _read(rng, option, dimension, dates)
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
