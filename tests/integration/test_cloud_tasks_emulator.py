"""The Cloud Tasks emulator, driven through the real google-cloud-tasks REST client.

Tasks are pushed to a small recording WSGI app; time only moves through the emulator's control
endpoints (advance / run-due), so nothing here depends on how fast the machine is.
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.api_core import exceptions
from google.api_core.client_options import ClientOptions
from google.auth import jwt as google_jwt
from google.auth.credentials import AnonymousCredentials
from google.cloud import tasks_v2
from werkzeug.wrappers import Request, Response

from local.cloud_tasks_emulator import (
    CloudTasksEmulator,
    RetryConfig,
    build_parser,
    create_app,
    emulator_from_args,
    fake_oidc_token,
)
from local.httpserver import ServerThread
from shared.adapters.task_auth import TaskAuth

PROJECT, LOCATION, QUEUE = "test-project", "europe-west1", "emails"
LOCATION_NAME = f"projects/{PROJECT}/locations/{LOCATION}"
QUEUE_NAME = f"{LOCATION_NAME}/queues/{QUEUE}"
INVOKER = "invoker@test-project.iam.gserviceaccount.com"
REPO_ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------------------------------
# A recording worker


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Target:
    """WSGI worker recording every request; answers scripted statuses per path, then 200.

    `hooks[path]` runs inside the request, i.e. while the emulator is dispatching the task.
    """

    def __init__(self) -> None:
        self.url = ""
        self.received: list[Received] = []
        self.statuses: dict[str, list[int]] = {}
        self.hooks: dict[str, Callable[[Received], None]] = {}
        self._lock = threading.Lock()

    def __call__(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        received = Received(request.method, request.path, dict(request.headers), request.get_data())
        with self._lock:
            self.received.append(received)
            scripted = self.statuses.get(request.path)
            status = scripted.pop(0) if scripted else 200
        hook = self.hooks.get(request.path)
        if hook is not None:
            hook(received)
        return Response("done", status=status)(environ, start_response)

    def reset(self) -> None:
        with self._lock:
            self.received.clear()
            self.statuses.clear()
            self.hooks.clear()

    def at(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]


class Control:
    """The emulator's /_emulator/ endpoints."""

    def __init__(self, base_url: str) -> None:
        self._http = httpx.Client(base_url=base_url, trust_env=False, timeout=30)

    def _json(self, method: str, path: str, payload: Any = None) -> Any:
        response = self._http.request(method, f"/_emulator/{path}", json=payload)
        response.raise_for_status()
        return response.json()

    def advance(self, seconds: float) -> list[dict[str, Any]]:
        return self._json("POST", "advance", {"seconds": seconds})["dispatched"]

    def run_due(self, **options: Any) -> list[dict[str, Any]]:
        return self._json("POST", "run-due", options)["dispatched"]

    def pending(self) -> list[dict[str, Any]]:
        return self._json("GET", "tasks")["tasks"]

    def history(self) -> list[dict[str, Any]]:
        return self._json("GET", "history")["attempts"]

    def failed(self) -> list[dict[str, Any]]:
        return self._json("GET", "failed")["tasks"]

    def now(self) -> datetime:
        return datetime.fromisoformat(self._json("GET", "now")["now"])

    def reset(self) -> None:
        self._json("POST", "reset")

    def close(self) -> None:
        self._http.close()


def make_client(url: str) -> tasks_v2.CloudTasksClient:
    # Exactly how production builds its client, only the endpoint differs.
    return tasks_v2.CloudTasksClient(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=url),
    )


def http_task(
    url: str,
    *,
    task_id: str | None = None,
    queue: str = QUEUE,
    schedule_time: datetime | None = None,
    body: bytes = b'{"lead": 1}',
    method: int = tasks_v2.HttpMethod.POST,
    audience: str | None = None,
) -> tasks_v2.Task:
    task = tasks_v2.Task(
        http_request=tasks_v2.HttpRequest(
            url=url,
            http_method=method,
            headers={"Content-Type": "application/json"},
            body=body,
            oidc_token=tasks_v2.OidcToken(service_account_email=INVOKER, audience=audience or url),
        )
    )
    if task_id is not None:
        task.name = tasks_v2.CloudTasksClient.task_path(PROJECT, LOCATION, queue, task_id)
    if schedule_time is not None:
        task.schedule_time = schedule_time
    return task


def jwt_payload(authorization: str) -> dict[str, Any]:
    scheme, token = authorization.split(" ", 1)
    assert scheme == "Bearer"
    parts = token.split(".")
    assert len(parts) == 3
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def target_server() -> Iterator[Target]:
    # One worker server for the module: stopping a werkzeug server takes ~0.5 s.
    app = Target()
    with ServerThread(app) as server:
        app.url = server.url
        yield app


@pytest.fixture
def target(target_server: Target) -> Target:
    target_server.reset()
    return target_server


@pytest.fixture
def emulator_settings() -> dict[str, Any]:
    """Extra CloudTasksEmulator arguments; tests override it with pytest.mark.parametrize."""
    return {}


@pytest.fixture
def emulator(emulator_settings: dict[str, Any]) -> Iterator[CloudTasksEmulator]:
    emulator = CloudTasksEmulator(queues=[QUEUE_NAME], dispatch_timeout=10.0, **emulator_settings)
    yield emulator
    emulator.close()


@pytest.fixture
def server(emulator: CloudTasksEmulator) -> Iterator[ServerThread]:
    with ServerThread(create_app(emulator)) as server:
        yield server


@pytest.fixture
def client(server: ServerThread) -> tasks_v2.CloudTasksClient:
    return make_client(server.url)


@pytest.fixture
def control(server: ServerThread) -> Iterator[Control]:
    control = Control(server.url)
    yield control
    control.close()


# --------------------------------------------------------------------------------------------------
# Scheduling and dispatch


def test_scheduled_task_runs_only_once_due_with_cloud_tasks_headers(
    client: tasks_v2.CloudTasksClient, control: Control, target: Target
) -> None:
    url = f"{target.url}/tasks/email"
    schedule = control.now() + timedelta(hours=2)
    created = client.create_task(
        parent=client.queue_path(PROJECT, LOCATION, QUEUE),
        task=http_task(
            url, task_id="email1-abc123", schedule_time=schedule, audience="https://fn.example/email"
        ),
    )

    assert control.run_due() == []
    assert control.advance(3600) == []
    assert target.received == []
    assert [t["name"] for t in control.pending()] == [created.name]

    dispatched = control.advance(3601)

    assert [(d["name"], d["url"], d["status"], d["retryCount"], d["outcome"]) for d in dispatched] == [
        (created.name, url, 200, 0, "succeeded")
    ]
    [request] = target.received
    assert request.method == "POST"
    assert request.path == "/tasks/email"
    assert request.body == b'{"lead": 1}'
    headers = request.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "Google-Cloud-Tasks"
    assert headers["X-Cloudtasks-Queuename"] == QUEUE
    assert headers["X-Cloudtasks-Taskname"] == "email1-abc123"
    assert headers["X-Cloudtasks-Taskretrycount"] == "0"
    assert headers["X-Cloudtasks-Taskexecutioncount"] == "0"
    assert "X-Cloudtasks-Taskpreviousresponse" not in headers
    assert float(headers["X-Cloudtasks-Tasketa"]) == pytest.approx(
        created.schedule_time.timestamp(), abs=1e-6
    )
    claims = jwt_payload(headers["Authorization"])
    assert claims["iss"] == "https://accounts.google.com"
    assert claims["aud"] == "https://fn.example/email"
    assert claims["email"] == INVOKER
    assert claims["exp"] > claims["iat"]

    assert control.pending() == []
    with pytest.raises(exceptions.NotFound):
        client.get_task(name=created.name)


def test_oidc_audience_defaults_to_the_url_and_methods_are_kept(
    client: tasks_v2.CloudTasksClient, control: Control, target: Target
) -> None:
    task = http_task(f"{target.url}/put", body=b"raw", method=tasks_v2.HttpMethod.PUT)
    task.http_request.oidc_token.audience = ""
    client.create_task(parent=QUEUE_NAME, task=task)

    control.run_due()

    [request] = target.at("/put")
    assert request.method == "PUT"
    assert request.body == b"raw"
    assert jwt_payload(request.headers["Authorization"])["aud"] == f"{target.url}/put"


def test_tokens_are_signed_by_the_emulator_and_verify_against_its_certs(
    client: tasks_v2.CloudTasksClient, control: Control, target: Target, server: ServerThread
) -> None:
    client.create_task(parent=QUEUE_NAME, task=http_task(f"{target.url}/signed"))
    control.run_due()
    [request] = target.at("/signed")
    auth = TaskAuth(
        certs_url=f"{server.url}/_emulator/certs", invoker=INVOKER, audiences=[f"{target.url}/signed"]
    )
    assert auth.refusal(request.headers["Authorization"], f"{target.url}/signed") is None
    # A token of the same shape without the emulator's signature is refused, as Google's would be.
    unsigned = fake_oidc_token(INVOKER, f"{target.url}/signed", time.time())
    assert "not found" in (auth.refusal(f"Bearer {unsigned}", f"{target.url}/signed") or "")
    minted = httpx.post(
        f"{server.url}/_emulator/token", json={"email": INVOKER, "audience": target.url}
    ).json()
    assert auth.refusal(f"Bearer {minted['token']}", target.url) is None


def test_the_first_check_fetches_the_certificates_whatever_the_clock_says(
    server: ServerThread, emulator: CloudTasksEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fresh instance's monotonic clock may be near zero: "never fetched" is not "fetched at 0".
    monkeypatch.setattr("shared.adapters.task_auth.time.monotonic", lambda: 1.0)
    auth = TaskAuth(certs_url=f"{server.url}/_emulator/certs", invoker=INVOKER, audiences=["http://h/"])
    assert auth.refusal(f"Bearer {emulator.signer.token(INVOKER, 'http://h/')}", "http://h/") is None


def test_create_returns_the_task_and_get_and_list_work(
    client: tasks_v2.CloudTasksClient, control: Control, target: Target
) -> None:
    schedule = control.now() + timedelta(minutes=5)
    created = client.create_task(
        parent=QUEUE_NAME, task=http_task(f"{target.url}/a", task_id="first", schedule_time=schedule)
    )

    assert created.name == f"{QUEUE_NAME}/tasks/first"
    assert created.schedule_time.timestamp() == pytest.approx(schedule.timestamp(), abs=1e-6)
    assert created.create_time.timestamp() <= schedule.timestamp()
    assert created.dispatch_count == 0
    assert created.http_request.url == f"{target.url}/a"
    assert created.http_request.http_method == tasks_v2.HttpMethod.POST
    assert created.http_request.headers == {"Content-Type": "application/json"}
    assert created.http_request.oidc_token.service_account_email == INVOKER
    assert created.http_request.body == b""  # BASIC view, like the real service
    assert created.view == tasks_v2.Task.View.BASIC

    full = client.create_task(
        request={
            "parent": QUEUE_NAME,
            "task": http_task(f"{target.url}/b", task_id="second", schedule_time=schedule),
            "response_view": tasks_v2.Task.View.FULL,
        }
    )
    assert full.http_request.body == b'{"lead": 1}'

    got = client.get_task(request={"name": created.name, "response_view": tasks_v2.Task.View.FULL})
    assert got.http_request.body == b'{"lead": 1}'
    assert client.get_task(name=created.name).http_request.body == b""

    unnamed = client.create_task(parent=QUEUE_NAME, task=http_task(f"{target.url}/c", schedule_time=schedule))
    assert unnamed.name.startswith(f"{QUEUE_NAME}/tasks/")

    # page_size=2 makes the pager follow nextPageToken.
    listed = client.list_tasks(request={"parent": QUEUE_NAME, "page_size": 2})
    assert sorted(t.name for t in listed) == sorted([created.name, full.name, unnamed.name])


def test_tasks_created_by_a_handler_during_dispatch_run_without_deadlock(
    client: tasks_v2.CloudTasksClient,
    control: Control,
    target: Target,
    emulator: CloudTasksEmulator,
    server: ServerThread,
) -> None:
    handler_client = make_client(server.url)

    def enqueue_follow_ups(_: Received) -> None:
        # Runs while the emulator is dispatching /chain: it must accept new tasks meanwhile.
        handler_client.create_task(parent=QUEUE_NAME, task=http_task(f"{target.url}/now", task_id="now"))
        later = emulator.now() + timedelta(days=1)
        handler_client.create_task(
            parent=QUEUE_NAME, task=http_task(f"{target.url}/later", task_id="later", schedule_time=later)
        )

    target.hooks["/chain"] = enqueue_follow_ups
    client.create_task(parent=QUEUE_NAME, task=http_task(f"{target.url}/chain", task_id="chain"))

    dispatched = control.run_due()

    # The immediately due follow-up runs in the same call; the scheduled one waits.
    assert [(d["url"], d["status"]) for d in dispatched] == [
        (f"{target.url}/chain", 200),
        (f"{target.url}/now", 200),
    ]
    assert [t["name"] for t in control.pending()] == [f"{QUEUE_NAME}/tasks/later"]

    assert [d["url"] for d in control.advance(86400)] == [f"{target.url}/later"]
    assert len(target.at("/later")) == 1


# --------------------------------------------------------------------------------------------------
# De-duplication and deletion


def test_reused_name_conflicts(client: tasks_v2.CloudTasksClient, control: Control, target: Target) -> None:
    later = control.now() + timedelta(minutes=10)
    client.create_task(parent=QUEUE_NAME, task=http_task(target.url, task_id="dup", schedule_time=later))

    with pytest.raises(exceptions.Conflict):
        client.create_task(parent=QUEUE_NAME, task=http_task(target.url, task_id="dup", schedule_time=later))


def test_name_stays_taken_for_an_hour_after_the_task_ran(
    client: tasks_v2.CloudTasksClient, control: Control, target: Target
) -> None:
    client.create_task(parent=QUEUE_NAME, task=http_task(target.url, task_id="once"))
    assert len(control.run_due()) == 1

    with pytest.raises(exceptions.Conflict):
        client.create_task(parent=QUEUE_NAME, task=http_task(target.url, task_id="once"))
    control.advance(3000)
    with pytest.raises(exceptions.Conflict):
        client.create_task(parent=QUEUE_NAME, task=http_task(target.url, task_id="once"))

    control.advance(700)
    again = client.create_task(parent=QUEUE_NAME, task=http_task(target.url, task_id="once"))
    assert again.name.endswith("/tasks/once")


def test_deleted_task_never_runs_and_its_name_stays_taken(
    client: tasks_v2.CloudTasksClient, control: Control, target: Target
) -> None:
    later = control.now() + timedelta(minutes=30)
    task = client.create_task(
        parent=QUEUE_NAME, task=http_task(target.url, task_id="gone", schedule_time=later)
    )

    client.delete_task(name=task.name)

    with pytest.raises(exceptions.Conflict):  # the real service keeps deleted names for ~1 h too
        client.create_task(parent=QUEUE_NAME, task=http_task(target.url, task_id="gone"))
    assert control.advance(86400) == []
    assert target.received == []
    assert control.pending() == []
    with pytest.raises(exceptions.NotFound):
        client.get_task(name=task.name)


def test_delete_of_missing_or_finished_task_is_not_found(
    client: tasks_v2.CloudTasksClient, control: Control, target: Target
) -> None:
    with pytest.raises(exceptions.NotFound):
        client.delete_task(name=client.task_path(PROJECT, LOCATION, QUEUE, "never-created"))

    done = client.create_task(parent=QUEUE_NAME, task=http_task(target.url, task_id="done"))
    control.run_due()
    with pytest.raises(exceptions.NotFound):
        client.delete_task(name=done.name)


def test_task_deleted_by_its_own_handler_is_not_retried(
    client: tasks_v2.CloudTasksClient, control: Control, target: Target, server: ServerThread
) -> None:
    handler_client = make_client(server.url)
    target.statuses["/self-delete"] = [500]
    target.hooks["/self-delete"] = lambda received: handler_client.delete_task(
        name=client.task_path(PROJECT, LOCATION, QUEUE, received.headers["X-Cloudtasks-Taskname"])
    )
    client.create_task(parent=QUEUE_NAME, task=http_task(f"{target.url}/self-delete", task_id="self"))

    [record] = control.run_due()

    assert (record["status"], record["outcome"]) == (500, "deleted")
    assert control.advance(7200) == []
    assert len(target.at("/self-delete")) == 1


# --------------------------------------------------------------------------------------------------
# Validation


def test_missing_queue_is_not_found(client: tasks_v2.CloudTasksClient, target: Target) -> None:
    with pytest.raises(exceptions.NotFound):
        client.create_task(
            parent=client.queue_path(PROJECT, LOCATION, "no-such-queue"),
            task=http_task(target.url, queue="no-such-queue", task_id="x"),
        )


@pytest.mark.parametrize("task_id", ["bad id", "dots.not.allowed", "x" * 501, "ümlaut"])
def test_invalid_task_id_is_rejected(client: tasks_v2.CloudTasksClient, target: Target, task_id: str) -> None:
    # api_core maps HTTP 400 to BadRequest (InvalidArgument is a gRPC-only subclass).
    with pytest.raises(exceptions.BadRequest):
        client.create_task(parent=QUEUE_NAME, task=http_task(target.url, task_id=task_id))


def test_invalid_tasks_are_rejected(
    client: tasks_v2.CloudTasksClient, control: Control, target: Target
) -> None:
    other_queue = http_task(target.url, queue="another-queue", task_id="ok-id")
    too_late = http_task(target.url, schedule_time=control.now() + timedelta(days=31))
    no_url = tasks_v2.Task(http_request=tasks_v2.HttpRequest(http_method=tasks_v2.HttpMethod.POST))
    bad_scheme = http_task("ftp://example.com/x")
    get_with_body = http_task(target.url, method=tasks_v2.HttpMethod.GET, body=b"x")

    for task in (other_queue, too_late, no_url, bad_scheme, get_with_body):
        with pytest.raises(exceptions.BadRequest):
            client.create_task(parent=QUEUE_NAME, task=task)

    assert control.pending() == []


def test_schedule_within_30_days_is_accepted(
    client: tasks_v2.CloudTasksClient, control: Control, target: Target
) -> None:
    task = http_task(target.url, task_id="far", schedule_time=control.now() + timedelta(days=29))
    assert client.create_task(parent=QUEUE_NAME, task=task).name.endswith("/far")


def test_unimplemented_rpc_is_reported_as_such(client: tasks_v2.CloudTasksClient) -> None:
    with pytest.raises(exceptions.MethodNotImplemented):
        client.get_iam_policy(resource=QUEUE_NAME)


# --------------------------------------------------------------------------------------------------
# Retries


@pytest.mark.parametrize("emulator_settings", [{"min_backoff": 10.0, "max_backoff": 100.0}])
def test_failed_dispatches_are_retried_with_backoff(
    client: tasks_v2.CloudTasksClient, control: Control, target: Target
) -> None:
    target.statuses["/flaky"] = [500, 500]
    task = client.create_task(parent=QUEUE_NAME, task=http_task(f"{target.url}/flaky", task_id="flaky"))

    [first] = control.run_due()
    assert (first["status"], first["retryCount"], first["outcome"]) == (500, 0, "retrying")
    assert control.run_due() == []  # the emulator clock is still inside the 10 s backoff
    fetched = client.get_task(name=task.name)
    assert (fetched.dispatch_count, fetched.response_count) == (1, 1)
    assert fetched.last_attempt.response_status.code == 13  # INTERNAL, for HTTP 500

    [second] = control.advance(10)
    assert (second["status"], second["retryCount"]) == (500, 1)
    assert control.advance(10) == []  # the backoff doubled to 20 s

    [third] = control.advance(10)
    assert (third["status"], third["retryCount"], third["outcome"]) == (200, 2, "succeeded")

    requests = target.at("/flaky")
    assert [r.headers["X-Cloudtasks-Taskretrycount"] for r in requests] == ["0", "1", "2"]
    # Like the real service, 5xx answers do not count as executions.
    assert [r.headers["X-Cloudtasks-Taskexecutioncount"] for r in requests] == ["0", "0", "0"]
    assert [r.headers.get("X-Cloudtasks-Taskpreviousresponse") for r in requests] == [None, "500", "500"]
    assert [a["status"] for a in control.history()] == [500, 500, 200]
    assert control.pending() == []


@pytest.mark.parametrize("emulator_settings", [{"max_attempts": 3, "min_backoff": 1.0}])
def test_task_is_dropped_after_max_attempts(
    client: tasks_v2.CloudTasksClient, control: Control, target: Target
) -> None:
    target.statuses["/broken"] = [400] * 10
    task = client.create_task(parent=QUEUE_NAME, task=http_task(f"{target.url}/broken", task_id="broken"))

    outcomes = [control.run_due(), control.advance(10), control.advance(3600)]

    # Retries 1 s, then 2 s more, later: the clock stops at each on its way through an advance.
    assert [[d["outcome"] for d in run] for run in outcomes] == [["retrying"], ["retrying", "failed"], []]
    requests = target.at("/broken")
    assert [r.headers["X-Cloudtasks-Taskretrycount"] for r in requests] == ["0", "1", "2"]
    assert [r.headers["X-Cloudtasks-Taskexecutioncount"] for r in requests] == ["0", "1", "2"]  # 4xx count
    [failed] = control.failed()
    assert (failed["name"], failed["lastStatus"], failed["dispatchCount"]) == (task.name, 400, 3)
    with pytest.raises(exceptions.NotFound):
        client.get_task(name=task.name)


@pytest.mark.parametrize(
    "emulator_settings", [{"queue_settings": {QUEUE_NAME: {"rateLimits": {"maxDispatchesPerSecond": 2}}}}]
)
def test_a_backlog_drains_at_the_queues_rate_on_the_emulator_clock(
    client: tasks_v2.CloudTasksClient, control: Control, target: Target
) -> None:
    start = control.now()
    for n in range(10):
        client.create_task(parent=QUEUE_NAME, task=http_task(f"{target.url}/burst", task_id=f"t{n}"))
    # The bucket holds max_burst_size = 2 tokens; without waiting for more, the rest stays.
    assert len(control.run_due(wait_for_rate_limits=False)) == 2
    assert control.run_due(wait_for_rate_limits=False) == []

    drained = control.run_due()  # 2 a second: the clock moves on 4 s for the other 8, in creation order
    assert [d["name"].rsplit("/", 1)[1] for d in drained] == [f"t{n}" for n in range(2, 10)]
    offsets = [(datetime.fromisoformat(d["time"]) - start).total_seconds() for d in drained]
    assert [round(o * 2) / 2 for o in offsets] == [0.5 * n for n in range(1, 9)]
    assert control.pending() == []
    assert 4 <= (control.now() - start).total_seconds() < 5


def test_rate_limits_are_shown_validated_and_updated(
    client: tasks_v2.CloudTasksClient, control: Control
) -> None:
    queue = client.get_queue(name=QUEUE_NAME)
    assert (queue.rate_limits.max_dispatches_per_second, queue.rate_limits.max_concurrent_dispatches) == (
        500,
        1000,
    )
    name = client.queue_path(PROJECT, LOCATION, "slow")
    created = client.create_queue(
        parent=LOCATION_NAME,
        queue=tasks_v2.Queue(
            name=name,
            rate_limits=tasks_v2.RateLimits(max_dispatches_per_second=0.5, max_concurrent_dispatches=3),
        ),
    )
    assert created.rate_limits.max_dispatches_per_second == 0.5
    assert (created.rate_limits.max_burst_size, created.rate_limits.max_concurrent_dispatches) == (1, 3)
    for limits in ({"max_dispatches_per_second": 501}, {"max_concurrent_dispatches": 5001}):
        with pytest.raises(exceptions.BadRequest):
            client.create_queue(
                parent=LOCATION_NAME,
                queue=tasks_v2.Queue(
                    name=client.queue_path(PROJECT, LOCATION, "bad"),
                    rate_limits=tasks_v2.RateLimits(**limits),
                ),
            )
    updated = client.update_queue(
        queue=tasks_v2.Queue(name=name, rate_limits=tasks_v2.RateLimits(max_dispatches_per_second=20)),
        update_mask={"paths": ["rate_limits.max_dispatches_per_second"]},
    )
    assert (updated.rate_limits.max_dispatches_per_second, updated.rate_limits.max_concurrent_dispatches) == (
        20,
        3,
    )


@pytest.mark.parametrize(
    "emulator_settings", [{"queue_settings": {QUEUE_NAME: {"rateLimits": {"maxDispatchesPerSecond": 0.1}}}}]
)
def test_run_task_ignores_the_rate_limits(
    client: tasks_v2.CloudTasksClient, control: Control, target: Target
) -> None:
    first, second = (
        client.create_task(parent=QUEUE_NAME, task=http_task(f"{target.url}/r", task_id=name))
        for name in ("first", "second")
    )
    assert [d["name"] for d in control.run_due(wait_for_rate_limits=False)] == [first.name]
    client.run_task(name=second.name)
    assert [d["name"] for d in control.run_due(wait_for_rate_limits=False)] == [second.name]


def test_unreachable_worker_is_retried(client: tasks_v2.CloudTasksClient, control: Control) -> None:
    client.create_task(
        parent=QUEUE_NAME, task=http_task(f"http://127.0.0.1:{free_port()}/down", task_id="down")
    )

    [record] = control.run_due()

    assert record["status"] is None
    assert record["error"].startswith("UNAVAILABLE")
    assert record["outcome"] == "retrying"
    assert control.pending()[0]["retryCount"] == 1


# --------------------------------------------------------------------------------------------------
# Queues


def test_queue_lifecycle_through_the_client(
    client: tasks_v2.CloudTasksClient, control: Control, target: Target
) -> None:
    name = client.queue_path(PROJECT, LOCATION, "one-shot")
    created = client.create_queue(
        parent=client.common_location_path(PROJECT, LOCATION),
        queue=tasks_v2.Queue(name=name, retry_config=tasks_v2.RetryConfig(max_attempts=1)),
    )
    assert created.state == tasks_v2.Queue.State.RUNNING
    assert created.retry_config.max_attempts == 1
    assert client.get_queue(name=name).name == name
    assert sorted(q.name for q in client.list_queues(parent=LOCATION_NAME)) == sorted([QUEUE_NAME, name])
    with pytest.raises(exceptions.Conflict):
        client.create_queue(parent=LOCATION_NAME, queue=tasks_v2.Queue(name=name))

    # The queue's own retryConfig wins over the emulator defaults: one attempt only.
    target.statuses["/once"] = [503]
    client.create_task(parent=name, task=http_task(f"{target.url}/once", queue="one-shot", task_id="t"))
    assert [d["outcome"] for d in control.run_due()] == ["failed"]

    client.delete_queue(name=name)
    with pytest.raises(exceptions.NotFound):
        client.get_queue(name=name)


def test_paused_queue_holds_tasks_until_resumed_and_run_task_forces_one(
    client: tasks_v2.CloudTasksClient, control: Control, target: Target
) -> None:
    assert client.pause_queue(name=QUEUE_NAME).state == tasks_v2.Queue.State.PAUSED
    client.create_task(parent=QUEUE_NAME, task=http_task(f"{target.url}/held", task_id="held"))
    later = control.now() + timedelta(days=3)
    forced = client.create_task(
        parent=QUEUE_NAME, task=http_task(f"{target.url}/forced", task_id="forced", schedule_time=later)
    )

    assert control.advance(60) == []

    client.run_task(name=forced.name)
    assert [d["url"] for d in control.run_due()] == [f"{target.url}/forced"]

    client.resume_queue(name=QUEUE_NAME)
    assert [d["url"] for d in control.run_due()] == [f"{target.url}/held"]


# --------------------------------------------------------------------------------------------------
# Controls, auto-dispatch, CLI


def test_reset_forgets_tasks_history_and_tombstones(
    client: tasks_v2.CloudTasksClient, control: Control, target: Target
) -> None:
    client.create_task(parent=QUEUE_NAME, task=http_task(target.url, task_id="r1"))
    later = control.now() + timedelta(hours=1)
    client.create_task(parent=QUEUE_NAME, task=http_task(target.url, task_id="r2", schedule_time=later))
    control.run_due()

    control.reset()

    assert control.pending() == []
    assert control.history() == []
    client.create_task(parent=QUEUE_NAME, task=http_task(target.url, task_id="r1"))
    assert client.get_queue(name=QUEUE_NAME).name == QUEUE_NAME


def test_advance_rejects_going_backwards(server: ServerThread) -> None:
    response = httpx.post(f"{server.url}/_emulator/advance", json={"seconds": -1}, trust_env=False)
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_auto_dispatch_runs_due_tasks_in_the_background(target: Target) -> None:
    emulator = CloudTasksEmulator(queues=[QUEUE_NAME], auto_dispatch=True, auto_dispatch_interval=0.05)
    try:
        with ServerThread(create_app(emulator)) as server:
            make_client(server.url).create_task(parent=QUEUE_NAME, task=http_task(f"{target.url}/auto"))
            deadline = time.monotonic() + 10
            while not target.at("/auto") and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        emulator.close()
    assert len(target.at("/auto")) == 1


def test_schedules_fire_at_once_then_every_interval_of_emulator_time(target: Target) -> None:
    def wait_for(count: int) -> None:
        deadline = time.monotonic() + 10
        while len(target.at("/reconcile")) < count and time.monotonic() < deadline:
            time.sleep(0.05)

    emulator = CloudTasksEmulator(
        auto_dispatch=True,
        auto_dispatch_interval=0.05,
        schedules=[(300, f"{target.url}/reconcile")],
        scheduler_account=INVOKER,
    )
    try:
        wait_for(1)
        time.sleep(0.3)
        assert len(target.at("/reconcile")) == 1  # not again before 300 s of emulator time
        emulator.advance(300)
        wait_for(2)
        certs = emulator.signer.certs()
    finally:
        emulator.close()
    assert [r.method for r in target.at("/reconcile")] == ["POST", "POST"]
    # Cloud Scheduler's oidc_token: the invoker's, its audience the function's URL (without the route).
    token = target.at("/reconcile")[0].headers["Authorization"].removeprefix("Bearer ")
    claims = google_jwt.decode(token, certs=certs, audience=target.url)
    assert claims["email"] == INVOKER
    args = build_parser().parse_args(["--auto-dispatch", "--every", "300", "http://x/reconcile"])
    assert args.every == [["300", "http://x/reconcile"]]


def test_cli_arguments_configure_the_emulator() -> None:
    args = build_parser().parse_args(
        [
            "--port",
            "9999",
            "--queue",
            QUEUE_NAME,
            "--queue",
            f"{LOCATION_NAME}/queues/other",
            "--max-attempts",
            "5",
            "--min-backoff",
            "2",
        ]
    )
    emulator = emulator_from_args(args)
    try:
        assert args.port == 9999
        assert emulator.default_retry == RetryConfig(max_attempts=5, min_backoff=2.0)
        assert [q["name"] for q in emulator.list_queues(LOCATION_NAME)["queues"]] == [
            QUEUE_NAME,
            f"{LOCATION_NAME}/queues/other",
        ]
    finally:
        emulator.close()


def test_cli_serves_the_api_and_logs_each_dispatch(target: Target) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "local.cloud_tasks_emulator", "--port", str(port), "--queue", QUEUE_NAME],
        cwd=REPO_ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{base}/_emulator/now", trust_env=False).raise_for_status()
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, "emulator did not start"
                time.sleep(0.1)
        make_client(base).create_task(parent=QUEUE_NAME, task=http_task(f"{target.url}/cli", task_id="cli"))
        response = httpx.post(f"{base}/_emulator/run-due", trust_env=False, timeout=30)
        assert [d["status"] for d in response.json()["dispatched"]] == [200]
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=20)
    assert len(target.at("/cli")) == 1
    dispatch_lines = [line for line in stderr.splitlines() if "dispatch " in line and "/tasks/cli" in line]
    assert len(dispatch_lines) == 1
