"""HTTP entry of `tg_webhook`: Telegram's secret, one update per request, each update handled once."""

from __future__ import annotations

import hmac
import json
import logging
from datetime import timedelta

from flask import Request, Response

from shared.bootstrap import Container
from shared.bot.poison import MalformedUpdate
from shared.entrypoints.http import json_response
from shared.flows.once import AlreadyDone, Busy, run_once

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
    run_key = f"tg-update-{update['update_id']}"
    try:
        # Telegram redelivers an update until it gets a 2xx: handle each update_id once.
        run_once(
            container.store,
            run_key,
            lambda: container.bot.process(update),
            lease=timedelta(minutes=2),
            keep=timedelta(days=2),
            clock=container.clock,
        )
    except AlreadyDone:
        return json_response(200, status="duplicate")
    except Busy:
        return json_response(503, error="this update is being handled; retry later")
    except MalformedUpdate as exc:
        try:
            container.poison_updates.give_up(update, run_key, f"unreadable ({exc})")
        except Exception:  # noted or not, it can never be handled: acknowledged all the same
            log.warning("unreadable update not noted", extra={"update_id": update["update_id"]})
        return json_response(200, status="ignored")
    except Exception:
        log.exception("telegram update not handled")
        try:
            if container.poison_updates.failed(update, run_key):
                return json_response(200, status="given up")
        except Exception:  # the store too: Telegram tries again later
            log.warning("failed attempt not counted", extra={"update_id": update["update_id"]})
        return json_response(500, error="internal error")
    return json_response(200, status="ok")
