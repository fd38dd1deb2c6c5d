"""One contract for every state-store backend: the Firestore emulator, a real redis-server, fakeredis."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import fakeredis
import pytest
import redis

from shared.adapters.store_firestore import FirestoreStore
from shared.adapters.store_redis import RedisStore
from shared.domain.tilda import TildaSubmission
from shared.flows.assistant import HISTORY, AssistantFlow
from shared.flows.lead_repository import LeadRepository
from shared.flows.locks import take_lease
from shared.flows.once import AlreadyDone, Busy, run_once
from shared.flows.rate_limit import Limit, RateLimiter
from shared.ports import Document, StateStore, Write, update_document
from tests.factories import assistant_settings
from tests.fakes import FixedClock, ScriptedAssistant


@pytest.fixture(params=["fakeredis", "redis", "firestore"])
def store(
    request: pytest.FixtureRequest, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[StateStore]:
    if request.param == "fakeredis":
        yield RedisStore(fakeredis.FakeRedis(), namespace)
    elif request.param == "redis":
        server = request.getfixturevalue("redis_server")
        client = redis.Redis.from_url(server.env["REDIS_URL"])
        yield RedisStore(client, namespace)
        client.close()
    else:
        from google.cloud import firestore

        emulator = request.getfixturevalue("firestore_emulator")
        monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", emulator.env["FIRESTORE_EMULATOR_HOST"])
        yield FirestoreStore(firestore.Client(project="demo-allin-test"), namespace)


def submission(**overrides: object) -> TildaSubmission:
    values: dict[str, object] = {
        "name": "Анна",
        "phone": "+79161234567",
        "email": "anna@example.com",
        "child_age": "8",
        "language": "ru",
        "tranid": None,
        "formid": None,
    }
    return TildaSubmission(**{**values, **overrides})  # type: ignore[arg-type]


class TestDocuments:
    def test_create_is_refused_when_the_key_exists(self, store: StateStore) -> None:
        assert store.create("things", "a", {"n": 1})
        assert not store.create("things", "a", {"n": 2})
        document = store.get("things", "a")
        assert document is not None and document.data == {"n": 1}

    def test_missing_document_reads_as_none(self, store: StateStore) -> None:
        assert store.get("things", "nothing-here") is None

    def test_replace_is_compare_and_set(self, store: StateStore) -> None:
        store.create("things", "a", {"n": 1})
        first = store.get("things", "a")
        assert first is not None
        assert store.replace("things", "a", {"n": 2}, first.version)
        assert not store.replace("things", "a", {"n": 3}, first.version)  # stale version
        now = store.get("things", "a")
        assert now is not None and now.data == {"n": 2} and now.version > first.version

    def test_compare_and_set_returns_the_version_the_next_one_needs(self, store: StateStore) -> None:
        created = store.compare_and_set("things", "c", {"n": 1}, None)
        assert created is not None and store.compare_and_set("things", "c", {"n": 9}, None) is None
        assert store.get("things", "c") == Document({"n": 1}, created)
        changed = store.compare_and_set("things", "c", {"n": 2}, created)
        assert changed is not None and changed > created
        assert store.compare_and_set("things", "c", {"n": 3}, created) is None  # stale: refused
        again = store.compare_and_set("things", "c", {"n": 3}, changed, ttl=timedelta(hours=1))
        assert again is not None and store.get("things", "c") == Document({"n": 3}, again)
        assert store.compare_and_set("things", "ghost", {"n": 1}, changed) is None
        assert store.get("things", "ghost") is None

    def test_writes_keep_the_due_index(self, store: StateStore) -> None:
        version = store.compare_and_set("work", "w", {"due_at": 5.0}, None)
        assert [k for k, _ in store.due("work", 10)] == ["w"]
        store.compare_and_set("work", "w", {"done": True}, version)  # leaves the work list
        assert store.due("work", 10) == []

    def test_get_many_reads_in_the_order_asked(self, store: StateStore) -> None:
        store.put("things", "a", {"n": 1})
        store.put("other", "b", {"n": 2})
        a, missing, b = store.get_many([("things", "a"), ("things", "nope"), ("other", "b")])
        assert (a and a.data, missing, b and b.data) == ({"n": 1}, None, {"n": 2})
        assert a == store.get("things", "a") and store.get_many([]) == []

    def test_commit_writes_all_or_nothing(self, store: StateStore) -> None:
        version = store.compare_and_set("things", "kept", {"n": 1}, None)
        assert version is not None
        store.put("things", "taken", {"n": 0})
        refused = [
            Write("things", "new", {"n": 1}, create=True),
            Write("things", "kept", {"n": 2}, version=version),
            Write("things", "taken", {"n": 9}, create=True),  # exists: the whole commit is refused
        ]
        assert not store.commit(refused)
        assert store.get("things", "new") is None and store.get("things", "kept") == Document(
            {"n": 1}, version
        )
        moved = store.compare_and_set("things", "moved", {"n": 1}, None)
        assert moved is not None and store.compare_and_set("things", "moved", {"n": 2}, moved)
        stale = [Write("things", "new", {"n": 1}, create=True), Write("things", "moved", version=moved)]
        assert not store.commit(stale)  # a check of a version the document is no longer at
        assert store.get("things", "new") is None
        done = [
            Write("things", "new", {"n": 1, "due_at": 5.0}, create=True, ttl=timedelta(hours=1)),
            Write("things", "kept", version=version),  # checked, left as it is
            Write("things", "taken", {"n": 3}),
        ]
        assert store.commit(done)
        assert [d and d.data for d in store.get_many([("things", k) for k in ("new", "kept", "taken")])] == [
            {"n": 1, "due_at": 5.0},
            {"n": 1},
            {"n": 3},
        ]
        assert [k for k, _ in store.due("things", 10)] == ["new"]

    def test_replace_of_missing_document_fails(self, store: StateStore) -> None:
        assert not store.replace("things", "ghost", {"n": 1}, 1)
        assert store.get("things", "ghost") is None

    def test_put_overwrites_and_delete_removes(self, store: StateStore) -> None:
        store.put("things", "a", {"n": 1})
        store.put("things", "a", {"n": 2})
        assert store.get("things", "a").data == {"n": 2}  # type: ignore[union-attr]
        store.delete("things", "a")
        store.delete("things", "a")  # deleting twice is fine
        assert store.get("things", "a") is None

    def test_expired_document_reads_as_absent_and_can_be_created_again(self, store: StateStore) -> None:
        assert store.create("things", "short", {"n": 1}, ttl=timedelta(milliseconds=50))
        deadline = datetime.now(UTC) + timedelta(seconds=5)
        while store.get("things", "short") is not None and datetime.now(UTC) < deadline:
            threading.Event().wait(0.05)
        assert store.get("things", "short") is None
        assert store.create("things", "short", {"n": 2})

    def test_keys_with_slashes_and_unicode(self, store: StateStore) -> None:
        assert store.create("index", "email:a/b@пример.рф", {"ok": True})
        assert store.get("index", "email:a/b@пример.рф") is not None

    def test_keys_by_prefix_are_literal_sorted_and_limited(self, store: StateStore) -> None:
        for key in ("ab12-x", "ab12-y/z", "ab12-*", "ab1-other", "ab12", "ab13-x", "zz"):
            store.put("records", key, {"k": key})
        store.put("elsewhere", "ab12-q", {})
        store.put("records", "ab12-due", {"due_at": 1.0})  # listed in the due index too: one key
        assert store.keys("records", "ab12-") == ["ab12-*", "ab12-due", "ab12-x", "ab12-y/z"]
        assert store.keys("records", "ab12-*") == ["ab12-*"]  # a glob character is a character
        assert store.keys("records", "ab12-", limit=2) == ["ab12-*", "ab12-due"]
        assert store.keys("records", "none-") == []
        store.delete("records", "ab12-x")
        assert store.keys("records", "ab12-x") == []

    def test_concurrent_increments_lose_nothing(self, store: StateStore) -> None:
        def bump(data: dict | None) -> dict:
            return {"n": (data or {"n": 0})["n"] + 1}

        threads = [
            threading.Thread(target=lambda: update_document(store, "counters", "c", bump, attempts=200))
            for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert store.get("counters", "c").data == {"n": 8}  # type: ignore[union-attr]


class TestDueIndex:
    """The outbox's work list: documents with a `due_at`, earliest first, whatever wrote them."""

    def test_due_lists_documents_due_by_then_earliest_first(self, store: StateStore) -> None:
        assert store.create("work", "later", {"due_at": 300.0})
        assert store.create("work", "a/first", {"due_at": 100})
        store.put("work", "second", {"due_at": 200.5})
        assert store.create("work", "no-due", {"n": 1})
        assert [key for key, _ in store.due("work", until=250)] == ["a/first", "second"]
        assert [key for key, _ in store.due("work", until=1000, limit=2)] == ["a/first", "second"]
        assert store.due("other", until=1000) == []

    def test_a_write_without_due_at_leaves_the_list_and_delete_too(self, store: StateStore) -> None:
        store.put("work", "x", {"due_at": 10})
        assert store.create("work", "y", {"due_at": 20})
        (key, document), _ = store.due("work", until=100)
        assert key == "x" and document.data == {"due_at": 10}
        assert store.replace("work", "x", {"done": True}, document.version)
        store.delete("work", "y")
        assert store.due("work", until=100) == []

    def test_a_rescheduled_document_moves_and_its_version_is_usable(self, store: StateStore) -> None:
        store.put("work", "x", {"due_at": 10, "attempts": 0})
        ((_, document),) = store.due("work", until=100)
        assert store.replace("work", "x", {"due_at": 500, "attempts": 1}, document.version)
        assert store.due("work", until=100) == []
        ((_, moved),) = store.due("work", until=1000)
        assert moved.data["attempts"] == 1

    def test_an_expired_document_is_not_due(self, store: StateStore) -> None:
        assert store.create("work", "gone", {"due_at": 10}, ttl=timedelta(milliseconds=50))
        deadline = datetime.now(UTC) + timedelta(seconds=5)
        while store.get("work", "gone") is not None and datetime.now(UTC) < deadline:
            threading.Event().wait(0.05)
        assert store.due("work", until=100) == []


class TestRunOnce:
    def test_second_run_is_refused_with_the_first_result(self, store: StateStore) -> None:
        assert run_once(store, "job", lambda: {"value": 1}) == {"value": 1}
        with pytest.raises(AlreadyDone) as done:
            run_once(store, "job", lambda: {"value": 2})
        assert done.value.result == {"value": 1}

    def test_failure_releases_the_claim(self, store: StateStore) -> None:
        def boom() -> None:
            raise RuntimeError("downstream failed")

        with pytest.raises(RuntimeError):
            run_once(store, "job", boom)
        assert run_once(store, "job", lambda: "second try") == "second try"

    def test_concurrent_delivery_is_busy(self, store: StateStore) -> None:
        inside = threading.Event()
        release = threading.Event()

        def slow() -> str:
            inside.set()
            release.wait(10)
            return "first"

        first = threading.Thread(target=lambda: run_once(store, "job", slow))
        first.start()
        inside.wait(10)
        with pytest.raises(Busy):
            run_once(store, "job", lambda: "second")
        release.set()
        first.join()

    def test_a_delivery_killed_mid_way_is_taken_over_once_its_lease_ends(self, store: StateStore) -> None:
        clock = FixedClock()
        # A first delivery claimed the work and died (no release); the store's own TTL has not run out.
        assert take_lease(store, "once", "job", {"state": "running"}, lease=timedelta(minutes=2), clock=clock)
        with pytest.raises(Busy):
            run_once(store, "job", lambda: "too early", lease=timedelta(minutes=2), clock=clock)
        clock.advance(minutes=2)  # the application's clock (the emulator's, locally) moves past the lease
        takers = [
            take_lease(store, "once", "job", {"state": "running"}, lease=timedelta(minutes=2), clock=clock)
            for _ in range(2)
        ]
        assert takers == [True, False]  # one taker wins; the lease is held again
        clock.advance(minutes=3)
        assert (
            run_once(store, "job", lambda: "finished", lease=timedelta(minutes=2), clock=clock) == "finished"
        )
        with pytest.raises(AlreadyDone):
            run_once(store, "job", lambda: "again", clock=clock)


class TestLeads:
    def test_same_email_or_phone_is_one_lead(self, store: StateStore) -> None:
        leads = LeadRepository(store)
        now = datetime(2026, 11, 24, tzinfo=UTC)
        first = leads.upsert_from_tilda(submission(), now)
        by_phone = leads.upsert_from_tilda(submission(email="other@example.com", name="Анна П."), now)
        by_email = leads.upsert_from_tilda(submission(phone="+79160000000"), now)
        assert first.created and not by_phone.created and not by_email.created
        assert by_phone.lead.lead_id == first.lead.lead_id == by_email.lead.lead_id
        assert leads.find_by(email="other@example.com").lead_id == first.lead.lead_id  # type: ignore[union-attr]
        assert leads.find_by(token=first.lead.link_token).lead_id == first.lead.lead_id  # type: ignore[union-attr]
        assert by_phone.lead.name == "Анна П."  # the newest form's name wins
        stored = leads.get(first.lead.lead_id)
        assert stored is not None and stored.email == "anna@example.com" and stored.phone == "+79161234567"

    def test_parallel_submissions_of_one_parent_make_one_lead(self, store: StateStore) -> None:
        leads = LeadRepository(store)
        now = datetime(2026, 11, 24, tzinfo=UTC)
        results: list[str] = []
        barrier = threading.Barrier(6)

        def submit() -> None:
            barrier.wait(10)
            results.append(leads.upsert_from_tilda(submission(), now).lead.lead_id)

        threads = [threading.Thread(target=submit) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(results) == 6 and len(set(results)) == 1
        assert leads.get(results[0]) is not None

    def test_unknown_token_finds_nothing(self, store: StateStore) -> None:
        assert LeadRepository(store).find_by(token="not-a-token") is None


class TestAssistantState:
    def test_twenty_parallel_messages_admit_exactly_the_limit(self, store: StateStore) -> None:
        limiter = RateLimiter(
            store, "ai_rate", [Limit(10, timedelta(minutes=10)), Limit(50, timedelta(days=1))], FixedClock()
        )
        start = threading.Barrier(20)
        results: list[bool] = []

        def message() -> None:
            start.wait()
            results.append(limiter.admit("parent-1"))

        threads = [threading.Thread(target=message) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [False] * 10 + [True] * 10
        assert not limiter.admit("parent-1") and limiter.admit("parent-2")

    def test_history_expires_with_the_store(self, store: StateStore) -> None:
        model = ScriptedAssistant()
        flow = AssistantFlow(
            store=store,
            assistant=lambda: model,
            limiter=RateLimiter(store, "ai_rate", [Limit(10, timedelta(minutes=10))], FixedClock()),
            clock=FixedClock(),
            settings=assistant_settings(history_turns=5, history_ttl=timedelta(milliseconds=300)),
        )
        flow.answer(42, "Как проходит урок?", "ru")
        assert store.get(HISTORY, "42") is not None
        deadline = datetime.now(UTC) + timedelta(seconds=5)
        while store.get(HISTORY, "42") is not None and datetime.now(UTC) < deadline:
            threading.Event().wait(0.05)
        assert store.get(HISTORY, "42") is None
