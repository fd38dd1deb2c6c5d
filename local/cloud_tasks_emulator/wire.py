"""The Cloud Tasks v2 REST wire format: the real service's limits, names, errors, times and enums."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

log = logging.getLogger("cloud_tasks_emulator")

Json = dict[str, Any]

# Limits of the real service (documented in the Cloud Tasks v2 API reference and quotas page).
TOMBSTONE_TTL = timedelta(hours=1)
MAX_SCHEDULE_AHEAD = timedelta(days=30)
MAX_TASK_SIZE = 1024 * 1024
MAX_HEADERS_SIZE = 80 * 1024
MAX_URL_LENGTH = 2083
MIN_DISPATCH_DEADLINE = 15.0
MAX_DISPATCH_DEADLINE = 30 * 60.0
MAX_PAGE_SIZE = 1000

# A handler that always enqueues an immediately due task would make run_due() loop forever.
MAX_DISPATCHES_PER_RUN = 10_000
HISTORY_LIMIT = 10_000

_PROJECT = r"[A-Za-z0-9.:-]+"  # domain-scoped project ids contain ':' and '.'
_LOCATION = r"[A-Za-z0-9-]+"
_QUEUE_ID_RE = re.compile(r"[A-Za-z0-9-]{1,100}")
_TASK_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,500}")
_LOCATION_NAME_RE = re.compile(rf"projects/{_PROJECT}/locations/{_LOCATION}")
_QUEUE_NAME_RE = re.compile(rf"(projects/{_PROJECT}/locations/{_LOCATION})/queues/([^/:]+)")
_TASK_NAME_RE = re.compile(rf"(projects/{_PROJECT}/locations/{_LOCATION}/queues/[^/:]+)/tasks/([^/]*)")

_HTTP_METHODS = {
    "HTTP_METHOD_UNSPECIFIED": 0,
    "POST": 1,
    "GET": 2,
    "HEAD": 3,
    "PUT": 4,
    "DELETE": 5,
    "PATCH": 6,
    "OPTIONS": 7,
}
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_VIEWS = {"VIEW_UNSPECIFIED": 0, "BASIC": 1, "FULL": 2}
_QUEUE_STATES = {"STATE_UNSPECIFIED": 0, "RUNNING": 1, "PAUSED": 2, "DISABLED": 3}

_ERROR_HTTP_CODES = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "UNIMPLEMENTED": 501,
}

# google.rpc.Code for a worker's HTTP answer, as recorded in Task.lastAttempt.responseStatus.
_GRPC_CODE_FOR_HTTP = {
    400: 3,
    401: 16,
    403: 7,
    404: 5,
    409: 10,
    429: 8,
    499: 1,
    500: 13,
    501: 12,
    503: 14,
    504: 4,
}
_GRPC_UNKNOWN, _GRPC_DEADLINE_EXCEEDED, _GRPC_UNAVAILABLE = 2, 4, 14

_TASK_FIELDS = frozenset(
    {
        "name",
        "httpRequest",
        "appEngineHttpRequest",
        "scheduleTime",
        "createTime",
        "dispatchDeadline",
        "dispatchCount",
        "responseCount",
        "firstAttempt",
        "lastAttempt",
        "view",
    }
)
_HTTP_REQUEST_FIELDS = frozenset({"url", "httpMethod", "headers", "body", "oidcToken", "oauthToken"})


class ApiError(Exception):
    """An error the real API would return: a google.rpc status name and a message."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message

    @property
    def http_code(self) -> int:
        return _ERROR_HTTP_CODES[self.status]

    def to_json(self) -> Json:
        # The shape google.api_core.exceptions.from_http_response reads.
        return {"error": {"code": self.http_code, "message": self.message, "status": self.status}}


# --------------------------------------------------------------------------------------------------
# JSON helpers (protobuf JSON mapping: RFC 3339 timestamps, "1.5s" durations, base64 bytes)


def format_time(dt: datetime) -> str:
    """RFC 3339 in UTC with 0, 3 or 6 fractional digits, as protobuf's JSON mapping prints it."""
    dt = dt.astimezone(UTC)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if dt.microsecond % 1000 == 0 and dt.microsecond:
        text += f".{dt.microsecond // 1000:03d}"
    elif dt.microsecond:
        text += f".{dt.microsecond:06d}"
    return text + "Z"


def _parse_time(value: Any, field_name: str) -> datetime:
    if not isinstance(value, str):
        raise ApiError("INVALID_ARGUMENT", f"Invalid value at '{field_name}': expected an RFC 3339 string")
    stamp = Timestamp()
    try:
        stamp.FromJsonString(value)
    except ValueError as exc:
        raise ApiError("INVALID_ARGUMENT", f"Invalid value at '{field_name}' ({value!r}): {exc}") from exc
    return stamp.ToDatetime(tzinfo=UTC)


def _format_duration(seconds: float) -> str:
    duration = Duration()
    duration.FromTimedelta(timedelta(seconds=seconds))
    return duration.ToJsonString()


def _parse_duration(value: Any, field_name: str) -> float:
    if not isinstance(value, str):
        raise ApiError(
            "INVALID_ARGUMENT", f"Invalid value at '{field_name}': expected a duration like '1.5s'"
        )
    duration = Duration()
    try:
        duration.FromJsonString(value)
    except ValueError as exc:
        raise ApiError("INVALID_ARGUMENT", f"Invalid value at '{field_name}' ({value!r}): {exc}") from exc
    return duration.ToTimedelta().total_seconds()


def _decode_bytes(value: Any, field_name: str) -> bytes:
    # protobuf's JSON parser accepts standard and URL-safe base64, padded or not.
    if not isinstance(value, str):
        raise ApiError("INVALID_ARGUMENT", f"Invalid value at '{field_name}': expected base64 text")
    text = value.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error as exc:
        raise ApiError("INVALID_ARGUMENT", f"Invalid value at '{field_name}': not base64") from exc


def _parse_enum(value: Any, table: Mapping[str, int], field_name: str) -> str:
    """Accept an enum as a name or a number (the client sends numbers: `$alt=json;enum-encoding=int`)."""
    if isinstance(value, str) and value in table:
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        for name, number in table.items():
            if number == value:
                return name
    raise ApiError("INVALID_ARGUMENT", f"Invalid value at '{field_name}': {value!r}")


def _parse_int(value: Any, field_name: str) -> int:
    # int32/int64 fields arrive as JSON numbers or (int64) decimal strings.
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ApiError("INVALID_ARGUMENT", f"Invalid value at '{field_name}': {value!r}")
    try:
        return int(value)
    except ValueError as exc:
        raise ApiError("INVALID_ARGUMENT", f"Invalid value at '{field_name}': {value!r}") from exc


def _render_enum(name: str, table: Mapping[str, int], numeric: bool) -> str | int:
    return table[name] if numeric else name


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def fake_oidc_token(service_account_email: str, audience: str, issued_at: float) -> str:
    """A JWT shaped like a Google-signed ID token for a service account, with a dummy signature.

    Handlers running locally can decode it (without verifying) exactly as they would the real one.
    """
    header = {"alg": "RS256", "kid": "cloud-tasks-emulator", "typ": "JWT"}
    payload = {
        "aud": audience,
        "azp": service_account_email,
        "email": service_account_email,
        "email_verified": True,
        "exp": int(issued_at) + 3600,
        "iat": int(issued_at),
        "iss": "https://accounts.google.com",
        "sub": service_account_email,
    }
    parts = [json.dumps(part, separators=(",", ":")).encode() for part in (header, payload)]
    return ".".join([*(_b64url(part) for part in parts), _b64url(b"cloud-tasks-emulator-unsigned")])


def _check_fields(data: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    # The real API refuses unknown JSON fields rather than dropping them silently.
    for key in data:
        if key not in allowed:
            raise ApiError(
                "INVALID_ARGUMENT",
                f"Invalid JSON payload received. Unknown name \"{key}\" at '{where}': Cannot find field.",
            )


def _page(items: list[Json], page_size: int, page_token: str) -> tuple[list[Json], str]:
    if page_size < 0:
        raise ApiError("INVALID_ARGUMENT", "page_size must not be negative")
    size = min(page_size or MAX_PAGE_SIZE, MAX_PAGE_SIZE)
    try:
        start = int(page_token) if page_token else 0
    except ValueError as exc:
        raise ApiError("INVALID_ARGUMENT", f"Invalid page token {page_token!r}") from exc
    end = start + size
    return items[start:end], (str(end) if end < len(items) else "")
