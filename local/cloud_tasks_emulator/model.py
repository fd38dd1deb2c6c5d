"""The emulator's state: queues with their retry settings, tasks, attempts and dispatch records."""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from local.cloud_tasks_emulator.wire import (
    _HTTP_METHODS,
    _QUEUE_STATES,
    _VIEWS,
    ApiError,
    Json,
    _check_fields,
    _format_duration,
    _parse_duration,
    _parse_int,
    _render_enum,
    format_time,
)

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


@dataclass(frozen=True)
class RateLimits:
    """A queue's rateLimits; the defaults are the real service's for a new queue."""

    max_dispatches_per_second: float = 500.0
    max_concurrent_dispatches: int = 1000

    @property
    def max_burst_size(self) -> int:
        """Output only in the API and "picked based on the rate": here the rate's whole number of tokens,
        at least 1 and at most the 100 a default queue shows."""
        return min(100, max(1, math.ceil(self.max_dispatches_per_second)))

    def to_json(self) -> Json:
        return {
            "maxDispatchesPerSecond": self.max_dispatches_per_second,
            "maxBurstSize": self.max_burst_size,
            "maxConcurrentDispatches": self.max_concurrent_dispatches,
        }

    def merged(self, data: Mapping[str, Any]) -> RateLimits:
        """This config with the fields present in a rateLimits JSON object applied; maxBurstSize is output
        only and ignored, as the real service does."""
        _check_fields(
            data,
            frozenset({"maxDispatchesPerSecond", "maxBurstSize", "maxConcurrentDispatches"}),
            "queue.rate_limits",
        )
        limits = self
        if "maxDispatchesPerSecond" in data:
            rate = data["maxDispatchesPerSecond"]
            if isinstance(rate, bool) or not isinstance(rate, int | float):
                raise ApiError("INVALID_ARGUMENT", f"Invalid value at 'queue.rate_limits': {rate!r}")
            if not 0 < rate <= 500:
                raise ApiError(
                    "INVALID_ARGUMENT", "rate_limits.max_dispatches_per_second must be in (0, 500]"
                )
            limits = replace(limits, max_dispatches_per_second=float(rate))
        if "maxConcurrentDispatches" in data:
            concurrent = _parse_int(
                data["maxConcurrentDispatches"], "queue.rate_limits.max_concurrent_dispatches"
            )
            if not 1 <= concurrent <= 5000:
                raise ApiError(
                    "INVALID_ARGUMENT", "rate_limits.max_concurrent_dispatches must be in [1, 5000]"
                )
            limits = replace(limits, max_concurrent_dispatches=concurrent)
        return limits


@dataclass
class _Queue:
    name: str
    retry: RetryConfig
    rate: RateLimits = RateLimits()
    state: str = "RUNNING"
    purge_time: datetime | None = None
    # The token bucket of rateLimits: a dispatch takes a token; tokens come back at the queue's rate, on
    # the emulator's clock, up to max_burst_size.
    tokens: float = 0.0
    tokens_at: datetime | None = None

    def _refill(self, now: datetime) -> None:
        if self.tokens_at is None or now < self.tokens_at:  # a new bucket, or the clock was reset
            self.tokens, self.tokens_at = float(self.rate.max_burst_size), now
            return
        elapsed = (now - self.tokens_at).total_seconds()
        self.tokens = min(
            float(self.rate.max_burst_size), self.tokens + elapsed * self.rate.max_dispatches_per_second
        )
        self.tokens_at = now

    def next_token_time(self, now: datetime) -> datetime:
        """When this queue may dispatch again: now if a token is left."""
        self._refill(now)
        missing = 1.0 - self.tokens
        if missing <= 1e-9:
            return now
        return now + timedelta(seconds=missing / self.rate.max_dispatches_per_second)

    def take_token(self, now: datetime) -> None:
        self._refill(now)
        self.tokens -= 1.0

    def to_json(self, numeric_enums: bool) -> Json:
        data: Json = {
            "name": self.name,
            "rateLimits": self.rate.to_json(),
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
