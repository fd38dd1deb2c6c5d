"""Scheduling on Cloud Tasks: named HTTP tasks with an OIDC token, deleted to cancel.

Over the REST transport a reused task name raises `Conflict` (409), not its gRPC subclass
`AlreadyExists`: catch `Conflict`. Cloud Tasks keeps a name reserved for about an hour after the task ran
or was deleted, so a repeated enqueue in that window is harmless by construction.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from shared.domain.jobs import Job

log = logging.getLogger(__name__)


class CloudTasksScheduler:
    def __init__(
        self,
        client_factory: Any,
        *,
        project: str,
        location: str,
        queues: Mapping[str, str],
        urls: Mapping[str, str],
        invoker_service_account: str | None,
    ) -> None:
        self._client_factory = client_factory
        self._client: Any = None
        self._project = project
        self._location = location
        self._queues = dict(queues)  # target function → queue id
        self._urls = dict(urls)  # target function → its HTTPS URL
        self._invoker = invoker_service_account

    def _tasks(self) -> Any:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def _queue_path(self, target: str) -> str:
        return f"projects/{self._project}/locations/{self._location}/queues/{self._queues[target]}"

    def schedule(self, job: Job, run_at: datetime | None = None) -> bool:
        from google.api_core.exceptions import Conflict
        from google.cloud import tasks_v2

        url = self._urls[job.target]
        request = tasks_v2.HttpRequest(
            url=url,
            http_method=tasks_v2.HttpMethod.POST,
            headers={"Content-Type": "application/json"},
            body=job.model_dump_json().encode(),
        )
        if self._invoker:
            request.oidc_token = tasks_v2.OidcToken(service_account_email=self._invoker, audience=url)
        name = job.task_name()
        task = tasks_v2.Task(name=f"{self._queue_path(job.target)}/tasks/{name}", http_request=request)
        if run_at is not None:
            task.schedule_time = run_at
        try:
            self._tasks().create_task(parent=self._queue_path(job.target), task=task)
        except Conflict:
            log.info("task exists already", extra={"task": name})
            return False
        log.info("task scheduled", extra={"task": name, "run_at": run_at})
        return True

    def cancel(self, job: Job) -> bool:
        from google.api_core.exceptions import NotFound

        name = job.task_name()
        try:
            self._tasks().delete_task(name=f"{self._queue_path(job.target)}/tasks/{name}")
        except NotFound:
            return False
        log.info("task cancelled", extra={"task": name})
        return True

    def cancel_lead(self, lead_id: str) -> int:
        """Lists each queue (a page of up to 1000 tasks a call, names only): a parent's erasure is rare,
        and a task name begins with the lead's id whatever job it is."""
        from google.api_core.exceptions import NotFound

        prefix, cancelled = f"{lead_id}-", 0
        for target in sorted(self._queues):
            for task in self._tasks().list_tasks(
                request={"parent": self._queue_path(target), "page_size": 1000}
            ):
                if task.name.rpartition("/")[2].startswith(prefix):
                    try:
                        self._tasks().delete_task(name=task.name)
                        cancelled += 1
                    except NotFound:
                        pass  # it ran meanwhile
        log.info("tasks of a lead cancelled", extra={"lead_id": lead_id, "count": cancelled})
        return cancelled


def build_tasks_client(api_url: str | None) -> Any:
    """The real client; against a local emulator it speaks REST with no credentials."""
    from google.cloud import tasks_v2

    if not api_url:
        return tasks_v2.CloudTasksClient()
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials

    return tasks_v2.CloudTasksClient(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=api_url),
    )
