"""HTTP entry of `tilda_webhook`: verify, parse, hand the submission to the intake use case."""

from __future__ import annotations

import hmac
import logging

from flask import Request, Response

from shared.adapters import round_trips
from shared.bootstrap import Container
from shared.domain.tilda import (
    InvalidSubmission,
    TildaSubmission,
    form_from_body,
    is_test_ping,
    parse_submission,
)
from shared.entrypoints.http import json_response
from shared.flows.once import Busy

log = logging.getLogger(__name__)


def handle(request: Request, container: Container) -> Response:
    """Answer Tilda: 200 accepted, 400 bad form, 401 bad secret, 413 too large, 503 try again."""
    settings = container.settings
    if request.method != "POST":
        return json_response(405, error="use POST")
    limit = settings.tilda_max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        return json_response(413, error=f"body larger than {limit} bytes")
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        return json_response(413, error=f"body larger than {limit} bytes")

    if not settings.tilda_secret_param and not _secret_ok(
        request.headers.get(settings.tilda_secret_header), settings.secret("tilda_secret")
    ):
        return json_response(401, error="wrong or missing secret")
    try:
        form = form_from_body(request.mimetype or "", body)
    except InvalidSubmission as exc:
        return json_response(400, error=str(exc))
    if settings.tilda_secret_param:
        provided = request.args.get(settings.tilda_secret_param) or form.pop(
            settings.tilda_secret_param, None
        )
        if not isinstance(provided, str) or not _secret_ok(provided, settings.secret("tilda_secret")):
            return json_response(401, error="wrong or missing secret")

    if is_test_ping(form):
        log.info("tilda connection check answered")
        return json_response(200, status="ok", test=True)
    try:
        submission = parse_submission(form, settings.tilda_fields(), settings.phone_default_region)
    except InvalidSubmission as exc:
        log.info("tilda submission refused", extra={"reason": str(exc)})
        return json_response(400, error=str(exc))
    with round_trips.counting() as store_round_trips:
        response = _accept(submission, container)
    log.info(
        "tilda submission answered",
        extra={"http_status": response.status_code, "store_round_trips": store_round_trips()},
    )
    return response


def _accept(submission: TildaSubmission, container: Container) -> Response:
    try:
        result = container.intake.accept(submission)
    except Busy:
        return json_response(503, error="this submission is being processed; retry later")
    except Exception:
        # Store or Cloud Tasks unreachable: nothing was confirmed, so let Tilda retry.
        log.exception("tilda submission not accepted")
        return json_response(503, error="temporarily unavailable; retry later")
    return json_response(200, status="ok", outcome=result.outcome, lead_id=result.lead_id)


def _secret_ok(provided: str | None, expected: str) -> bool:
    """Constant-time comparison, so the secret cannot be guessed byte by byte from response times."""
    return bool(provided) and bool(expected) and hmac.compare_digest(provided.encode(), expected.encode())  # type: ignore[union-attr]
