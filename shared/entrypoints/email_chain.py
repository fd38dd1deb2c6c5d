"""HTTP entry of `email_chain`, a Cloud Tasks target (IAM lets only the tasks invoker call it).

Cloud Tasks retries every answer outside 2xx, so a task that can never succeed (a malformed payload, an
unknown lead) is answered 200 with its reason logged, and only transient failures get a 503.

`POST /reconcile` is the reconciler (Cloud Scheduler, every few minutes, with the same OIDC identity):
it delivers every outbox effect that is due (failed before, or whose delivery died with its process).
"""

from __future__ import annotations

import logging

from flask import Request, Response
from pydantic import ValidationError

from shared.bootstrap import Container
from shared.domain.jobs import EMAIL_CHAIN_JOB
from shared.entrypoints.http import caller_refused, json_response
from shared.flows.email_chain import Outcome, RetryLater
from shared.ports import CrmUnavailable

log = logging.getLogger(__name__)


RECONCILE_PATH = "/reconcile"


def handle(request: Request, container: Container) -> Response:
    if request.method != "POST":
        return json_response(405, error="use POST")
    if (refused := caller_refused(request, container, container.settings.email_chain_url)) is not None:
        return refused
    if request.path.rstrip("/") == RECONCILE_PATH:
        return reconcile(container)
    try:
        task = EMAIL_CHAIN_JOB.validate_json(request.get_data(cache=False))
    except ValidationError as exc:
        reason = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
        log.error("malformed email_chain task dropped", extra={"reason": reason})
        return json_response(200, outcome=Outcome.REJECTED.value, error=reason)
    try:
        result = container.email_chain.run(task)
    except RetryLater as exc:
        log.warning(
            "email_chain step will be retried",
            extra={"step": task.step.value, "lead_id": getattr(task, "lead_id", None), "reason": str(exc)},
        )
        return json_response(503, outcome="retry", error=str(exc))
    log.info(
        "email_chain step finished",
        extra={
            "step": task.step.value,
            "lead_id": getattr(task, "lead_id", None),
            "outcome": result.outcome.value,
            "detail": result.detail,
        },
    )
    return json_response(200, outcome=result.outcome.value, detail=result.detail)


def reconcile(container: Container) -> Response:
    """Re-drive the overdue effects; 200 with how each delivery ended (a dead letter included: it has been
    alerted, and answering 5xx would only make Cloud Scheduler call again sooner). The batched ones (CRM,
    managers' messages) go through the one batched writer, unless it is writing now."""
    container.email_chain.catch_up_leads()
    counts = container.outbox.redrive(batched=False)
    try:
        for outcome, count in container.email_chain.write_batched().items():
            counts[outcome] = counts.get(outcome, 0) + count
    except RetryLater:
        log.info("the CRM writer is busy; the batched effects wait for it")
    try:
        container.funnel.refresh()
    except CrmUnavailable as exc:  # the numbers wait for a later run; the effects above are what count
        log.warning("funnel not counted", extra={"reason": str(exc)})
    except Exception:  # a report must never cost the reconciler its answer
        log.exception("funnel not counted")
    summary = {outcome.value: count for outcome, count in counts.items()}
    if counts:
        log.info("outbox re-driven", extra={"outcome": summary})
    return json_response(200, outcome="reconciled", delivered=summary)
