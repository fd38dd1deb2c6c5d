"""Small helpers shared by the functions' HTTP entry points."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from flask import Request, Response

if TYPE_CHECKING:
    from shared.bootstrap import Container

log = logging.getLogger(__name__)


def json_response(http_status: int, /, **body: Any) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=http_status, mimetype="application/json")


def caller_refused(request: Request, container: Container, own_url: str | None) -> Response | None:
    """A task handler's gate: None for the tasks invoker (Cloud Tasks, Cloud Scheduler); else 401 with
    nothing done, or 503 while the issuer's certificates cannot be fetched. Nothing of the request is read
    before it (not even the retry-count header)."""
    from shared.adapters.task_auth import CertificatesUnavailable

    try:
        refusal = container.task_auth(own_url).refusal(request.headers.get("Authorization"), request.url)
    except CertificatesUnavailable as exc:
        log.warning("caller not checked: certificates unavailable", extra={"reason": str(exc)})
        return json_response(503, error="cannot check the caller now; retry later")
    if refusal is None:
        return None
    log.warning("task call refused", extra={"reason": refusal, "path": request.path})
    return json_response(401, error="only the tasks invoker may call this")
