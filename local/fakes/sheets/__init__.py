"""Fake of the Google Sheets API v4 REST surface the bot uses, for googleapiclient to run against.

Mirrors https://sheets.googleapis.com/v4/... as googleapiclient builds it from its static discovery document
(`sheets.v4.json`) when `client_options={"api_endpoint": "http://127.0.0.1:PORT/"}`:

    GET  /v4/spreadsheets/{id}                              spreadsheets.get
    POST /v4/spreadsheets/{id}:batchUpdate                  spreadsheets.batchUpdate (addSheet, deleteSheet,
                                                            updateSheetProperties with frozen rows,
                                                            appendDimension, deleteDimension; repeatCell,
                                                            setBasicFilter, clearBasicFilter,
                                                            setDataValidation, add/delete-
                                                            ConditionalFormatRule,
                                                            updateDimensionProperties: recorded; number
                                                            formats also rendered; updateCells, appendCells,
                                                            create/update/deleteDeveloperMetadata)
    GET  /v4/spreadsheets/{id}/values/{range}               spreadsheets.values.get
    PUT  /v4/spreadsheets/{id}/values/{range}               spreadsheets.values.update
    POST /v4/spreadsheets/{id}/values/{range}:append        spreadsheets.values.append
    POST /v4/spreadsheets/{id}/values/{range}:clear         spreadsheets.values.clear
    GET  /v4/spreadsheets/{id}/values:batchGet              spreadsheets.values.batchGet
    POST /v4/spreadsheets/{id}/values:batchUpdate           spreadsheets.values.batchUpdate
    POST /v4/spreadsheets/{id}/values:batchClear            spreadsheets.values.batchClear

What it reproduces: Bearer auth (401 UNAUTHENTICATED), unknown spreadsheet (404 NOT_FOUND), A1 parsing and
"Unable to parse range", grid limits, RAW vs USER_ENTERED input (formulas, numbers, booleans, the leading
apostrophe), the three value render options (a number shown through its cell's number format: date-time
serials as dates, and dateTimeRenderOption), trimming of trailing empty cells/rows, the append "table"
search, INSERT_ROWS vs OVERWRITE, atomic batchUpdate whose every request is checked against the API's own
schema (unknown fields, wrong types, unknown enum values refused), and Google's error JSON
`{"error": {"code", "message", "status"}}`.

What it cannot do: compute formulas. A formula cell renders as `FORMULA_PLACEHOLDER` under FORMATTED_VALUE and
UNFORMATTED_VALUE, and as its text under FORMULA; `formula_cells()` and the state dump list formula cells so a
test can prove the bot writes RAW. Dates, percentages and currencies typed as USER_ENTERED stay strings.

    api.py       the API's constants, status names and error bodies
    model.py     spreadsheets, sheets and cells
    ranges.py    A1 notation and grid ranges
    values.py    reading and writing values (input and render options)
    fake.py      `SheetsFake`: the endpoint, authentication, spreadsheets.get
    requests.py  spreadsheets.batchUpdate requests
    formatting.py  its formatting requests (formats, filter, validation, conditional formats, widths)
    cells.py     its cell requests (updateCells, appendCells) and developer metadata
    number_format.py  how a number looks under its number format (date patterns, fixed decimals)
    schema.py    every request checked against the discovery document's schema
    values_api.py  spreadsheets.values.*: get, batchGet, update, batchUpdate, append, clear
"""

from local.fakes.sheets.api import (
    FORMULA_PLACEHOLDER,
    MISSING_CREDENTIALS,
    STATUS_NAMES,
    SheetsApiError,
    google_error,
)
from local.fakes.sheets.fake import SheetsFake

__all__ = [
    "FORMULA_PLACEHOLDER",
    "MISSING_CREDENTIALS",
    "STATUS_NAMES",
    "SheetsApiError",
    "SheetsFake",
    "google_error",
]
