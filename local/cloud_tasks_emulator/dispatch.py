"""Dispatch: pushing due tasks to their URLs with the real service's headers, retries and backoff."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import httpx

from local.cloud_tasks_emulator.model import DispatchRecord, _Attempt, _Result, _Task
from local.cloud_tasks_emulator.wire import (
    _GRPC_CODE_FOR_HTTP,
    _GRPC_DEADLINE_EXCEEDED,
    _GRPC_UNAVAILABLE,
    _GRPC_UNKNOWN,
    format_time,
    log,
)


class Dispatching:
    """Runs due tasks one at a time and records each attempt (the emulator mixes it in)."""

    def _next_due(self, exclude: set[int]) -> _Task | None:
        """The first due task whose queue runs and has a rate-limit token (RunTask's ignore both)."""
        now = self.now()
        due = [
            t
            for t in self._tasks.values()
            if t.seq not in exclude
            and t.schedule_time <= now
            and (
                t.forced
                or self._queues[t.queue].state == "RUNNING"
                and self._queues[t.queue].next_token_time(now) <= now
            )
        ]
        return min(due, key=_due_order, default=None)

    def _next_token_of_held_tasks(self, exclude: set[int]) -> datetime | None:
        """When the first due task that only its queue's rate limit holds back may go."""
        now = self.now()
        times = [
            self._queues[t.queue].next_token_time(now)
            for t in self._tasks.values()
            if t.seq not in exclude and t.schedule_time <= now and self._queues[t.queue].state == "RUNNING"
        ]
        return min(times, default=None)

    def _next_dispatch_time(self) -> datetime | None:
        """The next moment a task may be dispatched: its schedule time, or its queue's next token."""
        now = self.now()
        times = [
            max(t.schedule_time, self._queues[t.queue].next_token_time(now))
            for t in self._tasks.values()
            if self._queues[t.queue].state == "RUNNING"
        ]
        return min(times, default=None)

    def _begin_attempt(self, task: _Task) -> _Attempt:
        now = self.now()
        retry_count = task.dispatch_count
        task.dispatch_count += 1
        if not task.forced:
            self._queues[task.queue].take_token(now)
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
            # Signed with the emulator's key (its certificate at /_emulator/certs); wall-clock iat/exp:
            # handlers check expiry against their own (real) clock.
            headers["Authorization"] = f"Bearer {self.signer.token(email, audience)}"
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
                self.run_due(wait_for_rate_limits=False)  # real time brings the next tokens
                self._run_schedules()
            except Exception:  # keep the dispatcher alive whatever one run does
                log.exception("auto-dispatch run failed")

    def _run_schedules(self) -> None:
        """Cloud Scheduler's part: POST each scheduled URL when its time (emulator time) has come."""
        now = self.now().timestamp()
        for schedule in self._schedules:
            every, url, next_at = schedule
            if now < next_at:
                continue
            schedule[2] = now + every
            headers = {"User-Agent": "Google-Cloud-Scheduler"}
            if self.scheduler_account:
                # The job's oidc_token; its audience is the function's URL, the scheduled one without its
                # route (infra/terraform/scheduler.tf: .../email_chain/reconcile, audience .../email_chain).
                audience = url.rsplit("/", 1)[0]
                headers["Authorization"] = f"Bearer {self.signer.token(self.scheduler_account, audience)}"
            try:
                response = self._http.post(url, headers=headers, timeout=self.dispatch_timeout)
                log.info("scheduled POST %s: %s", url, response.status_code)
            except httpx.HTTPError as exc:
                log.warning("scheduled POST %s failed: %s", url, type(exc).__name__)


def _due_order(task: _Task) -> tuple[datetime, int]:
    return task.schedule_time, task.seq
