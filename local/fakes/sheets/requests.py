"""spreadsheets.batchUpdate and its requests (add/delete sheet, properties, dimensions); the formatting
requests are in formatting.py."""

from __future__ import annotations

from werkzeug.wrappers import Request

from local.fakes.base import JSONDict
from local.fakes.sheets.api import DEFAULT_COLUMNS, DEFAULT_ROWS, SheetsApiError
from local.fakes.sheets.model import Cell, Sheet, Spreadsheet
from local.fakes.sheets.schema import check_request
from local.fakes.sheets.values import _real_request_kinds, _snake


class BatchUpdateRequests:
    """spreadsheets.batchUpdate (mixed into SheetsFake)."""

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
                check_request(kind, spec, i)  # fields and types as the API's schema defines them
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
        for name, attribute, limit in (
            ("frozenRowCount", "frozen_rows", sheet.rows),
            ("frozenColumnCount", "frozen_columns", sheet.columns),
        ):
            if "*" in wanted or "gridProperties" in wanted or f"gridProperties.{name}" in wanted:
                count = int(grid.get(name, 0))
                if count < 0:
                    raise SheetsApiError(400, f"{name} must be non-negative")
                if count >= limit:
                    what = "rows" if name == "frozenRowCount" else "columns"
                    raise SheetsApiError(400, f"You can't freeze all visible {what} on the sheet.")
                setattr(sheet, attribute, count)
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
