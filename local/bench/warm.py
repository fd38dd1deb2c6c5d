"""The warm path: tg_webhook on Redis and on Firestore against a bare python-telegram-bot function (the
anchor), timed interleaved; and the store round trips per update and per Tilda lead, as the functions log
them (`store_round_trips` in "telegram update answered" and "tilda submission answered")."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from local.bench.answers import is_created
from local.bench.constants import (
    CONSENT,
    PARENT_LANGUAGE,
    WARM_LEADS,
    WARM_ROUNDS,
    WARM_TEXT,
    WARM_UP,
    BenchError,
)
from local.bench.lab import Lab
from local.bench.results import WarmPath
from local.processes import (
    Service,
    firestore_emulator_available,
    free_port,
    start_firestore_emulator,
    start_function,
    start_redis_server,
)
from shared.i18n import t

ANSWERED = "telegram update answered"


def warm_path(lab: Lab) -> WarmPath:
    lab.stack.reset()
    with ExitStack() as running:
        stores = _stores(lab, running)
        anchor = _start(running, "anchor", lab, lab.env, source=lab.anchor_source)
        bots = {store: _start(running, "tg_webhook", lab, env) for store, env in stores.items()}
        parents = {store: _at_the_phone_step(lab, bot) for store, bot in bots.items()}

        targets: dict[str, Callable[[], httpx.Response]] = {
            "anchor": lambda: _post(lab, anchor, lab.message_update(lab.new_parent(), WARM_TEXT)),
        }
        sent: dict[str, list[int]] = {store: [] for store in bots}
        for store, bot in bots.items():
            targets[store] = _texting(lab, bot, parents[store], sent[store])
        seconds: dict[str, list[float]] = {name: [] for name in targets}
        names = list(targets)
        for round_ in range(WARM_UP + WARM_ROUNDS):
            order = names[round_ % len(names) :] + names[: round_ % len(names)]
            for name in order:
                started = time.perf_counter()
                response = targets[name]()
                elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    raise _failed(name, response)
                if round_ >= WARM_UP:
                    seconds[name].append(elapsed)
        asked_again = t(PARENT_LANGUAGE, "phone_invalid")
        for store, parent in parents.items():
            if lab.bot_messages(parent["id"])[-1].get("text") != asked_again:
                raise _failed(store, None, lab.bot_messages(parent["id"])[-2:])
        trips = {store: _logged_round_trips(bots[store].log_path, set(sent[store])) for store in bots}
        tilda = _tilda_round_trips(lab, running)
    return WarmPath(seconds=seconds, store_round_trips=trips, tilda_round_trips=tilda)


def _stores(lab: Lab, running: ExitStack) -> dict[str, dict[str, str]]:
    """tg_webhook's environment on each store this machine can run: the stack's own, and the other one
    started here (Redis only as a real redis-server: the embedded one is Python, not a fair figure)."""
    env = lab.env
    stores: dict[str, dict[str, str]] = {}
    if lab.stack.store == "redis":
        stores["redis"] = env
    elif shutil.which("redis-server"):
        redis = running.enter_context(_stopping(start_redis_server(free_port(), lab.log_dir)))
        stores["redis"] = {**env, "STATE_BACKEND": "redis", **redis.env}
    if lab.stack.store == "firestore":
        stores["firestore"] = env
    elif firestore_emulator_available():
        firestore = running.enter_context(_stopping(start_firestore_emulator(free_port(), lab.log_dir)))
        stores["firestore"] = {**env, "STATE_BACKEND": "firestore", **firestore.env}
    return stores


@contextmanager
def _stopping(service: Service) -> Iterator[Service]:
    try:
        yield service
    finally:
        service.stop()


def _start(
    running: ExitStack, name: str, lab: Lab, env: dict[str, str], source: Path | None = None
) -> Service:
    return running.enter_context(
        _stopping(start_function(name, env, free_port(), lab.log_dir, source=source))
    )


def _post(lab: Lab, service: Service, update: dict[str, Any]) -> httpx.Response:
    return lab.http.post(service.url, content=json.dumps(update), headers=lab.telegram_headers)


def _at_the_phone_step(lab: Lab, bot: Service) -> dict[str, Any]:
    """A new parent who sent /start and pressed the consent button: the bot now asks for the phone."""
    parent = lab.new_parent()
    for update in (lab.start_update(parent), _consent_update(lab, parent)):
        response = _post(lab, bot, update)
        if response.status_code != 200:
            raise _failed("tg_webhook", response)
    return parent


def _consent_update(lab: Lab, parent: dict[str, Any]) -> dict[str, Any]:
    message = lab.message_update(parent, "")
    chat = message["message"]["chat"]
    return {
        "update_id": message["update_id"],
        "callback_query": {
            "id": f"bench-{message['update_id']}",
            "from": parent,
            "chat_instance": "1",
            "data": CONSENT,
            "message": {"message_id": 1, "date": 0, "chat": chat},
        },
    }


def _texting(lab: Lab, bot: Service, parent: dict[str, Any], sent: list[int]) -> Callable[[], httpx.Response]:
    def text() -> httpx.Response:
        update = lab.message_update(parent, WARM_TEXT)
        sent.append(update["update_id"])
        return _post(lab, bot, update)

    return text


def _logged_round_trips(log_path: Path | None, update_ids: set[int]) -> list[int]:
    """`store_round_trips` of the updates `update_ids`, from the function's JSON log lines."""
    found: list[int] = []
    for line in (log_path.read_text() if log_path else "").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("message") == ANSWERED and entry.get("update_id") in update_ids:
            found.append(int(entry["store_round_trips"]))
    return found


def _tilda_round_trips(lab: Lab, running: ExitStack) -> list[int]:
    """`store_round_trips` of fresh leads posted to a warm tilda_webhook (one warm-up lead first)."""
    tilda = _start(running, "tilda_webhook", lab, lab.env)
    for _ in range(WARM_LEADS + 1):
        response = lab.http.post(tilda.url, content=urlencode(lab.lead_form()), headers=lab.tilda_headers)
        if not is_created(response):
            raise _failed("tilda_webhook", response)
    found = []
    for line in (tilda.log_path.read_text() if tilda.log_path else "").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("message") == "tilda submission answered":
            found.append(int(entry["store_round_trips"]))
    return found[1:]


def _failed(name: str, response: httpx.Response | None, detail: object = None) -> Exception:
    if response is not None:
        return BenchError(f"{name} answered {response.status_code}: {response.text[:300]}")
    return BenchError(f"{name}: the warm text was not answered as expected: {detail}")
