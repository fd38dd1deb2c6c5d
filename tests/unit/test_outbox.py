"""The outbox: effects recorded once, delivered once, retried with backoff, taken over after a crash."""

from __future__ import annotations

from datetime import timedelta

import fakeredis
import pytest

from shared.adapters.store_redis import RedisStore
from shared.domain.effects import OUTBOX, Effect, EffectKind, RetryPolicy
from shared.flows.outbox import DeliveryOutcome, Outbox, PermanentFailure
from tests.fakes import FixedClock

LEAD = "0123456789abcdef"


class World:
    """The outside world: performs effects, or fails as told."""

    def __init__(self) -> None:
        self.performed: list[str] = []
        self.failures: list[Exception] = []
        self.alerts: list[tuple[str, str]] = []
        self.stopped: list[str] = []

    def perform(self, effect: Effect) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.performed.append(effect.effect_id)


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def box(world: World) -> Outbox:
    return Outbox(
        store=RedisStore(fakeredis.FakeRedis()),
        clock=FixedClock(),
        perform=world.perform,
        alert=lambda key, text: world.alerts.append((key, text)),
        on_stopped=lambda effect, reason: world.stopped.append(effect.effect_id),
    )


def message(key: str = "k") -> Effect:
    return Effect(kind=EffectKind.MANAGERS, lead_id=LEAD, key=key, text="🆕")


def test_an_effect_is_recorded_and_performed_once(box: Outbox, world: World) -> None:
    assert box.record([message()]) == [message()]
    assert box.record([message()]) == []
    assert box.send([message()]) == {message().effect_id: DeliveryOutcome.DONE}
    assert box.send([message()]) == {message().effect_id: DeliveryOutcome.DUPLICATE}
    assert box.redrive() == {} and world.performed == [message().effect_id]


def test_a_failure_backs_off_and_is_retried_by_the_reconciler(box: Outbox, world: World) -> None:
    world.failures = [ConnectionError("down"), ConnectionError("down")]
    assert box.send([message()]) == {message().effect_id: DeliveryOutcome.RETRY}
    assert box.redrive() == {}  # due in 30 s, not now
    box.clock.advance(seconds=30)  # type: ignore[attr-defined]
    assert box.redrive() == {DeliveryOutcome.RETRY: 1}
    box.clock.advance(seconds=59)  # type: ignore[attr-defined]
    assert box.redrive() == {}  # the second retry waits 60 s
    box.clock.advance(seconds=1)  # type: ignore[attr-defined]
    assert box.redrive() == {DeliveryOutcome.DONE: 1} and world.performed == [message().effect_id]
    record = box.store.get(OUTBOX, message().effect_id)
    assert record is not None and record.data["state"] == "done" and record.data["attempts"] == 3


def test_a_delivery_killed_mid_way_is_taken_over_after_its_lease(box: Outbox, world: World) -> None:
    box.record([message()])
    assert box._claim(message().effect_id) is not DeliveryOutcome.BUSY  # a delivery that then dies
    assert box.deliver(message()) is DeliveryOutcome.BUSY  # held: no second delivery meanwhile
    assert box.redrive() == {}
    box.clock.advance(minutes=2)  # type: ignore[attr-defined]
    assert box.redrive() == {DeliveryOutcome.DONE: 1} and world.performed == [message().effect_id]


def test_a_permanent_failure_stops_and_is_reported(box: Outbox, world: World) -> None:
    world.failures = [PermanentFailure("403 blocked")]
    assert box.send([message()]) == {message().effect_id: DeliveryOutcome.STOPPED}
    assert world.stopped == [message().effect_id]
    box.clock.advance(hours=2)  # type: ignore[attr-defined]
    assert box.redrive() == {} and box.send([message()])[message().effect_id] is DeliveryOutcome.DUPLICATE


def test_developers_hear_of_minutes_of_failure_then_of_a_dead_letter(box: Outbox, world: World) -> None:
    box.policy = RetryPolicy(horizon=timedelta(hours=2))
    world.failures = [ConnectionError("telegram down")] * 20
    box.send([message()])
    for _ in range(8):
        box.clock.advance(minutes=30)  # type: ignore[attr-defined]
        box.redrive()
    # the incidents, in order (alert_once makes each one message an hour; the dead one recurs hourly)
    assert list(dict.fromkeys(key for key, _ in world.alerts)) == ["failing-telegram", "dead-telegram"]
    assert "telegram down" in world.alerts[1][1]
