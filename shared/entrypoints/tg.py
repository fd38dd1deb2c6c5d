"""HTTP entry of `tg_webhook`: Telegram's secret, one update per request, each update handled once."""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from flask import Request, Response

from shared.adapters import round_trips
from shared.bootstrap import Container
from shared.bot.poison import MalformedUpdate
from shared.entrypoints.http import json_response

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def handle(request: Request, container: Container) -> Response:
    """200 once handled (or a duplicate), 400 malformed, 403 bad secret, 413 too large, 503 retry."""
    settings = container.settings
    if request.method != "POST":
        return json_response(405, error="use POST")
    provided = request.headers.get(SECRET_HEADER, "")
    expected = settings.secret("telegram_webhook_secret")
    if not provided or not hmac.compare_digest(provided.encode(), expected.encode()):
        return json_response(403, error="wrong or missing secret token")
    limit = settings.telegram_max_body_bytes
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        return json_response(413, error=f"body larger than {limit} bytes")
    try:
        update = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return json_response(400, error="body is not valid JSON")
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        return json_response(400, error="not a Telegram update: update_id missing")
    with round_trips.counting() as store_round_trips:
        response = _answer(update, container)
    log.info(
        "telegram update answered",
        extra={
            "update_id": update["update_id"],
            "http_status": response.status_code,
            "store_round_trips": store_round_trips(),
        },
    )
    return response


def _answer(update: dict[str, Any], container: Container) -> Response:
    try:
        # Telegram redelivers an update until it gets a 2xx: the conversation handles each one once.
        outcome = container.bot.process(update)
    except MalformedUpdate as exc:
        try:
            container.poison_updates.give_up(update, f"unreadable ({exc})")
        except Exception:  # noted or not, it can never be handled: acknowledged all the same
            log.warning("unreadable update not noted", extra={"update_id": update["update_id"]})
        return json_response(200, status="ignored")
    except Exception:
        log.exception("telegram update not handled")
        try:
            if container.poison_updates.failed(update):
                return json_response(200, status="given up")
        except Exception:  # the store too: Telegram tries again later
            log.warning("failed attempt not counted", extra={"update_id": update["update_id"]})
        return json_response(500, error="internal error")
    if outcome == "busy":
        return json_response(503, error="this update is being handled; retry later")
    return json_response(200, status="duplicate" if outcome == "duplicate" else "ok")
