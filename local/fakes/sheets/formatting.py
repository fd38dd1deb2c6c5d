"""spreadsheets.batchUpdate's formatting requests: repeatCell (number formats, bold, colours), basic filter,
data validation, conditional formats and column widths. They change no value: the fake records them on
the sheet as the API's JSON (the state dump and spreadsheets.get show them) after checking what the real
service checks: the sheet exists, ranges lie in its grid, `fields` is given where the API needs it, a
condition has the values its type needs."""

from __future__ import annotations

from typing import Any

from local.fakes.base import JSONDict
from local.fakes.sheets.api import SheetsApiError
from local.fakes.sheets.model import Sheet, Spreadsheet, format_clock

# Condition types and how many values each takes (None: one or more).
_CONDITION_VALUES: dict[str, int | None] = {
    "ONE_OF_LIST": None,
    "TEXT_EQ": 1,
    "TEXT_CONTAINS": 1,
    "TEXT_NOT_CONTAINS": 1,
    "TEXT_STARTS_WITH": 1,
    "NUMBER_EQ": 1,
    "NUMBER_GREATER": 1,
    "NUMBER_LESS": 1,
    "NUMBER_BETWEEN": 2,
    "DATE_IS_VALID": 0,
    "NOT_BLANK": 0,
    "BLANK": 0,
    "CUSTOM_FORMULA": 1,
}
# Conditions a data validation rule may use (a conditional format takes the text/number/formula ones).
_VALIDATION_ONLY = {"ONE_OF_LIST", "DATE_IS_VALID"}


class FormattingRequests:
    """The formatting requests of spreadsheets.batchUpdate (mixed into SheetsFake)."""

    def _request_repeat_cell(self, spreadsheet: Spreadsheet, spec: JSONDict) -> JSONDict:
        sheet, rng = _grid_range(spreadsheet, spec.get("range"))
        if not spec.get("fields"):
            raise SheetsApiError(400, "At least one field must be updated with 'fields'.")
        if "cell" not in spec:
            raise SheetsApiError(400, "Must specify 'cell'.")
        sheet.formats.append({"range": rng, "cell": spec["cell"], "fields": spec["fields"]})
        paths = field_paths(spec["fields"])
        cell = spec["cell"] or {}
        if any(p in ("*", "userEnteredFormat", "userEnteredFormat.numberFormat") for p in paths):
            number_format = (cell.get("userEnteredFormat") or {}).get("numberFormat")
            if number_format is not None and not number_format.get("type"):
                raise SheetsApiError(400, "NumberFormat.type must be set when writing a number format.")
            sheet.number_formats.append((next(format_clock), rng, number_format))
        if "note" in paths or "*" in paths:
            r1 = rng.get("endRowIndex", sheet.rows)
            c1 = rng.get("endColumnIndex", sheet.columns)
            for r in range(rng.get("startRowIndex", 0), r1):
                for c in range(rng.get("startColumnIndex", 0), c1):
                    if cell.get("note"):
                        sheet.notes[(r, c)] = str(cell["note"])
                    else:
                        sheet.notes.pop((r, c), None)
        return {}

    def _request_set_basic_filter(self, spreadsheet: Spreadsheet, spec: JSONDict) -> JSONDict:
        filter_spec = spec.get("filter") or {}
        sheet, rng = _grid_range(spreadsheet, filter_spec.get("range"))
        sheet.basic_filter = {**filter_spec, "range": rng}
        return {}

    def _request_clear_basic_filter(self, spreadsheet: Spreadsheet, spec: JSONDict) -> JSONDict:
        _sheet(spreadsheet, spec.get("sheetId", 0)).basic_filter = None
        return {}

    def _request_set_data_validation(self, spreadsheet: Spreadsheet, spec: JSONDict) -> JSONDict:
        """A rule on the range (replacing a rule set on exactly that range); no rule clears it."""
        sheet, rng = _grid_range(spreadsheet, spec.get("range"))
        sheet.validations = [v for v in sheet.validations if v["range"] != rng]
        rule = spec.get("rule")
        if rule:
            _condition((rule or {}).get("condition"), validation=True)
            sheet.validations.append({"range": rng, "rule": rule})
        return {}

    def _request_add_conditional_format_rule(self, spreadsheet: Spreadsheet, spec: JSONDict) -> JSONDict:
        rule = spec.get("rule") or {}
        ranges = rule.get("ranges") or []
        if not ranges:
            raise SheetsApiError(400, "Must specify at least one range.")
        sheets = {_grid_range(spreadsheet, r)[0].sheet_id for r in ranges}
        if len(sheets) != 1:
            raise SheetsApiError(400, "All ranges of a conditional format rule must be on the same sheet.")
        if ("booleanRule" in rule) == ("gradientRule" in rule):
            raise SheetsApiError(400, "Exactly one of booleanRule or gradientRule must be set.")
        if "booleanRule" in rule:
            _condition(rule["booleanRule"].get("condition"), validation=False)
        sheet = _sheet(spreadsheet, sheets.pop())
        index = int(spec.get("index", 0))
        if not 0 <= index <= len(sheet.conditional_formats):
            raise SheetsApiError(400, f"Invalid index: {index}")
        stored = {**rule, "ranges": [_grid_range(spreadsheet, r)[1] for r in ranges]}
        sheet.conditional_formats.insert(index, stored)
        return {}

    def _request_delete_conditional_format_rule(self, spreadsheet: Spreadsheet, spec: JSONDict) -> JSONDict:
        sheet = _sheet(spreadsheet, spec.get("sheetId", 0))
        index = int(spec.get("index", 0))
        if not 0 <= index < len(sheet.conditional_formats):
            raise SheetsApiError(400, f"No conditional format on sheet: {sheet.sheet_id} at index: {index}")
        return {"deleteConditionalFormatRule": {"rule": sheet.conditional_formats.pop(index)}}

    def _request_update_dimension_properties(self, spreadsheet: Spreadsheet, spec: JSONDict) -> JSONDict:
        rng = spec.get("range") or {}
        sheet = _sheet(spreadsheet, rng.get("sheetId", 0))
        if not spec.get("fields"):
            raise SheetsApiError(400, "At least one field must be updated with 'fields'.")
        dimension = rng.get("dimension")
        limit = sheet.columns if dimension == "COLUMNS" else sheet.rows
        start, end = int(rng.get("startIndex", 0)), int(rng.get("endIndex", limit))
        if dimension not in ("ROWS", "COLUMNS") or not 0 <= start < end <= limit:
            raise SheetsApiError(400, f"Invalid dimension range: {dimension} {start}:{end}")
        size = (spec.get("properties") or {}).get("pixelSize")
        if dimension == "COLUMNS" and size is not None:
            for column in range(start, end):
                sheet.column_widths[column] = int(size)
        return {}


def field_paths(mask: str) -> list[str]:
    """A field mask's paths: "a(b,c.d),e" → a.b, a.c.d, e."""
    paths: list[str] = []
    stack: list[str] = []
    current = ""
    for char in mask.replace(" ", "") + ",":
        if char == "(":
            stack.append(current)
            current = ""
        elif char in ",)":
            if current:
                paths.append(".".join([*filter(None, stack), current]))
            current = ""
            if char == ")" and stack:
                stack.pop()
        else:
            current += char
    return paths


def _sheet(spreadsheet: Spreadsheet, sheet_id: Any) -> Sheet:
    sheet = spreadsheet.sheet_by_id(int(sheet_id or 0))
    if sheet is None:
        raise SheetsApiError(400, f"No grid with id: {sheet_id}")
    return sheet


def _grid_range(spreadsheet: Spreadsheet, rng: Any) -> tuple[Sheet, JSONDict]:
    """The sheet of a GridRange and the range as stored (unbounded sides left out, as the API does)."""
    if not isinstance(rng, dict):
        raise SheetsApiError(400, "Must specify a range.")
    sheet = _sheet(spreadsheet, rng.get("sheetId", 0))
    bounds = {"Row": sheet.rows, "Column": sheet.columns}
    for axis, limit in bounds.items():
        start = int(rng.get(f"start{axis}Index", 0))
        end = int(rng.get(f"end{axis}Index", limit))
        if start < 0 or end > limit or start >= end:
            raise SheetsApiError(
                400,
                f"Range ({sheet.title}!{axis.lower()}s {start}:{end}) exceeds grid limits. "
                f"Max rows: {sheet.rows}, max columns: {sheet.columns}",
            )
    return sheet, {key: int(value) for key, value in rng.items()}


def _condition(condition: Any, *, validation: bool) -> None:
    if not isinstance(condition, dict) or not condition.get("type"):
        raise SheetsApiError(400, "Must specify a condition type.")
    kind = condition["type"]
    if kind not in _CONDITION_VALUES:
        raise SheetsApiError(400, f"Invalid condition type for this rule: {kind}")
    if not validation and kind in _VALIDATION_ONLY:
        raise SheetsApiError(400, f"Invalid ConditionalFormatRule condition type: {kind}")
    values = condition.get("values") or []
    wanted = _CONDITION_VALUES[kind]
    if (wanted is None and not values) or (wanted is not None and len(values) != wanted):
        raise SheetsApiError(400, f"Invalid BooleanCondition: {kind} takes {wanted or 'one or more'} values")
