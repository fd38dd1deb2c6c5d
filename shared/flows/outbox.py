"""Use case: the outbox. Effects are recorded before they are attempted, delivered at once when the
world allows, and re-driven by the reconciler until they happen, however long a service is down.

A delivery claims the record (compare-and-set, for one lease), performs the effect and marks it done, so
two deliveries never perform one effect at the same time and a delivered effect is never performed again.
A process killed mid-delivery leaves the record due when its lease ends: the reconciler takes it over
(at least once: the one effect that may repeat is the one that was in flight).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from shared.domain.effects import OUTBOX, Effect, EffectState, RetryPolicy, new_record
from shared.ports import Clock, StateStore, update_document

log = logging.getLogger(__name__)

# How long a delivery keeps trying to note an effect done while the store fails (within a request's time).
FINISH_PATIENCE_SECONDS = 30.0
DONE_KEPT = timedelta(days=7)  # a done record answers redeliveries of the same effect this long
STOPPED_KEPT = timedelta(days=30)


class PermanentFailure(Exception):
    """The effect can never happen (the parent blocked the bot, the lead is gone): not retried."""


class DeliveryOutcome(StrEnum):
    DONE = "done"
    RETRY = "retry"  # failed; due again later
    DEAD = "dead"  # failing past the horizon: alerted, retried slowly
    STOPPED = "stopped"
    DUPLICATE = "duplicate"  # done (or stopped) before
    BUSY = "busy"  # another delivery holds it
    WAITING = "waiting"  # not tried: its service failed a moment ago in the same run


@dataclass
class Outbox:
    store: StateStore
    clock: Clock
    perform: Callable[[Effect], None]  # raises PermanentFailure, or anything else for "try again"
    alert: Callable[[str, str], None]  # (incident key, text): the developers, once per incident
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    on_stopped: Callable[[Effect, str], None] | None = None
    # Performs many CRM effects at once (effect id -> its error, or None); without it, one by one.
    perform_batch: Callable[[list[Effect]], dict[str, Exception | None]] | None = None

    def record(self, effects: Iterable[Effect]) -> list[Effect]:
        """Store each effect unless it is known already; returns the ones recorded now."""
        return record_effects(self.store, self.clock, effects, self.policy)

    def send(self, effects: Iterable[Effect]) -> dict[str, DeliveryOutcome]:
        """Record, then deliver at once: the happy path costs no wait, a failure stays for the reconciler."""
        effects = list(effects)
        self.record(effects)
        return self._deliver_all(effects)

    def _deliver_all(self, effects: list[Effect]) -> dict[str, DeliveryOutcome]:
        """Batched effects a service at a time (messages first, so a slow sheet never holds them), each
        group settled before the next starts: a process dying in the CRM's batch repeats no message."""
        batched = [e for e in effects if e.kind.batched] if self.perform_batch else []
        outcomes: dict[str, DeliveryOutcome] = {}
        failing: set[str] = set()  # services that failed in this run: the rest of theirs waits
        for service in sorted({e.kind.service for e in batched}, key=lambda name: name != "telegram"):
            group = self.deliver_batch([e for e in batched if e.kind.service == service])
            outcomes.update(group)
            if any(outcome in _FAILED for outcome in group.values()):
                failing.add(service)
        for effect in (e for e in effects if e not in batched):
            if effect.kind.service in failing:
                outcomes[effect.effect_id] = DeliveryOutcome.WAITING  # still due: the next run tries
                continue
            outcomes[effect.effect_id] = outcome = self.deliver(effect)
            if outcome in _FAILED:
                failing.add(effect.kind.service)
        return outcomes

    def deliver_batch(self, effects: list[Effect]) -> dict[str, DeliveryOutcome]:
        """Claim each, perform them together (`perform_batch`), settle each by its own result."""
        assert self.perform_batch is not None
        outcomes: dict[str, DeliveryOutcome] = {}
        claimed: dict[str, tuple[Effect, dict[str, Any]]] = {}
        for effect in effects:
            record = self._claim(effect.effect_id)
            if isinstance(record, DeliveryOutcome):
                outcomes[effect.effect_id] = record
            else:
                claimed[effect.effect_id] = (effect, record)
        if not claimed:
            return outcomes
        try:
            errors = self.perform_batch([effect for effect, _ in claimed.values()])
        except Exception as exc:  # a bug in the batch itself: every effect waits for the next try
            errors = dict.fromkeys(claimed, exc)
        for effect_id, (effect, record) in claimed.items():
            error = errors.get(effect_id)
            if error is None:
                self._finish(effect_id, {**record, "state": EffectState.DONE.value}, DONE_KEPT)
                outcomes[effect_id] = DeliveryOutcome.DONE
            elif isinstance(error, PermanentFailure):
                outcomes[effect_id] = self._stop(effect, record, str(error))
            else:
                outcomes[effect_id] = self._failed(effect, record, error)
        return outcomes

    def deliver(self, effect: Effect) -> DeliveryOutcome:
        claimed = self._claim(effect.effect_id)
        if isinstance(claimed, DeliveryOutcome):
            return claimed
        record = claimed
        try:
            self.perform(effect)
        except PermanentFailure as exc:
            return self._stop(effect, record, str(exc))
        except Exception as exc:  # any failure of the outside world: tried again later
            return self._failed(effect, record, exc)
        self._finish(effect.effect_id, {**record, "state": EffectState.DONE.value}, DONE_KEPT)
        if record.get("state") == EffectState.DEAD.value:
            log.warning("dead-lettered effect delivered", extra={"effect_id": effect.effect_id})
        return DeliveryOutcome.DONE

    def redrive(self, limit: int = 500, *, batched: bool | None = None) -> dict[DeliveryOutcome, int]:
        """Deliver every effect due now (`batched`: only those the batched writer delivers, under its
        lock; False: only the others); returns how each delivery ended."""
        due = self.store.due(OUTBOX, self.clock.now().timestamp(), limit)
        effects = [Effect.model_validate(document.data["effect"]) for _key, document in due]
        if batched is not None:
            effects = [e for e in effects if e.kind.batched is batched]
        counts: dict[DeliveryOutcome, int] = {}
        for outcome in self._deliver_all(effects).values():
            counts[outcome] = counts.get(outcome, 0) + 1
        return counts

    # ---- the record's life ----------------------------------------------------------------------
    def _claim(self, effect_id: str) -> dict[str, Any] | DeliveryOutcome:
        document = self.store.get(OUTBOX, effect_id)
        if document is None:
            return DeliveryOutcome.DUPLICATE  # expired long after it was done
        record = document.data
        if record.get("state") in (EffectState.DONE.value, EffectState.STOPPED.value):
            return DeliveryOutcome.DUPLICATE
        now = self.clock.now()
        held_until = record.get("held_until")
        if held_until is not None and held_until > now.timestamp():
            return DeliveryOutcome.BUSY
        lease_end = (now + self.policy.lease).timestamp()
        claimed = {
            **record,
            "attempts": int(record.get("attempts", 0)) + 1,
            "held_until": lease_end,
            "due_at": lease_end,  # a delivery that dies is taken over when its lease ends
        }
        if not self.store.replace(OUTBOX, effect_id, claimed, document.version):
            return DeliveryOutcome.BUSY
        return claimed

    def _finish(self, effect_id: str, data: dict[str, Any], keep: timedelta) -> None:
        """The effect happened (or never can): whoever else may hold it now, this is the news. It is
        written patiently: an effect done but not noted is done again once its lease ends."""
        data = {k: v for k, v in data.items() if k not in ("due_at", "held_until")}
        data["finished_at"] = self.clock.now().isoformat()
        deadline = time.monotonic() + FINISH_PATIENCE_SECONDS
        while True:
            try:
                self.store.put(OUTBOX, effect_id, data, ttl=keep)
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                log.warning("an effect done is not noted yet; trying again", extra={"effect_id": effect_id})
                time.sleep(1.0)

    def _stop(self, effect: Effect, record: dict[str, Any], reason: str) -> DeliveryOutcome:
        log.warning("effect stopped", extra={"effect_id": effect.effect_id, "reason": reason})
        stopped = {**record, "state": EffectState.STOPPED.value, "last_error": reason[:500]}
        self._finish(effect.effect_id, stopped, STOPPED_KEPT)
        if self.on_stopped is not None:
            self.on_stopped(effect, reason)
        return DeliveryOutcome.STOPPED

    def _failed(self, effect: Effect, record: dict[str, Any], exc: Exception) -> DeliveryOutcome:
        now = self.clock.now()
        attempts = int(record["attempts"])
        error = f"{type(exc).__name__}: {exc}"[:500]
        age = now - datetime.fromisoformat(record["created_at"])
        dead = age >= self.policy.horizon
        wait = self.policy.dead_interval if dead else self.policy.backoff(attempts)
        state = EffectState.DEAD if dead else EffectState.PENDING
        due_at = (now + wait).timestamp()

        def reschedule(current: dict[str, Any] | None) -> dict[str, Any] | None:
            if current is None or current.get("state") in (EffectState.DONE.value, EffectState.STOPPED.value):
                return None  # a delivery that took over after our lease succeeded: nothing to retry
            current.pop("held_until", None)
            return {**current, "state": state.value, "last_error": error, "due_at": due_at}

        update_document(self.store, OUTBOX, effect.effect_id, reschedule)
        log.warning(
            "effect not delivered",
            extra={
                "effect_id": effect.effect_id,
                "kind": effect.kind.value,
                "reason": error,
                "attempt": attempts,
            },
        )
        if dead and record.get("state") == EffectState.DEAD.value:
            return DeliveryOutcome.DEAD  # alerted when it became one
        if not dead:
            if attempts == self.policy.alert_after_attempts:  # a blip is no news; minutes of failure are
                self.alert(
                    f"failing-{effect.kind.service}",
                    f"Effects for {effect.kind.service} failing (e.g. {effect.effect_id}): {error}. "
                    "They wait in the outbox and are retried until the service is back.",
                )
            return DeliveryOutcome.RETRY
        self.alert(
            f"dead-{effect.kind.service}",
            f"Effects for {effect.kind.service} failing for {self.policy.horizon} "
            f"(e.g. {effect.effect_id}): {error}. "
            f"They are retried every {self.policy.dead_interval} until the service is back.",
        )
        return DeliveryOutcome.DEAD


_FAILED = (DeliveryOutcome.RETRY, DeliveryOutcome.DEAD)


def record_effects(
    store: StateStore, clock: Clock, effects: Iterable[Effect], policy: RetryPolicy | None = None
) -> list[Effect]:
    """Store each effect unless it is known already; returns the ones recorded now. Recording needs only
    the store: a function that never delivers (tilda_webhook) records without the delivery's clients."""
    now, policy = clock.now(), policy or RetryPolicy()
    return [e for e in effects if store.create(OUTBOX, e.effect_id, new_record(e, now, policy))]


def alert_once(store: StateStore, notify: Callable[[str], None], window: timedelta = timedelta(hours=1)):  # noqa: ANN201
    """The developers hear of an incident once per `window`, however many effects it hits."""

    def alert(key: str, text: str) -> None:
        if store.create("alerts", key, {"text": text}, ttl=window):
            notify(text)

    return alert
