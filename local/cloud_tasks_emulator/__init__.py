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

Queues apply their rateLimits on the emulator's clock (a token bucket of max_burst_size filled at
maxDispatchesPerSecond: ``run_due`` and ``advance`` move the clock on while tasks wait for a token) and
their retryConfig (backoff, maxAttempts, maxRetryDuration). Known differences from the real service: no
system throttling, one dispatch at a time (any maxConcurrentDispatches is met), ``Retry-After`` is
ignored, deleted queue names can be reused at once (the real service waits 7 days), and App Engine
tasks, IAM, CMEK and BatchCreate/BatchDelete are not implemented (501).

    wire.py      the REST wire format: limits, names, errors, times, durations and enums
    model.py     queues, tasks, attempts and dispatch records
    parsing.py   CreateTask's validation, as strict as the real service's
    dispatch.py  pushing due tasks to their URLs, retries and backoff
    emulator.py  `CloudTasksEmulator`: the RPCs, the virtual clock, the control methods
    app.py       the WSGI app: the REST routes and the control endpoints
    cli.py       `python -m local.cloud_tasks_emulator`
"""

from local.cloud_tasks_emulator.app import EmulatorApp, create_app
from local.cloud_tasks_emulator.cli import build_parser, emulator_from_args, main
from local.cloud_tasks_emulator.emulator import CloudTasksEmulator
from local.cloud_tasks_emulator.model import DispatchRecord, RetryConfig
from local.cloud_tasks_emulator.wire import ApiError, fake_oidc_token, format_time

__all__ = [
    "ApiError",
    "CloudTasksEmulator",
    "DispatchRecord",
    "EmulatorApp",
    "RetryConfig",
    "build_parser",
    "create_app",
    "emulator_from_args",
    "fake_oidc_token",
    "format_time",
    "main",
]
