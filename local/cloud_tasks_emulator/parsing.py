"""CreateTask's validation, as strict as the real service's (the emulator mixes it in)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from local.cloud_tasks_emulator.model import _Task
from local.cloud_tasks_emulator.wire import (
    _BODY_METHODS,
    _HTTP_METHODS,
    _HTTP_REQUEST_FIELDS,
    _TASK_FIELDS,
    _TASK_ID_RE,
    _TASK_NAME_RE,
    MAX_DISPATCH_DEADLINE,
    MAX_HEADERS_SIZE,
    MAX_SCHEDULE_AHEAD,
    MAX_TASK_SIZE,
    MAX_URL_LENGTH,
    MIN_DISPATCH_DEADLINE,
    ApiError,
    _check_fields,
    _decode_bytes,
    _parse_duration,
    _parse_enum,
    _parse_time,
)


class TaskParsing:
    """Turns a CreateTask body into a task, refusing what the real service refuses."""

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
