"""HTTP entry of `reminders`, a Cloud Tasks target (private: only the tasks invoker may call it)."""

from __future__ import annotations

import logging

from flask import Request, Response
from pydantic import ValidationError

from shared.bootstrap import Container
from shared.domain.jobs import Reminder
from shared.entrypoints.http import json_response
from shared.flows.reminders import ReminderRetry

log = logging.getLogger(__name__)


def handle(request: Request, container: Container) -> Response:
    """200 done/skipped/rejected (a retry would not change it), 503 when Telegram should be tried again."""
    if request.method != "POST":
        return json_response(405, error="use POST")
    try:
        task = Reminder.model_validate_json(request.get_data(cache=False))
    except ValidationError as exc:
        reason = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
        log.error("malformed reminder task dropped", extra={"reason": reason})
        return json_response(200, outcome="rejected", error=reason)
    try:
        outcome = container.reminders.run(task)
    except ReminderRetry as exc:
        return json_response(503, outcome="retry", error=str(exc))
    return json_response(200, outcome=outcome)
