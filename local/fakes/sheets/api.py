"""The Sheets API's constants, status names and error bodies, as the real service writes them."""

from __future__ import annotations

from werkzeug.wrappers import Response

from local.fakes.base import JSONDict, json_response

DEFAULT_ROWS = 1000
DEFAULT_COLUMNS = 26
MAX_CELL_CHARS = 50_000
#: What FORMATTED_VALUE / UNFORMATTED_VALUE return for a formula cell: the fake cannot calculate.
FORMULA_PLACEHOLDER = "#FAKE-FORMULA!"

VALUE_INPUT_OPTIONS = ("RAW", "USER_ENTERED")
RENDER_OPTIONS = ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA")
DATE_TIME_RENDER_OPTIONS = ("SERIAL_NUMBER", "FORMATTED_STRING")
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
