"""HTTP entry of `reminders`, a Cloud Tasks target (private: only the tasks invoker may call it)."""

from __future__ import annotations

import logging

from flask import Request, Response
from pydantic import ValidationError

from shared.bootstrap import Container
from shared.domain.jobs import REMINDERS_JOB, AfterLesson, HoldEnd, Nudge, SlotFreed
from shared.entrypoints.http import caller_refused, json_response

log = logging.getLogger(__name__)


def handle(request: Request, container: Container) -> Response:
    """A lesson reminder, the message after the lesson, a nudge, or the waitlist's offer and hold end.

    200 with what happened (sent/pending/skipped/duplicate/blocked/rejected, offered/held/nobody,
    released/gone): a message Telegram refuses now stays in the outbox (the reconciler delivers it), so
    a retry of the task would add nothing. A store failure is a 500 and Cloud Tasks tries again."""
    if request.method != "POST":
        return json_response(405, error="use POST")
    if (refused := caller_refused(request, container, container.settings.reminders_url)) is not None:
        return refused
    try:
        task = REMINDERS_JOB.validate_json(request.get_data(cache=False))
    except ValidationError as exc:
        reason = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
        log.error("malformed reminder task dropped", extra={"reason": reason})
        return json_response(200, outcome="rejected", error=reason)
    if isinstance(task, Nudge):
        return json_response(200, outcome=container.nudges.run(task))
    if isinstance(task, SlotFreed):
        return json_response(200, outcome=container.waitlist.offer(task))
    if isinstance(task, HoldEnd):
        return json_response(200, outcome=container.waitlist.end(task))
    if isinstance(task, AfterLesson):
        return json_response(200, outcome=container.reminders.after_lesson(task))
    return json_response(200, outcome=container.reminders.run(task))
