"""Cold starts: spawn to first correct answer, as a ratio to a bare function started the same way."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import httpx

from local.bench.answers import is_created, is_done, is_handled, is_sent, wait_for_answer
from local.bench.constants import AI_QUESTIONS, BENCH_REMINDER
from local.bench.lab import Lab
from local.bench.results import ColdStartRun
from shared.domain.jobs import CrmFlush


def cold_start(
    lab: Lab, function: str, send: Callable[[], httpx.Response], correct: Callable[[httpx.Response], bool]
) -> tuple[float, httpx.Response]:
    """Spawn `function`, time it to its first correct answer, stop it."""
    started = time.perf_counter()
    service = lab.spawn(function)
    try:
        return wait_for_answer(service, send, correct, started)
    finally:
        lab.stop(service)


def cold_start_run(lab: Lab) -> ColdStartRun:
    """One interleaved round: bare, the floor (bare + the Firestore and Cloud Tasks clients, one call each),
    the anchor (bare + python-telegram-bot: its Application built with getMe, one message sent),
    tilda_webhook creating a lead, email_chain writing it (its CRM flush),
    tg_webhook welcoming a new parent (its first correct answer: a 200 to /start, the welcome messages
    checked after), reminders sending the −24 h reminder of a lesson that parent then books (tg_webhook,
    already warm, stopped before reminders is spawned), then a fresh tg_webhook answering another new
    parent's question."""
    lab.stack.reset()
    lab.set_webhook()
    lab.script_ai_reply()
    (slot,) = lab.add_free_slots(1)
    bare, _ = cold_start(lab, "bare", lambda: lab.http.get(lab.url("bare")), lambda r: r.text == "ok")
    floor, _ = cold_start(lab, "floor", lambda: lab.http.get(lab.url("floor")), lambda r: r.text == "ok")
    anchor, _ = cold_start(
        lab,
        "anchor",
        lambda: lab.http.post(lab.url("anchor"), json=lab.message_update(lab.new_parent(), "hi")),
        lambda r: r.text == "ok",
    )
    tilda, answer = cold_start(lab, "tilda_webhook", lab.post_lead, is_created)
    # The lead's first task: the batched writer's flush, which writes its row and tells the managers.
    task = CrmFlush.after([answer.json()["lead_id"], uuid.uuid4().hex])
    headers = lab.task_headers("email_chain")
    chain, _ = cold_start(
        lab,
        "email_chain",
        lambda: lab.http.post(lab.url("email_chain"), json=task.model_dump(mode="json"), headers=headers),
        is_done,
    )
    parent = lab.new_parent()
    update = lab.start_update(parent)
    started = time.perf_counter()
    service = lab.spawn("tg_webhook")
    try:
        bot, _ = wait_for_answer(service, lambda: lab.post_update(update), is_handled, started)
        lab.check_welcomed(parent["id"])
        lab.finish_registration(parent)
        booking = lab.book(parent, slot)
    finally:
        lab.stop(service)
    reminder = booking.reminder(BENCH_REMINDER)
    reminders, _ = cold_start(lab, "reminders", lambda: lab.post_reminder(reminder), is_sent)
    lab.check_reminded(booking, BENCH_REMINDER)
    return ColdStartRun(
        bare=bare,
        floor=floor,
        anchor=anchor,
        tilda_webhook=tilda,
        email_chain=chain,
        tg_webhook=bot,
        reminders=reminders,
        tg_webhook_ai=assistant_cold_start(lab),
    )


def assistant_cold_start(lab: Lab) -> float:
    """tg_webhook spawned for a new parent whose first message is a question: its first correct answer is
    the 200 to that update, sent once the bot has sent the model's answer (openai imported, the SDK client
    built, a chat completion from the fake); that answer, with its "↩ Back" button, is checked after."""
    parent = lab.new_parent()
    update = lab.message_update(parent, AI_QUESTIONS[0])
    seconds, _ = cold_start(lab, "tg_webhook", lambda: lab.post_update(update), is_handled)
    lab.check_assistant_answer(parent["id"])
    return seconds
