"""A Cloud Tasks emulator speaking the Cloud Tasks v2 REST API, for local development and tests.

Why it exists: production enqueues HTTP tasks with ``google-cloud-tasks`` (REST transport) and relies
on two behaviours of the real service that the PyPI ``gcloud-tasks-emulator`` lacks: DeleteTask, and
task-name de-duplication (a name that exists, or was deleted or executed within the last hour, is
refused with ALREADY_EXISTS). This module implements the part of the API the project uses, with the
real service's validation and error bodies, so the production client works unchanged when pointed at
it::

    client = tasks_v2.CloudTasksClient(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint="http://127.0.0.1:8123"),
    )

Time is virtual: emulator time is the wall clock plus an offset that only ``advance()`` moves, so a
test can run a task scheduled days ahead at once and deterministically. Due tasks are pushed to their
``httpRequest.url`` with the headers the real service adds (``X-CloudTasks-*``, ``User-Agent``) and a
fake, unsigned OIDC token when ``oidcToken`` is set. Only HTTP-target tasks are supported.

Control endpoints, which the real API does not have, live under ``/_emulator/`` (see
``EmulatorApp``). Standalone use::

    python -m local.cloud_tasks_emulator --port 8123 \\
        --queue projects/p/locations/l/queues/q --auto-dispatch

Known differences from the real service: no rate limiting or system throttling, one dispatch at a
time, ``Retry-After`` is ignored, deleted queue names can be reused at once (the real service waits
7 days), and App Engine tasks, IAM, CMEK and BatchCreate/BatchDelete are not implemented (501).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import logging
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

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


# --------------------------------------------------------------------------------------------------
# State


@dataclass(frozen=True)
class RetryConfig:
    """A queue's retryConfig; the defaults are the real service's defaults for a new queue."""

    max_attempts: int = 100  # -1 means unlimited
    min_backoff: float = 0.1
    max_backoff: float = 3600.0
    max_doublings: int = 16
    max_retry_duration: float = 0.0  # 0 means unlimited

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after `attempts` (>= 1) failed attempts.

        Like the real service: the delay doubles `max_doublings` times, then grows linearly by the
        last doubled step, and never exceeds `max_backoff`.
        """
        n = max(attempts - 1, 0)
        doublings = min(n, self.max_doublings, 62)  # the cap keeps 2**n a sane float
        delay = self.min_backoff * 2**doublings
        if n > self.max_doublings:
            delay *= n - self.max_doublings + 1
        return min(delay, self.max_backoff)

    def exhausted(self, attempts: int, age: float) -> bool:
        """True when no further attempt may be made (both limits reached, when both are set)."""
        limits = []
        if self.max_attempts >= 0:
            limits.append(attempts >= self.max_attempts)
        if self.max_retry_duration > 0:
            limits.append(age >= self.max_retry_duration)
        return bool(limits) and all(limits)

    def to_json(self) -> Json:
        return {
            "maxAttempts": self.max_attempts,
            "minBackoff": _format_duration(self.min_backoff),
            "maxBackoff": _format_duration(self.max_backoff),
            "maxDoublings": self.max_doublings,
            "maxRetryDuration": _format_duration(self.max_retry_duration),
        }

    def merged(self, data: Mapping[str, Any]) -> RetryConfig:
        """This config with the fields present in a retryConfig JSON object applied."""
        _check_fields(
            data,
            frozenset({"maxAttempts", "minBackoff", "maxBackoff", "maxDoublings", "maxRetryDuration"}),
            "queue.retry_config",
        )
        config = self
        if "maxAttempts" in data:
            attempts = _parse_int(data["maxAttempts"], "queue.retry_config.max_attempts")
            if attempts < -1:
                raise ApiError("INVALID_ARGUMENT", "retry_config.max_attempts must be -1 or more")
            # 0 is proto3's "unset": keep the default.
            config = replace(config, max_attempts=attempts or self.max_attempts)
        for key, attr in (
            ("minBackoff", "min_backoff"),
            ("maxBackoff", "max_backoff"),
            ("maxRetryDuration", "max_retry_duration"),
        ):
            if key in data:
                seconds = _parse_duration(data[key], f"queue.retry_config.{key}")
                if seconds < 0:
                    raise ApiError("INVALID_ARGUMENT", f"retry_config.{key} must not be negative")
                changes: dict[str, Any] = {attr: seconds}
                config = replace(config, **changes)
        if "maxDoublings" in data:
            doublings = _parse_int(data["maxDoublings"], "queue.retry_config.max_doublings")
            if doublings < 0:
                raise ApiError("INVALID_ARGUMENT", "retry_config.max_doublings must not be negative")
            config = replace(config, max_doublings=doublings)
        if config.min_backoff > config.max_backoff:
            raise ApiError("INVALID_ARGUMENT", "retry_config.min_backoff must not exceed max_backoff")
        return config


@dataclass
class _Queue:
    name: str
    retry: RetryConfig
    state: str = "RUNNING"
    purge_time: datetime | None = None

    def to_json(self, numeric_enums: bool) -> Json:
        data: Json = {
            "name": self.name,
            # The real service's defaults; the emulator does not rate-limit.
            "rateLimits": {
                "maxDispatchesPerSecond": 500,
                "maxBurstSize": 100,
                "maxConcurrentDispatches": 1000,
            },
            "retryConfig": self.retry.to_json(),
            "state": _render_enum(self.state, _QUEUE_STATES, numeric_enums),
        }
        if self.purge_time is not None:
            data["purgeTime"] = format_time(self.purge_time)
        return data


@dataclass
class _Task:
    name: str
    queue: str
    url: str
    http_method: str
    headers: dict[str, str]
    body: bytes
    oidc_token: dict[str, str] | None
    oauth_token: dict[str, str] | None
    schedule_time: datetime
    create_time: datetime
    dispatch_deadline: float | None
    seq: int = 0  # creation order: identity across delete/re-create and a stable tie-break
    dispatch_count: int = 0
    response_count: int = 0
    # X-CloudTasks-TaskExecutionCount counts responses from the handler, but not 5xx ones.
    execution_count: int = 0
    previous_response: int | None = None
    first_dispatch_time: datetime | None = None
    first_attempt: Json | None = None
    last_attempt: Json | None = None
    forced: bool = False  # RunTask: dispatch now even if the queue is paused

    @property
    def task_id(self) -> str:
        return self.name.rsplit("/", 1)[1]

    @property
    def queue_id(self) -> str:
        return self.queue.rsplit("/", 1)[1]

    def to_json(self, view: str, numeric_enums: bool) -> Json:
        http: Json = {
            "url": self.url,
            "httpMethod": _render_enum(self.http_method, _HTTP_METHODS, numeric_enums),
            "headers": dict(self.headers),
        }
        # Like the real service, the BASIC view leaves out the (possibly large or sensitive) body.
        if view == "FULL" and self.body:
            http["body"] = base64.b64encode(self.body).decode("ascii")
        if self.oidc_token is not None:
            http["oidcToken"] = dict(self.oidc_token)
        if self.oauth_token is not None:
            http["oauthToken"] = dict(self.oauth_token)
        data: Json = {
            "name": self.name,
            "httpRequest": http,
            "scheduleTime": format_time(self.schedule_time),
            "createTime": format_time(self.create_time.replace(microsecond=0)),
            "dispatchCount": self.dispatch_count,
            "responseCount": self.response_count,
            "view": _render_enum(view, _VIEWS, numeric_enums),
        }
        if self.dispatch_deadline is not None:
            data["dispatchDeadline"] = _format_duration(self.dispatch_deadline)
        if self.first_attempt is not None:
            data["firstAttempt"] = dict(self.first_attempt)
        if self.last_attempt is not None:
            data["lastAttempt"] = dict(self.last_attempt)
        return data

    def summary(self) -> Json:
        return {
            "name": self.name,
            "queue": self.queue,
            "url": self.url,
            "httpMethod": self.http_method,
            "scheduleTime": format_time(self.schedule_time),
            "retryCount": self.dispatch_count,
            "dispatchCount": self.dispatch_count,
            "responseCount": self.response_count,
        }


@dataclass(frozen=True)
class _Attempt:
    """Everything one dispatch needs, copied under the lock so the HTTP call can run outside it."""

    task: _Task
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    timeout: float
    retry_count: int
    schedule_time: datetime
    dispatch_time: datetime


@dataclass(frozen=True)
class DispatchRecord:
    """One dispatch attempt and what became of the task.

    outcome: "succeeded" (2xx, task removed), "retrying" (scheduled again at next_schedule_time),
    "failed" (retries exhausted, task dropped) or "deleted" (task deleted while in flight).
    """

    name: str
    queue: str
    url: str
    method: str
    retry_count: int
    status: int | None
    error: str | None
    outcome: str
    time: datetime
    next_schedule_time: datetime | None = None

    def to_json(self) -> Json:
        return {
            "name": self.name,
            "queue": self.queue,
            "url": self.url,
            "method": self.method,
            "retryCount": self.retry_count,
            "status": self.status,
            "error": self.error,
            "outcome": self.outcome,
            "time": format_time(self.time),
            "nextScheduleTime": format_time(self.next_schedule_time) if self.next_schedule_time else None,
        }


@dataclass(frozen=True)
class _Result:
    status: int | None
    error: str | None
    grpc_code: int


# --------------------------------------------------------------------------------------------------
# The emulator


class CloudTasksEmulator:
    """In-memory Cloud Tasks state, a virtual clock and a dispatcher.

    The public methods mirror the API's RPCs and take and return the REST JSON shapes (camelCase);
    they raise ApiError where the real service returns an error. All are thread-safe.

    Locking: `_lock` guards the state and is never held during an HTTP dispatch, because the
    handler being called commonly creates or deletes tasks itself. `_dispatch_lock` makes dispatch
    runs one-at-a-time (deterministic order); do not call advance()/run_due() from inside a handler
    that is being dispatched, it would wait for itself.
    """

    def __init__(
        self,
        *,
        queues: Iterable[str] = (),
        auto_dispatch: bool = False,
        auto_dispatch_interval: float = 0.2,
        max_attempts: int = 100,
        min_backoff: float = 0.1,
        max_backoff: float = 3600.0,
        max_doublings: int = 16,
        dispatch_timeout: float = 30.0,
        tombstone_ttl: timedelta = TOMBSTONE_TTL,
        clock: Callable[[], float] = time.time,
        http_client: httpx.Client | None = None,
    ) -> None:
        """`queues`: full queue names to pre-create. The retry settings are the defaults for queues
        that do not set their own retryConfig. `dispatch_timeout` applies to tasks without a
        dispatchDeadline. With `auto_dispatch`, a background thread runs due tasks every
        `auto_dispatch_interval` seconds until close()."""
        self.default_retry = RetryConfig(
            max_attempts=max_attempts,
            min_backoff=min_backoff,
            max_backoff=max_backoff,
            max_doublings=max_doublings,
        ).merged({})  # validates min <= max
        self.dispatch_timeout = dispatch_timeout
        self.tombstone_ttl = tombstone_ttl
        self._clock = clock
        self._offset = 0.0
        self._lock = threading.RLock()
        self._dispatch_lock = threading.Lock()
        self._queues: dict[str, _Queue] = {}
        self._tasks: dict[str, _Task] = {}
        self._tombstones: dict[str, datetime] = {}  # task name -> when the name becomes free again
        self._history: deque[DispatchRecord] = deque(maxlen=HISTORY_LIMIT)
        self._failed: deque[Json] = deque(maxlen=HISTORY_LIMIT)
        self._seq = 0
        # trust_env=False: a developer's HTTP(S)_PROXY must not capture calls to local handlers.
        self._http = http_client or httpx.Client(follow_redirects=True, trust_env=False)
        self._owns_http = http_client is None
        self._app: EmulatorApp | None = None
        for name in queues:
            self.ensure_queue(name)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if auto_dispatch:
            self._thread = threading.Thread(
                target=self._auto_dispatch_loop,
                args=(auto_dispatch_interval,),
                name="cloud-tasks-emulator-dispatch",
                daemon=True,
            )
            self._thread.start()

    # -- lifecycle ---------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop auto-dispatch and close the HTTP client."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.dispatch_timeout + 5)
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> CloudTasksEmulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def wsgi_app(self) -> EmulatorApp:
        if self._app is None:
            self._app = EmulatorApp(self)
        return self._app

    # -- clock -------------------------------------------------------------------------------------

    def now(self) -> datetime:
        """Emulator time: the wall clock plus the offset accumulated by advance()."""
        with self._lock:
            return datetime.fromtimestamp(self._clock() + self._offset, UTC)

    def advance(self, seconds: float) -> list[DispatchRecord]:
        """Move the clock forward, then run every task that is due (see run_due)."""
        if seconds < 0:
            raise ApiError("INVALID_ARGUMENT", "the emulator clock only moves forward")
        with self._lock:
            self._offset += seconds
        return self.run_due()

    # -- queues ------------------------------------------------------------------------------------

    def ensure_queue(self, name: str) -> None:
        """Create the queue with default settings unless it exists (for pre-created queues)."""
        with self._lock:
            if name not in self._queues:
                # create_queue validates the name; deriving the parent from it only matters when valid.
                self.create_queue(name.rsplit("/queues/", 1)[0], {"name": name})

    def create_queue(self, parent: str, queue: Mapping[str, Any], *, numeric_enums: bool = False) -> Json:
        name = queue.get("name")
        match = _QUEUE_NAME_RE.fullmatch(name) if isinstance(name, str) else None
        if match is None or not _QUEUE_ID_RE.fullmatch(match.group(2)):
            raise ApiError(
                "INVALID_ARGUMENT",
                f"Invalid queue name {name!r}: expected projects/PROJECT_ID/locations/LOCATION_ID/queues/"
                "QUEUE_ID, QUEUE_ID made of letters, digits and hyphens (at most 100)",
            )
        queue_name, queue_parent = match.group(0), match.group(1)
        if queue_parent != parent:
            raise ApiError("INVALID_ARGUMENT", f"Queue name {queue_name!r} is not in the parent {parent!r}")
        _check_fields(queue, frozenset({"name", "rateLimits", "retryConfig", "state", "httpTarget"}), "queue")
        if "httpTarget" in queue:
            raise ApiError("UNIMPLEMENTED", "the emulator does not implement queue-level httpTarget")
        retry = self.default_retry.merged(queue.get("retryConfig") or {})
        with self._lock:
            if queue_name in self._queues:
                raise ApiError("ALREADY_EXISTS", "Queue already exists")
            created = self._queues[queue_name] = _Queue(name=queue_name, retry=retry)
            return created.to_json(numeric_enums)

    def get_queue(self, name: str, *, numeric_enums: bool = False) -> Json:
        with self._lock:
            return self._queue(name).to_json(numeric_enums)

    def list_queues(
        self, parent: str, *, page_size: int = 0, page_token: str = "", numeric_enums: bool = False
    ) -> Json:
        with self._lock:
            queues = [
                q.to_json(numeric_enums)
                for n, q in sorted(self._queues.items())
                if n.startswith(parent + "/")
            ]
        page, next_token = _page(queues, page_size, page_token)
        data: Json = {"queues": page} if page else {}
        if next_token:
            data["nextPageToken"] = next_token
        return data

    def update_queue(
        self, name: str, queue: Mapping[str, Any], update_mask: str = "", *, numeric_enums: bool = False
    ) -> Json:
        """UpdateQueue (PATCH): applies retryConfig; creates the queue if missing, like the real one."""
        _check_fields(queue, frozenset({"name", "rateLimits", "retryConfig", "state", "httpTarget"}), "queue")
        retry_json = dict(queue.get("retryConfig") or {})
        if update_mask:
            paths = {path.strip() for path in update_mask.split(",")}
            if "retryConfig" not in paths and "retry_config" not in paths:
                prefixes = ("retryConfig.", "retry_config.")
                wanted = {p.split(".", 1)[1] for p in paths if p.startswith(prefixes)}
                retry_json = {k: v for k, v in retry_json.items() if k in wanted or _snake(k) in wanted}
        with self._lock:
            if name not in self._queues:
                parent = name.rsplit("/queues/", 1)[0]
                return self.create_queue(
                    parent, {"name": name, "retryConfig": retry_json}, numeric_enums=numeric_enums
                )
            existing = self._queue(name)
            existing.retry = existing.retry.merged(retry_json)
            return existing.to_json(numeric_enums)

    def delete_queue(self, name: str) -> None:
        with self._lock:
            self._queue(name)
            del self._queues[name]
            for task_name in [n for n, t in self._tasks.items() if t.queue == name]:
                del self._tasks[task_name]

    def pause_queue(self, name: str, *, numeric_enums: bool = False) -> Json:
        with self._lock:
            queue = self._queue(name)
            queue.state = "PAUSED"
            return queue.to_json(numeric_enums)

    def resume_queue(self, name: str, *, numeric_enums: bool = False) -> Json:
        with self._lock:
            queue = self._queue(name)
            queue.state = "RUNNING"
            return queue.to_json(numeric_enums)

    def purge_queue(self, name: str, *, numeric_enums: bool = False) -> Json:
        with self._lock:
            queue = self._queue(name)
            now = self.now()
            for task_name in [n for n, t in self._tasks.items() if t.queue == name]:
                self._remove_task(task_name, now)
            queue.purge_time = now
            return queue.to_json(numeric_enums)

    # -- tasks -------------------------------------------------------------------------------------

    def create_task(
        self,
        parent: str,
        task: Mapping[str, Any] | None,
        response_view: str | int = "BASIC",
        *,
        numeric_enums: bool = False,
    ) -> Json:
        """CreateTask: validates like the real service, then stores the task; returns its JSON."""
        view = _parse_view(response_view)
        with self._lock:
            self._queue(parent)
            now = self.now()
            new = self._parse_task(parent, task, now)
            self._expire_tombstones(now)
            if new.name in self._tasks:
                raise ApiError("ALREADY_EXISTS", "Requested entity already exists")
            if new.name in self._tombstones:
                raise ApiError(
                    "ALREADY_EXISTS",
                    "The task cannot be created because a task with this name existed too recently. "
                    "For more information about task de-duplication see https://cloud.google.com/tasks/"
                    "docs/reference/rest/v2/projects.locations.queues.tasks/create#body.request_body."
                    "FIELDS.task.",
                )
            self._seq += 1
            new.seq = self._seq
            self._tasks[new.name] = new
            return new.to_json(view, numeric_enums)

    def get_task(self, name: str, response_view: str | int = "BASIC", *, numeric_enums: bool = False) -> Json:
        view = _parse_view(response_view)
        with self._lock:
            return self._task(name).to_json(view, numeric_enums)

    def list_tasks(
        self,
        parent: str,
        response_view: str | int = "BASIC",
        *,
        page_size: int = 0,
        page_token: str = "",
        numeric_enums: bool = False,
    ) -> Json:
        view = _parse_view(response_view)
        with self._lock:
            self._queue(parent)
            tasks = sorted((t for t in self._tasks.values() if t.queue == parent), key=_due_order)
            items = [t.to_json(view, numeric_enums) for t in tasks]
        page, next_token = _page(items, page_size, page_token)
        data: Json = {"tasks": page} if page else {}
        if next_token:
            data["nextPageToken"] = next_token
        return data

    def delete_task(self, name: str) -> None:
        """DeleteTask; a task already executed (or never created) is NOT_FOUND."""
        with self._lock:
            self._task(name)
            self._remove_task(name, self.now())

    def run_task(self, name: str, response_view: str | int = "BASIC", *, numeric_enums: bool = False) -> Json:
        """RunTask: makes the task due now, even in a paused queue; the next run_due dispatches it."""
        view = _parse_view(response_view)
        with self._lock:
            task = self._task(name)
            task.schedule_time = self.now()
            task.forced = True
            return task.to_json(view, numeric_enums)

    # -- dispatching -------------------------------------------------------------------------------

    def run_due(self) -> list[DispatchRecord]:
        """Dispatch due tasks one at a time until none is due; returns the attempts made.

        Tasks that handlers create while being dispatched run in the same call if they are due. A
        task is attempted at most once per call: a retry waits for a later call even when its
        backoff has elapsed meanwhile, which keeps advance() deterministic and bounded.
        """
        records: list[DispatchRecord] = []
        with self._dispatch_lock:
            attempted: set[int] = set()
            while len(records) < MAX_DISPATCHES_PER_RUN:
                with self._lock:
                    task = self._next_due(attempted)
                    if task is None:
                        break
                    attempted.add(task.seq)
                    attempt = self._begin_attempt(task)
                # Outside the lock: the handler may call back into the emulator.
                result = self._send(attempt)
                with self._lock:
                    record = self._finish_attempt(attempt, result)
                log.info(
                    "dispatch %s %s %s -> %s retry=%d outcome=%s",
                    record.name,
                    record.method,
                    record.url,
                    record.status if record.status is not None else record.error,
                    record.retry_count,
                    record.outcome,
                )
                records.append(record)
            else:
                log.warning("run_due stopped after %d dispatches; tasks keep becoming due", len(records))
        return records

    def pending_tasks(self) -> list[Json]:
        """Tasks not yet done, in due order, with their schedule time and retry count."""
        with self._lock:
            return [t.summary() for t in sorted(self._tasks.values(), key=_due_order)]

    def history(self) -> list[DispatchRecord]:
        """Every dispatch attempt since the last reset, oldest first."""
        with self._lock:
            return list(self._history)

    def failed_tasks(self) -> list[Json]:
        """Tasks dropped after exhausting their retries."""
        with self._lock:
            return list(self._failed)

    def reset(self) -> None:
        """Forget tasks, tombstones, history and the clock offset; keep queues (and resume them)."""
        with self._lock:
            self._tasks.clear()
            self._tombstones.clear()
            self._history.clear()
            self._failed.clear()
            self._offset = 0.0
            for queue in self._queues.values():
                queue.state = "RUNNING"

    # -- internals (call with _lock held) ----------------------------------------------------------

    def _queue(self, name: str) -> _Queue:
        queue = self._queues.get(name)
        if queue is None:
            raise ApiError("NOT_FOUND", f"Queue does not exist: {name}")
        return queue

    def _task(self, name: str) -> _Task:
        task = self._tasks.get(name)
        if task is None and name in self._tombstones:
            raise ApiError(
                "NOT_FOUND",
                "The task no longer exists, though a task with this name existed recently. "
                "The task either successfully completed or was deleted.",
            )
        if task is None:
            raise ApiError("NOT_FOUND", f"Requested entity was not found: {name}")
        return task

    def _remove_task(self, name: str, now: datetime) -> None:
        del self._tasks[name]
        self._tombstones[name] = now + self.tombstone_ttl

    def _expire_tombstones(self, now: datetime) -> None:
        for name in [n for n, until in self._tombstones.items() if until <= now]:
            del self._tombstones[name]

    def _parse_task(self, parent: str, data: Mapping[str, Any] | None, now: datetime) -> _Task:
        if not isinstance(data, Mapping):
            raise ApiError("INVALID_ARGUMENT", "task is required")
        _check_fields(data, _TASK_FIELDS, "task")
        name = data.get("name") or ""
        if name:
            match = _TASK_NAME_RE.fullmatch(name) if isinstance(name, str) else None
            if match is None or not _TASK_ID_RE.fullmatch(match.group(2)):
                raise ApiError(
                    "INVALID_ARGUMENT",
                    f"Task name {name!r} is invalid: expected projects/PROJECT_ID/locations/LOCATION_ID/"
                    "queues/QUEUE_ID/tasks/TASK_ID, TASK_ID made of letters, digits, '-' and '_' "
                    "(at most 500)",
                )
            if match.group(1) != parent:
                raise ApiError(
                    "INVALID_ARGUMENT", f"Task name {name!r} does not belong to the queue {parent!r}"
                )
        else:
            # The real service generates a large decimal id.
            name = f"{parent}/tasks/{secrets.randbits(63)}"

        if "appEngineHttpRequest" in data:
            raise ApiError("UNIMPLEMENTED", "the emulator only supports HTTP target tasks (httpRequest)")
        http = data.get("httpRequest")
        if not isinstance(http, Mapping):
            raise ApiError("INVALID_ARGUMENT", "Task must have an httpRequest")
        _check_fields(http, _HTTP_REQUEST_FIELDS, "task.http_request")
        url = http.get("url")
        if not isinstance(url, str) or not url:
            raise ApiError("INVALID_ARGUMENT", "HttpRequest.url is required")
        if not url.startswith(("http://", "https://")) or len(url) > MAX_URL_LENGTH:
            raise ApiError(
                "INVALID_ARGUMENT",
                "HttpRequest.url must start with http:// or https:// and be at most "
                f"{MAX_URL_LENGTH} characters",
            )
        method = _parse_enum(http.get("httpMethod", 0), _HTTP_METHODS, "task.http_request.http_method")
        if method == "HTTP_METHOD_UNSPECIFIED":
            method = "POST"
        headers = http.get("headers") or {}
        if not isinstance(headers, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            raise ApiError("INVALID_ARGUMENT", "HttpRequest.headers must map strings to strings")
        headers_size = sum(len(k) + len(v) for k, v in headers.items())
        if headers_size >= MAX_HEADERS_SIZE:
            raise ApiError("INVALID_ARGUMENT", "HttpRequest.headers must be smaller than 80KB")
        body = _decode_bytes(http["body"], "task.http_request.body") if "body" in http else b""
        if body and method not in _BODY_METHODS:
            raise ApiError(
                "INVALID_ARGUMENT", f"A body is only allowed with POST, PUT or PATCH, not {method}"
            )
        if len(body) + headers_size + len(url) > MAX_TASK_SIZE:
            raise ApiError("INVALID_ARGUMENT", "Task size too large: the maximum is 1MB")

        oidc, oauth = http.get("oidcToken"), http.get("oauthToken")
        if oidc is not None and oauth is not None:
            raise ApiError("INVALID_ARGUMENT", "Only one of oidcToken and oauthToken may be set")
        if oidc is not None:
            if not isinstance(oidc, Mapping) or not oidc.get("serviceAccountEmail"):
                raise ApiError("INVALID_ARGUMENT", "OidcToken.service_account_email is required")
            _check_fields(
                oidc, frozenset({"serviceAccountEmail", "audience"}), "task.http_request.oidc_token"
            )
            oidc = {k: str(v) for k, v in oidc.items()}
        if oauth is not None:
            if not isinstance(oauth, Mapping) or not oauth.get("serviceAccountEmail"):
                raise ApiError("INVALID_ARGUMENT", "OAuthToken.service_account_email is required")
            _check_fields(oauth, frozenset({"serviceAccountEmail", "scope"}), "task.http_request.oauth_token")
            oauth = {k: str(v) for k, v in oauth.items()}

        # Absent or past schedule times mean "now", like the real service.
        schedule_time = (
            _parse_time(data["scheduleTime"], "task.schedule_time") if "scheduleTime" in data else now
        )
        schedule_time = max(schedule_time, now)
        if schedule_time - now > MAX_SCHEDULE_AHEAD:
            raise ApiError(
                "INVALID_ARGUMENT", "Task.schedule_time is too far in the future: the maximum is 30 days"
            )
        deadline = None
        if "dispatchDeadline" in data:
            deadline = _parse_duration(data["dispatchDeadline"], "task.dispatch_deadline")
            if not MIN_DISPATCH_DEADLINE <= deadline <= MAX_DISPATCH_DEADLINE:
                raise ApiError(
                    "INVALID_ARGUMENT", "Task.dispatch_deadline must be between 15 seconds and 30 minutes"
                )

        return _Task(
            name=name,
            queue=parent,
            url=url,
            http_method=method,
            headers=dict(headers),
            body=body,
            oidc_token=oidc,
            oauth_token=oauth,
            schedule_time=schedule_time,
            create_time=now,
            dispatch_deadline=deadline,
        )

    def _next_due(self, exclude: set[int]) -> _Task | None:
        now = self.now()
        due = [
            t
            for t in self._tasks.values()
            if t.seq not in exclude
            and t.schedule_time <= now
            and (t.forced or self._queues[t.queue].state == "RUNNING")
        ]
        return min(due, key=_due_order, default=None)

    def _begin_attempt(self, task: _Task) -> _Attempt:
        now = self.now()
        retry_count = task.dispatch_count
        task.dispatch_count += 1
        task.forced = False
        if task.first_dispatch_time is None:
            task.first_dispatch_time = now
            task.first_attempt = {"dispatchTime": format_time(now)}
        task.last_attempt = {
            "scheduleTime": format_time(task.schedule_time),
            "dispatchTime": format_time(now),
        }
        return _Attempt(
            task=task,
            method=task.http_method,
            url=task.url,
            headers=self._dispatch_headers(task, retry_count),
            body=task.body,
            timeout=task.dispatch_deadline or self.dispatch_timeout,
            retry_count=retry_count,
            schedule_time=task.schedule_time,
            dispatch_time=now,
        )

    def _dispatch_headers(self, task: _Task, retry_count: int) -> dict[str, str]:
        # The real service replaces these; "Authorization" only when it mints a token itself.
        replaced = {"host", "content-length", "user-agent"}
        if task.oidc_token is not None or task.oauth_token is not None:
            replaced.add("authorization")
        headers = {
            k: v
            for k, v in task.headers.items()
            if k.lower() not in replaced
            and not k.lower().startswith(("x-google-", "x-appengine-", "x-cloudtasks-"))
        }
        headers.update(
            {
                "User-Agent": "Google-Cloud-Tasks",
                "X-CloudTasks-QueueName": task.queue_id,
                "X-CloudTasks-TaskName": task.task_id,
                "X-CloudTasks-TaskRetryCount": str(retry_count),
                "X-CloudTasks-TaskExecutionCount": str(task.execution_count),
                "X-CloudTasks-TaskETA": f"{task.schedule_time.timestamp():.6f}",
            }
        )
        if task.previous_response is not None:
            headers["X-CloudTasks-TaskPreviousResponse"] = str(task.previous_response)
        if task.oidc_token is not None:
            email = task.oidc_token["serviceAccountEmail"]
            audience = task.oidc_token.get("audience") or task.url
            # Wall-clock iat/exp: handlers that check expiry compare with their own (real) clock.
            headers["Authorization"] = f"Bearer {fake_oidc_token(email, audience, time.time())}"
        elif task.oauth_token is not None:
            headers["Authorization"] = "Bearer ya29.cloud-tasks-emulator-fake-access-token"
        return headers

    def _send(self, attempt: _Attempt) -> _Result:
        try:
            response = self._http.request(
                attempt.method,
                attempt.url,
                headers=attempt.headers,
                content=attempt.body or None,
                timeout=attempt.timeout,
            )
        except httpx.TimeoutException as exc:
            return _Result(
                None,
                f"DEADLINE_EXCEEDED: {type(exc).__name__} after {attempt.timeout:g}s",
                _GRPC_DEADLINE_EXCEEDED,
            )
        except httpx.HTTPError as exc:
            return _Result(None, f"UNAVAILABLE: {type(exc).__name__}: {exc}", _GRPC_UNAVAILABLE)
        except Exception as exc:  # e.g. httpx.InvalidURL: one bad task must not stop the dispatcher
            return _Result(None, f"UNKNOWN: {type(exc).__name__}: {exc}", _GRPC_UNKNOWN)
        code = (
            0
            if 200 <= response.status_code < 300
            else _GRPC_CODE_FOR_HTTP.get(response.status_code, _GRPC_UNKNOWN)
        )
        return _Result(response.status_code, None, code)

    def _finish_attempt(self, attempt: _Attempt, result: _Result) -> DispatchRecord:
        task = attempt.task
        now = self.now()
        record = DispatchRecord(
            name=task.name,
            queue=task.queue,
            url=attempt.url,
            method=attempt.method,
            retry_count=attempt.retry_count,
            status=result.status,
            error=result.error,
            outcome="deleted",
            time=attempt.dispatch_time,
        )
        if self._tasks.get(task.name) is not task:
            # Deleted (or its queue purged) while in flight: the real service drops the result too.
            self._history.append(record)
            return record
        if result.status is not None:
            task.response_count += 1
            if task.last_attempt is not None:
                task.last_attempt["responseTime"] = format_time(now)
                task.last_attempt["responseStatus"] = {
                    "code": result.grpc_code,
                    "message": f"HTTP {result.status}",
                }
            task.previous_response = result.status
            if result.status < 500:
                task.execution_count += 1
        elif task.last_attempt is not None:
            task.last_attempt["responseStatus"] = {"code": result.grpc_code, "message": result.error or ""}

        if result.status is not None and 200 <= result.status < 300:
            self._remove_task(task.name, now)
            record = replace(record, outcome="succeeded")
        else:
            retry = self._queues[task.queue].retry
            age = (now - (task.first_dispatch_time or now)).total_seconds()
            if retry.exhausted(task.dispatch_count, age):
                self._remove_task(task.name, now)
                self._failed.append(
                    {
                        **task.summary(),
                        "lastStatus": result.status,
                        "lastError": result.error,
                        "failedTime": format_time(now),
                    }
                )
                record = replace(record, outcome="failed")
            else:
                task.schedule_time = now + timedelta(seconds=retry.backoff(task.dispatch_count))
                record = replace(record, outcome="retrying", next_schedule_time=task.schedule_time)
        self._history.append(record)
        return record

    def _auto_dispatch_loop(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.run_due()
            except Exception:  # keep the dispatcher alive whatever one run does
                log.exception("auto-dispatch run failed")


def _due_order(task: _Task) -> tuple[datetime, int]:
    return task.schedule_time, task.seq


def _parse_view(value: Any) -> str:
    view = _parse_enum(value if value not in (None, "") else 0, _VIEWS, "response_view")
    return "BASIC" if view == "VIEW_UNSPECIFIED" else view


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


# --------------------------------------------------------------------------------------------------
# HTTP (WSGI) layer

_Q = rf"projects/{_PROJECT}/locations/{_LOCATION}/queues/[^/:]+"
_T = rf"{_Q}/tasks/[^/:]+"
_L = rf"projects/{_PROJECT}/locations/{_LOCATION}"

Handler = Callable[[Request, "re.Match[str]"], Json]


class EmulatorApp:
    """WSGI app: the Cloud Tasks v2 REST API plus control endpoints.

    Control endpoints (JSON in and out):
      POST /_emulator/advance  {"seconds": N} -> {"now": ..., "dispatched": [DispatchRecord...]}
      POST /_emulator/run-due                 -> {"now": ..., "dispatched": [...]}
      GET  /_emulator/tasks                   -> {"now": ..., "tasks": [{name, queue, url, httpMethod,
                                                  scheduleTime, retryCount, dispatchCount, responseCount}]}
      GET  /_emulator/history                 -> {"attempts": [DispatchRecord...]}
      GET  /_emulator/failed                  -> {"tasks": [...]}  (dropped after max attempts)
      POST /_emulator/reset                   -> {}
      GET  /_emulator/now                     -> {"now": RFC 3339, "epochSeconds": float}
    A DispatchRecord is {name, queue, url, method, retryCount, status, error, outcome, time,
    nextScheduleTime}.
    """

    def __init__(self, emulator: CloudTasksEmulator) -> None:
        self.emulator = emulator
        routes: list[tuple[str, str, Handler]] = [
            ("POST", rf"/v2/(?P<parent>{_L})/queues", self._create_queue),
            ("GET", rf"/v2/(?P<parent>{_L})/queues", self._list_queues),
            ("GET", rf"/v2/(?P<name>{_Q})", self._get_queue),
            ("PATCH", rf"/v2/(?P<name>{_Q})", self._update_queue),
            ("DELETE", rf"/v2/(?P<name>{_Q})", self._delete_queue),
            ("POST", rf"/v2/(?P<name>{_Q}):(?P<verb>pause|resume|purge)", self._queue_verb),
            ("POST", rf"/v2/(?P<parent>{_Q})/tasks", self._create_task),
            ("GET", rf"/v2/(?P<parent>{_Q})/tasks", self._list_tasks),
            ("GET", rf"/v2/(?P<name>{_T})", self._get_task),
            ("DELETE", rf"/v2/(?P<name>{_T})", self._delete_task),
            ("POST", rf"/v2/(?P<name>{_T}):run", self._run_task),
            ("POST", r"/_emulator/advance", self._advance),
            ("POST", r"/_emulator/run-due", self._run_due),
            ("GET", r"/_emulator/tasks", self._pending),
            ("GET", r"/_emulator/history", self._history),
            ("GET", r"/_emulator/failed", self._failed),
            ("POST", r"/_emulator/reset", self._reset),
            ("GET", r"/_emulator/now", self._now),
        ]
        self._routes = [(method, re.compile(pattern), handler) for method, pattern, handler in routes]

    def __call__(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        try:
            status, payload = 200, self._route(request)
        except ApiError as exc:
            status, payload = exc.http_code, exc.to_json()
        except Exception:
            log.exception("emulator error on %s %s", request.method, request.path)
            status, payload = (
                500,
                {"error": {"code": 500, "message": "emulator internal error", "status": "INTERNAL"}},
            )
        response = Response(json.dumps(payload), status=status, content_type="application/json")
        return response(environ, start_response)

    def _route(self, request: Request) -> Json:
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if match is not None and method == request.method:
                return handler(request, match)
        if request.path.startswith("/v2/"):
            raise ApiError(
                "UNIMPLEMENTED", f"{request.method} {request.path} is not implemented by the emulator"
            )
        raise ApiError("NOT_FOUND", f"{request.method} {request.path}: no such endpoint")

    # -- request helpers ---------------------------------------------------------------------------

    @staticmethod
    def _body(request: Request) -> Json:
        raw = request.get_data()
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise ApiError("INVALID_ARGUMENT", f"Invalid JSON payload received. {exc}") from exc
        if not isinstance(data, dict):
            raise ApiError("INVALID_ARGUMENT", "Invalid JSON payload received: expected an object")
        return data

    @staticmethod
    def _numeric(request: Request) -> bool:
        # The generated REST client asks for numeric enums with `$alt=json;enum-encoding=int`.
        return "enum-encoding=int" in request.args.get("$alt", "")

    @staticmethod
    def _int_arg(request: Request, name: str) -> int:
        value = request.args.get(name, "0") or "0"
        try:
            return int(value)
        except ValueError as exc:
            raise ApiError("INVALID_ARGUMENT", f"Invalid value for {name}: {value!r}") from exc

    # -- API handlers ------------------------------------------------------------------------------

    def _create_queue(self, request: Request, match: re.Match[str]) -> Json:
        return self.emulator.create_queue(
            match["parent"], self._body(request), numeric_enums=self._numeric(request)
        )

    def _list_queues(self, request: Request, match: re.Match[str]) -> Json:
        if request.args.get("filter"):
            raise ApiError("UNIMPLEMENTED", "the emulator does not implement ListQueues filters")
        return self.emulator.list_queues(
            match["parent"],
            page_size=self._int_arg(request, "pageSize"),
            page_token=request.args.get("pageToken", ""),
            numeric_enums=self._numeric(request),
        )

    def _get_queue(self, request: Request, match: re.Match[str]) -> Json:
        return self.emulator.get_queue(match["name"], numeric_enums=self._numeric(request))

    def _update_queue(self, request: Request, match: re.Match[str]) -> Json:
        return self.emulator.update_queue(
            match["name"],
            self._body(request),
            request.args.get("updateMask", ""),
            numeric_enums=self._numeric(request),
        )

    def _delete_queue(self, request: Request, match: re.Match[str]) -> Json:
        self.emulator.delete_queue(match["name"])
        return {}

    def _queue_verb(self, request: Request, match: re.Match[str]) -> Json:
        action = {
            "pause": self.emulator.pause_queue,
            "resume": self.emulator.resume_queue,
            "purge": self.emulator.purge_queue,
        }[match["verb"]]
        return action(match["name"], numeric_enums=self._numeric(request))

    def _create_task(self, request: Request, match: re.Match[str]) -> Json:
        body = self._body(request)
        _check_fields(body, frozenset({"task", "responseView"}), "")
        return self.emulator.create_task(
            match["parent"],
            body.get("task"),
            body.get("responseView", 0),
            numeric_enums=self._numeric(request),
        )

    def _list_tasks(self, request: Request, match: re.Match[str]) -> Json:
        return self.emulator.list_tasks(
            match["parent"],
            request.args.get("responseView", ""),
            page_size=self._int_arg(request, "pageSize"),
            page_token=request.args.get("pageToken", ""),
            numeric_enums=self._numeric(request),
        )

    def _get_task(self, request: Request, match: re.Match[str]) -> Json:
        return self.emulator.get_task(
            match["name"], request.args.get("responseView", ""), numeric_enums=self._numeric(request)
        )

    def _delete_task(self, request: Request, match: re.Match[str]) -> Json:
        self.emulator.delete_task(match["name"])
        return {}

    def _run_task(self, request: Request, match: re.Match[str]) -> Json:
        view = self._body(request).get("responseView", 0)
        return self.emulator.run_task(match["name"], view, numeric_enums=self._numeric(request))

    # -- control handlers --------------------------------------------------------------------------

    def _dispatched(self, records: list[DispatchRecord]) -> Json:
        return {"now": format_time(self.emulator.now()), "dispatched": [r.to_json() for r in records]}

    def _advance(self, request: Request, match: re.Match[str]) -> Json:
        seconds = self._body(request).get("seconds", 0)
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ApiError("INVALID_ARGUMENT", '"seconds" must be a number')
        return self._dispatched(self.emulator.advance(float(seconds)))

    def _run_due(self, request: Request, match: re.Match[str]) -> Json:
        return self._dispatched(self.emulator.run_due())

    def _pending(self, request: Request, match: re.Match[str]) -> Json:
        return {"now": format_time(self.emulator.now()), "tasks": self.emulator.pending_tasks()}

    def _history(self, request: Request, match: re.Match[str]) -> Json:
        return {"attempts": [r.to_json() for r in self.emulator.history()]}

    def _failed(self, request: Request, match: re.Match[str]) -> Json:
        return {"tasks": self.emulator.failed_tasks()}

    def _reset(self, request: Request, match: re.Match[str]) -> Json:
        self.emulator.reset()
        return {}

    def _now(self, request: Request, match: re.Match[str]) -> Json:
        now = self.emulator.now()
        return {"now": format_time(now), "epochSeconds": now.timestamp()}


def create_app(emulator: CloudTasksEmulator) -> EmulatorApp:
    """The WSGI app serving `emulator` (same object as `emulator.wsgi_app`)."""
    return emulator.wsgi_app


# --------------------------------------------------------------------------------------------------
# CLI


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local.cloud_tasks_emulator",
        description="Cloud Tasks v2 REST emulator (HTTP targets, de-duplication, DeleteTask, virtual clock).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument(
        "--queue",
        action="append",
        default=[],
        metavar="projects/P/locations/L/queues/Q",
        help="pre-create this queue (repeatable)",
    )
    parser.add_argument("--auto-dispatch", action="store_true", help="dispatch due tasks in the background")
    parser.add_argument("--auto-dispatch-interval", type=float, default=0.2, metavar="SECONDS")
    parser.add_argument(
        "--max-attempts", type=int, default=100, help="default retryConfig.maxAttempts (-1: no limit)"
    )
    parser.add_argument("--min-backoff", type=float, default=0.1, metavar="SECONDS")
    parser.add_argument("--max-backoff", type=float, default=3600.0, metavar="SECONDS")
    parser.add_argument("--max-doublings", type=int, default=16)
    parser.add_argument(
        "--dispatch-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="for tasks without dispatchDeadline",
    )
    parser.add_argument("--log-level", default="INFO")
    return parser


def emulator_from_args(args: argparse.Namespace) -> CloudTasksEmulator:
    return CloudTasksEmulator(
        queues=args.queue,
        auto_dispatch=args.auto_dispatch,
        auto_dispatch_interval=args.auto_dispatch_interval,
        max_attempts=args.max_attempts,
        min_backoff=args.min_backoff,
        max_backoff=args.max_backoff,
        max_doublings=args.max_doublings,
        dispatch_timeout=args.dispatch_timeout,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        emulator = emulator_from_args(args)
    except ApiError as exc:
        parser.error(exc.message)
    server = make_server(args.host, args.port, emulator.wsgi_app, threaded=True)
    log.info(
        "Cloud Tasks emulator on http://%s:%d (queues: %s; auto-dispatch: %s)",
        args.host,
        server.server_port,
        ", ".join(args.queue) or "none",
        "on" if args.auto_dispatch else "off",
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        emulator.close()


if __name__ == "__main__":
    main()
