"""State store on Firestore: each document holds {data, v, expires_at}; writes run in transactions.

`expires_at` is the field the TTL policy deletes by; Firestore deletes expired documents lazily (up to a
day later), so reads treat an expired document as absent themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from google.cloud import firestore

from shared.ports import Document


class FirestoreStore:
    def __init__(self, client: firestore.Client, namespace: str = "") -> None:
        self._db = client
        self._namespace = namespace

    def _ref(self, collection: str, key: str) -> firestore.DocumentReference:
        # A slash would address a sub-collection: document ids must not contain one.
        return self._db.collection(f"{self._namespace}{collection}").document(key.replace("/", "%2F"))

    @staticmethod
    def _live(snapshot: Any) -> dict[str, Any] | None:
        if not snapshot.exists:
            return None
        stored = snapshot.to_dict()
        expires_at = stored.get("expires_at")
        if expires_at is not None and expires_at <= datetime.now(UTC):
            return None
        return stored

    @staticmethod
    def _encode(data: Mapping[str, Any], version: int, ttl: timedelta | None) -> dict[str, Any]:
        expires_at = datetime.now(UTC) + ttl if ttl else None
        return {"data": dict(data), "v": version, "expires_at": expires_at}

    def get(self, collection: str, key: str) -> Document | None:
        stored = self._live(self._ref(collection, key).get())
        return Document(stored["data"], stored["v"]) if stored else None

    def create(
        self, collection: str, key: str, data: Mapping[str, Any], ttl: timedelta | None = None
    ) -> bool:
        ref = self._ref(collection, key)

        @firestore.transactional
        def create_in(transaction: firestore.Transaction) -> bool:
            snapshot = ref.get(transaction=transaction)
            if self._live(snapshot) is not None:
                return False
            # Continue the version count of an expired document so a stale compare-and-set still fails.
            previous = (snapshot.to_dict() or {}).get("v", 0)
            transaction.set(ref, self._encode(data, previous + 1, ttl))
            return True

        return bool(create_in(self._db.transaction()))

    def replace(
        self,
        collection: str,
        key: str,
        data: Mapping[str, Any],
        expected_version: int,
        ttl: timedelta | None = None,
    ) -> bool:
        ref = self._ref(collection, key)

        @firestore.transactional
        def replace_in(transaction: firestore.Transaction) -> bool:
            stored = self._live(ref.get(transaction=transaction))
            if stored is None or stored["v"] != expected_version:
                return False
            transaction.set(ref, self._encode(data, expected_version + 1, ttl))
            return True

        return bool(replace_in(self._db.transaction()))

    def put(self, collection: str, key: str, data: Mapping[str, Any], ttl: timedelta | None = None) -> None:
        ref = self._ref(collection, key)

        @firestore.transactional
        def put_in(transaction: firestore.Transaction) -> None:
            snapshot = ref.get(transaction=transaction)
            previous = (snapshot.to_dict() or {}).get("v", 0)
            transaction.set(ref, self._encode(data, previous + 1, ttl))

        put_in(self._db.transaction())

    def delete(self, collection: str, key: str) -> None:
        self._ref(collection, key).delete()
