"""DATA_RETENTION_DAYS: a parent's lead, what finds it and their chat session expire after that long
without activity, and every write starts the time again (the store's TTL: Redis expiry, Firestore's TTL
policy on `expires_at`, both covered by the store contract tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import fakeredis

from shared.adapters.store_redis import RedisStore
from shared.domain.tilda import TildaFields, parse_submission
from shared.flows.lead_repository import LeadRepository
from tests.factories import tilda_form

YEAR = timedelta(days=365)


def expiries(client: fakeredis.FakeRedis) -> dict[str, float]:
    """Seconds left per key, by collection (the part of the key before the first colon)."""
    found: dict[str, float] = {}
    for key in client.keys("*"):
        name = key.decode()
        if "#" in name:
            continue  # the due-index
        left = client.pttl(key) / 1000
        found[name.split(":", 1)[0]] = min(found.get(name.split(":", 1)[0], left), left)
    return found


def test_a_lead_and_its_index_expire_a_retention_after_the_last_write() -> None:
    client = fakeredis.FakeRedis()
    leads = LeadRepository(RedisStore(client), retention=YEAR)
    submission = parse_submission(tilda_form(), TildaFields(), "RU")
    lead = leads.upsert_from_tilda(submission, datetime.now(UTC)).lead
    left = expiries(client)
    assert set(left) >= {"leads", "lead_index"}
    assert all(YEAR.total_seconds() - 60 < seconds <= YEAR.total_seconds() for seconds in left.values())

    client.pexpire(f"leads:{lead.lead_id}", 1000)  # almost a year later ...
    leads.update(lead.lead_id, lambda current: current.model_copy(update={"name": "Анна"}))  # ... activity
    assert client.pttl(f"leads:{lead.lead_id}") / 1000 > YEAR.total_seconds() - 60


def test_without_a_retention_nothing_expires() -> None:
    client = fakeredis.FakeRedis()
    LeadRepository(RedisStore(client)).upsert_from_tilda(
        parse_submission(tilda_form(), TildaFields(), "RU"), datetime.now(UTC)
    )
    assert all(client.pttl(key) == -1 for key in client.keys("*") if b"#" not in key)
