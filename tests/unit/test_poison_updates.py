"""Updates whose handling keeps failing are acknowledged after a few attempts, once, with one alert."""

from __future__ import annotations

import fakeredis

from shared.adapters.store_redis import RedisStore
from shared.bot.poison import POISON_AFTER, PoisonUpdates


def test_an_update_failing_again_and_again_is_given_up_after_a_few_attempts() -> None:
    store = RedisStore(fakeredis.FakeRedis())
    alerts: list[tuple[str, str]] = []
    poison = PoisonUpdates(store, lambda key, text: alerts.append((key, text)))
    update = {"update_id": 7, "message": {"text": "Анна, +79161234567"}}
    outcomes = [poison.failed(update) for _ in range(POISON_AFTER)]
    assert outcomes == [False] * (POISON_AFTER - 1) + [True]
    [(key, text)] = alerts
    assert key == "tg-poison-updates" and "update 7 with message" in text
    assert "Анна" not in text and "+7916" not in text  # field names only, never what the parent wrote
