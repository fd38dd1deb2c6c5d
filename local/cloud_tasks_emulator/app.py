"""The WSGI app: the Cloud Tasks v2 REST routes plus the emulator's control endpoints."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from local.cloud_tasks_emulator.model import DispatchRecord
from local.cloud_tasks_emulator.wire import (
    _LOCATION,
    _PROJECT,
    ApiError,
    Json,
    _check_fields,
    format_time,
    log,
)

# --------------------------------------------------------------------------------------------------
# HTTP (WSGI) layer

if TYPE_CHECKING:  # the emulator builds this app: a runtime import would run in a circle
    from local.cloud_tasks_emulator.emulator import CloudTasksEmulator

_Q = rf"projects/{_PROJECT}/locations/{_LOCATION}/queues/[^/:]+"
_T = rf"{_Q}/tasks/[^/:]+"
_L = rf"projects/{_PROJECT}/locations/{_LOCATION}"

Handler = Callable[[Request, "re.Match[str]"], Json]


class EmulatorApp:
    """WSGI app: the Cloud Tasks v2 REST API plus control endpoints.

    Control endpoints (JSON in and out):
      POST /_emulator/advance  {"seconds": N} -> {"now": ..., "dispatched": [DispatchRecord...]}
      POST /_emulator/run-due                 -> {"now": ..., "dispatched": [...]}  every task due now;
           the clock moves on while the queues' rate limits hold some back, unless the body is
           {"wait_for_rate_limits": false}
      GET  /_emulator/tasks                   -> {"now": ..., "tasks": [{name, queue, url, httpMethod,
                                                  scheduleTime, retryCount, dispatchCount, responseCount}]}
      GET  /_emulator/history                 -> {"attempts": [DispatchRecord...]}
      GET  /_emulator/failed                  -> {"tasks": [...]}  (dropped after max attempts)
      POST /_emulator/reset                   -> {}
      GET  /_emulator/now                     -> {"now": RFC 3339, "epochSeconds": float}
      GET  /_emulator/certs                   -> {key id: X.509 PEM}: verifies the tokens it signs (the
                                                  format of https://www.googleapis.com/oauth2/v1/certs)
      POST /_emulator/token  {"email": ..., "audience": ...} -> {"token": ...}: the ID token Cloud Tasks
                                                  or Cloud Scheduler would send as that account
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
            ("GET", r"/_emulator/certs", self._certs),
            ("POST", r"/_emulator/token", self._token),
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
        wait = self._body(request).get("wait_for_rate_limits", True)
        if not isinstance(wait, bool):
            raise ApiError("INVALID_ARGUMENT", '"wait_for_rate_limits" must be true or false')
        return self._dispatched(self.emulator.run_due(wait_for_rate_limits=wait))

    def _certs(self, request: Request, match: re.Match[str]) -> Json:
        return self.emulator.signer.certs()

    def _token(self, request: Request, match: re.Match[str]) -> Json:
        body = self._body(request)
        email, audience = body.get("email"), body.get("audience")
        if not isinstance(email, str) or not isinstance(audience, str) or not email or not audience:
            raise ApiError("INVALID_ARGUMENT", '"email" and "audience" must be non-empty strings')
        return {"token": self.emulator.signer.token(email, audience)}

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
