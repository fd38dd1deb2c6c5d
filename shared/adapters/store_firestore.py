"""State store on Firestore: each document holds {data, expires_at}; one RPC per operation.

No transactions (three round trips each, and the emulator deadlocks under contention): `create` relies on
Firestore refusing to create an existing document, and the compare-and-set `replace` on an update whose
precondition is the document's `update_time`, which is the version `get` hands out. `commit` is a batched
write with those preconditions (all or nothing, one RPC) and `get_many` one `BatchGetDocuments`.

`expires_at` is the field the TTL policy deletes by; Firestore deletes expired documents lazily (up to a
day later), so reads treat an expired document as absent themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from google.api_core import retry as retries
from google.api_core.datetime_helpers import DatetimeWithNanoseconds
from google.api_core.exceptions import (
    AlreadyExists,
    Conflict,
    DeadlineExceeded,
    FailedPrecondition,
    InternalServerError,
    NotFound,
    ResourceExhausted,
    ServiceUnavailable,
)
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.field_path import FieldPath

from shared.adapters import round_trips
from shared.ports import Document, Write

_NS = 10**9


def _version(update_time: DatetimeWithNanoseconds) -> int:
    """A document's update time in nanoseconds: grows with every write, usable as a precondition."""
    return int(update_time.replace(microsecond=0).timestamp()) * _NS + update_time.nanosecond


def _update_time(version: int) -> DatetimeWithNanoseconds:
    seconds, nanos = divmod(version, _NS)
    return DatetimeWithNanoseconds.from_timestamp_pb(_Timestamp(seconds, nanos))


class _Timestamp:
    """The two fields `from_timestamp_pb` reads."""

    def __init__(self, seconds: int, nanos: int) -> None:
        self.seconds = seconds
        self.nanos = nanos


def _retry(timeout: float, *errors: type[Exception]) -> retries.Retry:
    return retries.Retry(
        predicate=retries.if_exception_type(*errors),
        initial=0.1,
        maximum=1.0,
        multiplier=2.0,
        timeout=timeout,
    )


class FirestoreStore:
    def __init__(self, client: firestore.Client, namespace: str = "", timeout: float = 10.0) -> None:
        """`timeout`: seconds an operation may take, retries included; a store that hangs fails the
        request (Telegram and Cloud Tasks deliver it again) instead of holding it for the client's
        default minute."""
        self._db = client
        self._namespace = namespace
        # A read is retried on anything passing; a write only when it surely did not happen (a write
        # that timed out may have been applied: retrying a create would then read as "someone else").
        self._timeout = timeout
        self._read_retry = _retry(
            timeout, DeadlineExceeded, InternalServerError, ResourceExhausted, ServiceUnavailable
        )
        self._write_retry = _retry(timeout, ResourceExhausted, ServiceUnavailable)

    def _ref(self, collection: str, key: str) -> firestore.DocumentReference:
        # A slash would address a sub-collection: document ids must not contain one.
        return self._db.collection(f"{self._namespace}{collection}").document(key.replace("/", "%2F"))

    @staticmethod
    def _expired(stored: Mapping[str, Any]) -> bool:
        expires_at = stored.get("expires_at")
        return expires_at is not None and expires_at <= datetime.now(UTC)

    @staticmethod
    def _encode(data: Mapping[str, Any], ttl: timedelta | None) -> dict[str, Any]:
        return {"data": dict(data), "expires_at": datetime.now(UTC) + ttl if ttl else None}

    def get(self, collection: str, key: str) -> Document | None:
        round_trips.count()
        snapshot = self._ref(collection, key).get(retry=self._read_retry, timeout=self._timeout)
        stored = snapshot.to_dict() if snapshot.exists else None
        if stored is None or self._expired(stored):
            return None
        return Document(stored["data"], _version(snapshot.update_time))

    def create(
        self, collection: str, key: str, data: Mapping[str, Any], ttl: timedelta | None = None
    ) -> bool:
        return self.compare_and_set(collection, key, data, None, ttl) is not None

    def replace(
        self,
        collection: str,
        key: str,
        data: Mapping[str, Any],
        expected_version: int,
        ttl: timedelta | None = None,
    ) -> bool:
        return self.compare_and_set(collection, key, data, expected_version, ttl) is not None

    def compare_and_set(
        self,
        collection: str,
        key: str,
        data: Mapping[str, Any],
        expected_version: int | None,
        ttl: timedelta | None = None,
    ) -> int | None:
        if expected_version is None:
            return self._create(collection, key, data, ttl)
        return self._replace(collection, key, data, expected_version, ttl)

    def _create(
        self, collection: str, key: str, data: Mapping[str, Any], ttl: timedelta | None
    ) -> int | None:
        ref = self._ref(collection, key)
        round_trips.count()
        try:
            result = ref.create(self._encode(data, ttl), retry=self._write_retry, timeout=self._timeout)
            return _version(result.update_time)
        except (AlreadyExists, Conflict):
            pass
        # It exists: only an expired document may be overwritten, and only if nobody else did first.
        round_trips.count()
        snapshot = ref.get(retry=self._read_retry, timeout=self._timeout)
        if not snapshot.exists:
            return self._create(collection, key, data, ttl)
        if not self._expired(snapshot.to_dict() or {}):
            return None
        return self._replace(collection, key, data, _version(snapshot.update_time), ttl)

    def _replace(
        self,
        collection: str,
        key: str,
        data: Mapping[str, Any],
        expected_version: int,
        ttl: timedelta | None,
    ) -> int | None:
        if expected_version < _NS:
            # Not a version this store handed out; an epoch-zero time would be sent as "no precondition".
            return None
        ref = self._ref(collection, key)
        # A version comes from `get`, which never returns an expired document; expiring in the moment
        # between that read and this write is harmless (the write sets a new expiry).
        round_trips.count()
        try:
            # Firestore refuses the write unless the document exists with exactly this update time;
            # `update` replaces each named top-level field whole, so this overwrites the document.
            result = ref.update(
                self._encode(data, ttl),
                option=self._db.write_option(last_update_time=_update_time(expected_version)),
                retry=self._write_retry,
                timeout=self._timeout,
            )
        except (FailedPrecondition, NotFound):
            return None
        return _version(result.update_time)

    def put(self, collection: str, key: str, data: Mapping[str, Any], ttl: timedelta | None = None) -> None:
        round_trips.count()
        self._ref(collection, key).set(
            self._encode(data, ttl), retry=self._write_retry, timeout=self._timeout
        )

    def get_many(self, documents: Sequence[tuple[str, str]]) -> list[Document | None]:
        if not documents:
            return []
        refs = [self._ref(collection, key) for collection, key in documents]
        round_trips.count()
        found: dict[str, Document] = {}
        for snapshot in self._db.get_all(refs, retry=self._read_retry, timeout=self._timeout):
            stored = snapshot.to_dict() if snapshot.exists else None
            if stored is not None and not self._expired(stored):
                found[snapshot.reference.path] = Document(stored["data"], _version(snapshot.update_time))
        return [found.get(ref.path) for ref in refs]

    def commit(self, writes: Sequence[Write]) -> bool:
        batch = self._db.batch()
        for write in writes:
            ref = self._ref(write.collection, write.key)
            if write.mode == "create":
                batch.create(ref, self._encode(write.data or {}, write.ttl))
            elif write.mode == "put":
                batch.set(ref, self._encode(write.data or {}, write.ttl))
            elif write.version is None or write.version < _NS:
                return False  # not a version this store handed out
            else:
                option = self._db.write_option(last_update_time=_update_time(write.version))
                # A check rewrites nothing of the document: `checked` is a field only it writes.
                fields = self._encode(write.data, write.ttl) if write.data is not None else {"checked": True}
                batch.update(ref, fields, option=option)
        round_trips.count()
        try:
            batch.commit(retry=self._write_retry, timeout=self._timeout)
        except (AlreadyExists, Conflict, FailedPrecondition, NotFound):
            return False
        return True

    def delete(self, collection: str, key: str) -> None:
        round_trips.count()
        self._ref(collection, key).delete(retry=self._write_retry, timeout=self._timeout)

    def keys(self, collection: str, prefix: str, limit: int = 1000) -> list[str]:
        # A range over document ids; `select([])` fetches the names only.
        documents = self._db.collection(f"{self._namespace}{collection}")
        start = prefix.replace("/", "%2F")
        query = (
            documents.where(filter=FieldFilter(FieldPath.document_id(), ">=", documents.document(start)))
            .where(filter=FieldFilter(FieldPath.document_id(), "<", documents.document(start + "\uf8ff")))
            .order_by(FieldPath.document_id())
            .select([])
            .limit(limit)
        )
        round_trips.count()
        return [
            snapshot.id.replace("%2F", "/")
            for snapshot in query.stream(retry=self._read_retry, timeout=self._timeout)
        ]

    def due(self, collection: str, until: float, limit: int = 100) -> list[tuple[str, Document]]:
        # A range filter matches numbers only: documents without `due_at` (or with null) are not listed.
        # Firestore indexes `data.due_at` by itself (automatic single-field index).
        query = (
            self._db.collection(f"{self._namespace}{collection}")
            .where(filter=FieldFilter("data.due_at", "<=", until))
            .order_by("data.due_at")
            .limit(limit)
        )
        found: list[tuple[str, Document]] = []
        round_trips.count()
        for snapshot in query.stream(retry=self._read_retry, timeout=self._timeout):
            stored = snapshot.to_dict()
            if stored is None or self._expired(stored):
                continue
            found.append(
                (snapshot.id.replace("%2F", "/"), Document(stored["data"], _version(snapshot.update_time)))
            )
        return found
