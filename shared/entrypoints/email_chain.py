"""HTTP entry of `email_chain`, a Cloud Tasks target (IAM lets only the tasks invoker call it).

Cloud Tasks retries every answer outside 2xx, so a task that can never succeed (a malformed payload, an
unknown lead) is answered 200 with its reason logged, and only transient failures get a 503.
"""

from __future__ import annotations

import logging

from flask import Request, Response
from pydantic import BaseModel, Field, ValidationError

from shared.bootstrap import Container
from shared.domain.email_chain import Step
from shared.entrypoints.http import json_response
from shared.flows.email_chain import Outcome, RetryLater

log = logging.getLogger(__name__)


class ChainTask(BaseModel):
    step: Step
    lead_id: str = Field(pattern=r"^[a-f0-9]{8,64}$")
    key: str = Field(default="", pattern=r"^[A-Za-z0-9_-]{0,64}$")
    event: str = Field(default="", pattern=r"^(|created|updated|activated|scheduled|rescheduled|cancelled)$")


def handle(request: Request, container: Container) -> Response:
    if request.method != "POST":
        return json_response(405, error="use POST")
    try:
        task = ChainTask.model_validate_json(request.get_data(cache=False))
    except ValidationError as exc:
        reason = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
        log.error("malformed email_chain task dropped", extra={"reason": reason})
        return json_response(200, outcome=Outcome.REJECTED.value, error=reason)
    try:
        retry_count = int(request.headers.get("X-CloudTasks-TaskRetryCount", "0"))
    except ValueError:
        retry_count = 0
    try:
        result = container.email_chain.run(
            task.step, task.lead_id, retry_count=retry_count, key=task.key, event=task.event
        )
    except RetryLater as exc:
        log.warning(
            "email_chain step will be retried",
            extra={"step": task.step.value, "lead_id": task.lead_id, "reason": str(exc)},
        )
        return json_response(503, outcome="retry", error=str(exc))
    log.info(
        "email_chain step finished",
        extra={
            "step": task.step.value,
            "lead_id": task.lead_id,
            "outcome": result.outcome.value,
            "detail": result.detail,
        },
    )
    return json_response(200, outcome=result.outcome.value, detail=result.detail)
