"""Common machinery of the HTTP-level fakes: call log, fault injection, control endpoints, WSGI plumbing.

Every fake (Sheets, Resend, Telegram) is a `FakeService`: a thread-safe WSGI app that the real SDKs talk to
over real HTTP. The base class gives each of them the same test surface, over HTTP and from Python:

    GET    /_fake/calls[?path=substring&method=POST]  the recorded calls, oldest first (status 0 while in
                                                      flight); control calls are never recorded
    POST   /_fake/reset                               clear calls, state and faults
    GET    /_fake/faults                              the armed faults
    POST   /_fake/faults                              arm a fault, JSON body:
           {"status": 500, "times": 1, "match": "sendMessage"}   -> next matching request fails with 500
           {"hang": 0.5, "times": 1, "match": ":append"}          -> next matching request sleeps first
           "match" is a case-insensitive substring of "METHOD /path" (so "PUT", ":append", "GET /v4");
           "times": -1 keeps the fault until cleared; optional: "after": true (handle the request for real,
           then fail/hang: "the work was done but the answer was lost"), "retry_after": N (seconds, sent
           as the API does for 429), "message": "custom error text"
    DELETE /_fake/faults                              disarm all faults
    DELETE /_fake/calls                               forget the recorded calls, keep the state
    GET    /_fake/state                               the service's state as JSON

A subclass implements `handle()` (the API itself), `error_response()` (the API's own error format, also
used for injected faults), `dump_state()` and `reset_state()`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from local.httpserver import ServerThread

log = logging.getLogger(__name__)

CONTROL_PREFIX = "/_fake/"

JSONDict = dict[str, Any]


def json_response(payload: Any, status: int = 200, headers: Iterable[tuple[str, str]] = ()) -> Response:
    """A JSON response; UTF-8 kept readable because fakes' bodies end up in test failure messages."""
    body = json.dumps(payload, ensure_ascii=False)
    response = Response(body, status=status, mimetype="application/json")
    for name, value in headers:
        response.headers[name] = value
    return response


def flatten_multidict(data: MultiDict[str, Any]) -> JSONDict:
    """One value per key as a scalar, repeated keys (e.g. Sheets `ranges`) as a list."""
    return {key: values[0] if len(values) == 1 else values for key, values in data.lists()}


@dataclass
class Fault:
    """One armed fault. `times` < 0 means "every matching request until cleared"."""

    status: int | None = None
    hang: float | None = None
    times: int = 1
    match: str | None = None
    after: bool = False
    retry_after: int | None = None
    message: str | None = None

    def matches(self, method: str, path: str) -> bool:
        if not self.match:
            return True
        needle = self.match.lower()
        # Matching "METHOD path" lets a fault target a verb ("PUT"), a path part (":append") or both.
        return needle in f"{method} {path}".lower()

    @classmethod
    def from_json(cls, spec: Any) -> Fault:
        """Validate a fault spec from the control endpoint; ValueError names what is wrong."""
        if not isinstance(spec, dict):
            raise ValueError("fault spec must be a JSON object")
        unknown = set(spec) - {"status", "hang", "times", "match", "after", "retry_after", "message"}
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        status = spec.get("status")
        hang = spec.get("hang")
        if status is None and hang is None:
            raise ValueError("a fault needs 'status' and/or 'hang'")
        if status is not None and (not isinstance(status, int) or not 100 <= status <= 599):
            raise ValueError("'status' must be an HTTP status code")
        if hang is not None and (not isinstance(hang, int | float) or hang < 0):
            raise ValueError("'hang' must be a non-negative number of seconds")
        times = spec.get("times", 1)
        if not isinstance(times, int) or times == 0:
            raise ValueError("'times' must be a positive integer (or -1 for unlimited)")
        match = spec.get("match")
        if match is not None and not isinstance(match, str):
            raise ValueError("'match' must be a string")
        retry_after = spec.get("retry_after")
        if retry_after is not None and (not isinstance(retry_after, int) or retry_after < 0):
            raise ValueError("'retry_after' must be a non-negative integer")
        message = spec.get("message")
        if message is not None and not isinstance(message, str):
            raise ValueError("'message' must be a string")
        return cls(
            status=status,
            hang=float(hang) if hang is not None else None,
            times=times,
            match=match,
            after=bool(spec.get("after", False)),
            retry_after=retry_after,
            message=message,
        )

    def to_json(self) -> JSONDict:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class Call:
    """One recorded request to the API (never to the control endpoints)."""

    seq: int
    time: float
    method: str
    path: str
    args: JSONDict
    headers: dict[str, str]
    body: Any
    status: int = 0
    fault: JSONDict | None = None
    extra: JSONDict = field(default_factory=dict)

    def to_json(self) -> JSONDict:
        data = asdict(self)
        if not self.extra:
            data.pop("extra")
        return data


class FakeService:
    """Base of every fake: a WSGI callable with a call log, faults and `/_fake/` control endpoints."""

    #: Used in logs.
    name = "fake"
    #: Request headers worth keeping in the call log (auth, idempotency, content negotiation).
    recorded_headers: tuple[str, ...] = ("Authorization", "Content-Type", "User-Agent")

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        # One re-entrant lock guards calls, faults and the subclass's state: handlers run under it, so the
        # fakes behave like a single consistent backend even with a threaded server.
        self.lock = threading.RLock()
        self._calls: list[Call] = []
        self._faults: list[Fault] = []
        self._seq = 0
        # Hanging requests wait on this event so reset()/clear_faults() release them at once (fast teardown).
        self._wake = threading.Event()

    # ---- what subclasses implement -------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        """Serve one API request (called under `self.lock`)."""
        raise NotImplementedError

    def error_response(
        self, status: int, message: str | None = None, retry_after: int | None = None
    ) -> Response:
        """An error in the real API's own format; used for injected faults too."""
        return json_response({"error": {"code": status, "message": message or "fault"}}, status)

    def dump_state(self) -> JSONDict:
        return {}

    def reset_state(self) -> None:
        """Back to the state right after construction."""

    # ---- Python API for in-process tests -------------------------------------------------------------
    def calls(self, path: str | None = None, method: str | None = None) -> list[JSONDict]:
        """Recorded calls, oldest first; `path` is a substring filter, `method` an exact HTTP verb."""
        with self.lock:
            selected = [
                call
                for call in self._calls
                if (path is None or path in call.path) and (method is None or call.method == method.upper())
            ]
            return [call.to_json() for call in selected]

    def add_fault(
        self,
        status: int | None = None,
        *,
        hang: float | None = None,
        times: int = 1,
        match: str | None = None,
        after: bool = False,
        retry_after: int | None = None,
        message: str | None = None,
    ) -> None:
        """Arm a fault: the next `times` requests matching `match` fail with `status` and/or hang first."""
        spec: JSONDict = {"status": status, "hang": hang, "times": times, "match": match, "after": after}
        spec.update({"retry_after": retry_after, "message": message})
        fault = Fault.from_json({k: v for k, v in spec.items() if v is not None})
        with self.lock:
            self._faults.append(fault)
        log.info("%s: fault armed %s", self.name, fault.to_json())

    def faults(self) -> list[JSONDict]:
        with self.lock:
            return [fault.to_json() for fault in self._faults]

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()
            self._release_hangs()

    def clear_calls(self) -> None:
        with self.lock:
            self._calls.clear()

    def reset(self) -> None:
        """Clear calls, faults and state."""
        with self.lock:
            self._calls.clear()
            self._faults.clear()
            self._seq = 0
            self.reset_state()
            self._release_hangs()

    def state(self) -> JSONDict:
        with self.lock:
            return self.dump_state()

    def server(self, host: str = "127.0.0.1", port: int = 0) -> ServerThread:
        """A not yet started server for this fake: `with fake.server() as srv: ... srv.url`, or `.start()`."""
        return ServerThread(self, host=host, port=port)

    # ---- WSGI ----------------------------------------------------------------------------------------
    def __call__(self, environ: JSONDict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        if request.path.startswith(CONTROL_PREFIX):
            return self._control(request)
        call = self._new_call(request)
        fault = self._take_fault(request.method, request.path)
        if fault is not None:
            call.fault = fault.to_json()
            log.info("%s: fault %s on %s %s", self.name, call.fault, request.method, request.path)
        if fault is not None and not fault.after:
            if fault.hang:
                self._sleep(fault.hang)
            response = self._fault_response(fault) if fault.status else self._handle_safely(request)
        else:
            response = self._handle_safely(request)
            if fault is not None:
                if fault.hang:
                    self._sleep(fault.hang)
                if fault.status:
                    response = self._fault_response(fault)
        with self.lock:
            call.status = response.status_code
        log.debug("%s: %s %s -> %s", self.name, request.method, request.path, response.status_code)
        return response

    # ---- internals -----------------------------------------------------------------------------------
    def _handle_safely(self, request: Request) -> Response:
        try:
            with self.lock:
                return self.handle(request)
        except Exception:
            # A bug in the fake must look like a server error to the client, and be loud in the logs.
            log.exception("%s: handler crashed on %s %s", self.name, request.method, request.path)
            return self.error_response(500)

    def _fault_response(self, fault: Fault) -> Response:
        assert fault.status is not None
        return self.error_response(fault.status, fault.message, fault.retry_after)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    # a copy taken first: the recorded spec must not change when the armed one counts down
                    taken = Fault(**asdict(fault))
                    if fault.times > 0:
                        fault.times -= 1
                        if fault.times == 0:
                            self._faults.remove(fault)
                    return taken
        return None

    def _sleep(self, seconds: float) -> None:
        self._wake.wait(seconds)

    def _release_hangs(self) -> None:
        self._wake.set()
        self._wake = threading.Event()

    def _new_call(self, request: Request) -> Call:
        headers = {name: request.headers[name] for name in self.recorded_headers if name in request.headers}
        body = self._body_of(request)
        with self.lock:
            self._seq += 1
            # Logged on arrival with status 0, so a request still hanging in a fault shows up as in flight.
            call = Call(
                seq=self._seq,
                time=self.clock(),
                method=request.method,
                path=request.path,
                args=flatten_multidict(request.args),
                headers=headers,
                body=body,
            )
            self._calls.append(call)
            return call

    @staticmethod
    def _body_of(request: Request) -> Any:
        # get_data(cache=True) keeps the bytes, so handlers can still read JSON or form data afterwards.
        raw = request.get_data(cache=True)
        if not raw:
            return None
        if request.mimetype == "application/json" or raw[:1] in (b"{", b"["):
            try:
                return json.loads(raw)
            except ValueError:
                pass
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = flatten_multidict(request.form)
            if request.files:
                form["_files"] = {name: storage.filename for name, storage in request.files.items()}
            return form
        return raw.decode("utf-8", errors="replace")

    def _control(self, request: Request) -> Response:
        action = request.path[len(CONTROL_PREFIX) :].strip("/")
        method = request.method
        if action == "calls" and method == "GET":
            return json_response(self.calls(request.args.get("path"), request.args.get("method")))
        if action == "calls" and method == "DELETE":
            self.clear_calls()
            return json_response({"ok": True})
        if action == "reset" and method == "POST":
            self.reset()
            return json_response({"ok": True})
        if action == "state" and method == "GET":
            return json_response(self.state())
        if action == "faults":
            if method == "GET":
                return json_response(self.faults())
            if method == "DELETE":
                self.clear_faults()
                return json_response({"ok": True})
            if method == "POST":
                try:
                    fault = Fault.from_json(request.get_json(silent=True))
                except ValueError as exc:
                    return json_response({"ok": False, "error": str(exc)}, 400)
                with self.lock:
                    self._faults.append(fault)
                log.info("%s: fault armed %s", self.name, fault.to_json())
                return json_response({"ok": True, "fault": fault.to_json()})
        return json_response({"ok": False, "error": f"unknown control call {method} {request.path}"}, 404)
