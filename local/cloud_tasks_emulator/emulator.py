"""`CloudTasksEmulator`: in-memory queues and tasks behind the API's RPCs, with a virtual clock."""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from local.cloud_tasks_emulator.app import EmulatorApp
from local.cloud_tasks_emulator.dispatch import Dispatching, _due_order
from local.cloud_tasks_emulator.model import DispatchRecord, RateLimits, RetryConfig, _Queue, _Task
from local.cloud_tasks_emulator.oidc import TokenSigner
from local.cloud_tasks_emulator.parsing import TaskParsing
from local.cloud_tasks_emulator.wire import (
    _QUEUE_ID_RE,
    _QUEUE_NAME_RE,
    _VIEWS,
    HISTORY_LIMIT,
    MAX_DISPATCHES_PER_RUN,
    TOMBSTONE_TTL,
    ApiError,
    Json,
    _check_fields,
    _page,
    _parse_enum,
    log,
)

# --------------------------------------------------------------------------------------------------
# The emulator


class CloudTasksEmulator(TaskParsing, Dispatching):
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
        max_retry_duration: float = 0.0,
        queue_settings: Mapping[str, Json] | None = None,
        dispatch_timeout: float = 30.0,
        tombstone_ttl: timedelta = TOMBSTONE_TTL,
        clock: Callable[[], float] = time.time,
        http_client: httpx.Client | None = None,
        schedules: Sequence[tuple[float, str]] = (),
        scheduler_account: str | None = None,
    ) -> None:
        """`queues`: full queue names to pre-create, with `queue_settings[name]` (a Queue's REST JSON:
        rateLimits, retryConfig) where given. The retry settings are the defaults for queues that do not
        set their own retryConfig. `dispatch_timeout` applies to tasks without a
        dispatchDeadline. With `auto_dispatch`, a background thread runs due tasks every
        `auto_dispatch_interval` seconds until close(); it also plays Cloud Scheduler for `schedules`
        ((every seconds, url) pairs: a POST to url every so many seconds of emulator time), with an OIDC
        token for `scheduler_account` when given. Tokens are signed with a key made at start, whose
        certificate `signer.certs()` publishes (GET /_emulator/certs)."""
        self.default_retry = RetryConfig(
            max_attempts=max_attempts,
            min_backoff=min_backoff,
            max_backoff=max_backoff,
            max_doublings=max_doublings,
            max_retry_duration=max_retry_duration,
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
            self.ensure_queue(name, (queue_settings or {}).get(name))
        self._schedules = [[float(every), url, 0.0] for every, url in schedules]  # next run: at once
        self.scheduler_account = scheduler_account
        self.signer = TokenSigner()
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
        """Move the clock forward, running what falls due on the way, in time order.

        The clock stops at each moment a task becomes dispatchable (its schedule time, a retry's backoff,
        or its queue's next rate-limit token) and runs what is due there, so a backlog drains at the
        queue's rate and a retry whose backoff ends within the span runs in it."""
        if seconds < 0:
            raise ApiError("INVALID_ARGUMENT", "the emulator clock only moves forward")
        with self._lock:
            target = self._clock() + self._offset + seconds
        records = self.run_due()
        while len(records) < MAX_DISPATCHES_PER_RUN:
            with self._lock:
                upcoming = self._next_dispatch_time()
                if upcoming is None or upcoming.timestamp() > target:
                    break
                self._offset += max(upcoming.timestamp() - (self._clock() + self._offset), 0.0)
            records += self.run_due()
        with self._lock:
            self._offset += max(target - (self._clock() + self._offset), 0.0)
        return records + self.run_due()

    # -- queues ------------------------------------------------------------------------------------

    def ensure_queue(self, name: str, settings: Mapping[str, Any] | None = None) -> None:
        """Create the queue unless it exists (for pre-created queues), with `settings` (rateLimits,
        retryConfig) or the defaults."""
        with self._lock:
            if name not in self._queues:
                # create_queue validates the name; deriving the parent from it only matters when valid.
                self.create_queue(name.rsplit("/queues/", 1)[0], {**(settings or {}), "name": name})

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
        rate = RateLimits().merged(queue.get("rateLimits") or {})
        with self._lock:
            if queue_name in self._queues:
                raise ApiError("ALREADY_EXISTS", "Queue already exists")
            created = self._queues[queue_name] = _Queue(name=queue_name, retry=retry, rate=rate)
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
        """UpdateQueue (PATCH): applies retryConfig and rateLimits (all given, or those the mask names);
        creates the queue if missing, like the real one."""
        _check_fields(queue, frozenset({"name", "rateLimits", "retryConfig", "state", "httpTarget"}), "queue")
        retry_json = _masked(queue.get("retryConfig") or {}, update_mask, "retryConfig")
        rate_json = _masked(queue.get("rateLimits") or {}, update_mask, "rateLimits")
        with self._lock:
            if name not in self._queues:
                parent = name.rsplit("/queues/", 1)[0]
                return self.create_queue(
                    parent,
                    {"name": name, "retryConfig": retry_json, "rateLimits": rate_json},
                    numeric_enums=numeric_enums,
                )
            existing = self._queue(name)
            existing.retry = existing.retry.merged(retry_json)
            existing.rate = existing.rate.merged(rate_json)
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

    def run_due(self, *, wait_for_rate_limits: bool = True) -> list[DispatchRecord]:
        """Dispatch due tasks one at a time until none is due; returns the attempts made.

        A task held back by its queue's rate limits is dispatched when the queue's next token comes: the
        clock moves on to it (`wait_for_rate_limits`), as time would pass in the real service; without,
        it waits for a later call. Tasks that handlers create while being dispatched run in the same call
        if they are due. A task is attempted at most once per call: a retry waits for a later call even
        when its backoff has elapsed meanwhile, which keeps run_due deterministic and bounded.
        """
        records: list[DispatchRecord] = []
        with self._dispatch_lock:
            attempted: set[int] = set()
            while len(records) < MAX_DISPATCHES_PER_RUN:
                with self._lock:
                    task = self._next_due(attempted)
                    if task is None:
                        held = self._next_token_of_held_tasks(attempted) if wait_for_rate_limits else None
                        if held is None:
                            break
                        self._offset += max(held.timestamp() - self.now().timestamp(), 0.0)
                        continue
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
                queue.tokens_at = None  # a full bucket

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


def _parse_view(value: Any) -> str:
    view = _parse_enum(value if value not in (None, "") else 0, _VIEWS, "response_view")
    return "BASIC" if view == "VIEW_UNSPECIFIED" else view


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def _masked(data: Mapping[str, Any], update_mask: str, field: str) -> dict[str, Any]:
    """The fields of `data` (one of a Queue's messages) that an UpdateQueue mask selects: all of them
    without a mask or when it names the message itself, else those it names as `field.subfield`."""
    if not update_mask:
        return dict(data)
    paths = {path.strip() for path in update_mask.split(",")}
    if field in paths or _snake(field) in paths:
        return dict(data)
    prefixes = (f"{field}.", f"{_snake(field)}.")
    wanted = {p.split(".", 1)[1] for p in paths if p.startswith(prefixes)}
    return {k: v for k, v in data.items() if k in wanted or _snake(k) in wanted}
