"""State store on Redis: JSON documents with a version, SET NX for create, WATCH/MULTI for compare-and-set."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any, cast

import redis

from shared.ports import Document

_GLOB_SPECIAL = re.compile(r"[*?\[\]\\]")  # SCAN's MATCH is a glob: a prefix is matched literally


class RedisStore:
    def __init__(self, client: redis.Redis, namespace: str = "") -> None:
        self._redis = client
        self._namespace = namespace

    def _key(self, collection: str, key: str) -> str:
        return f"{self._namespace}{collection}:{key}"

    def _index(self, collection: str) -> str:
        """The sorted set of a collection's documents that have a `due_at` (the outbox's work list)."""
        return f"{self._namespace}{collection}#due"

    @staticmethod
    def _encode(data: Mapping[str, Any], version: int) -> str:
        return json.dumps({"v": version, "data": dict(data)}, ensure_ascii=False)

    @staticmethod
    def _ttl_ms(ttl: timedelta | None) -> int | None:
        return max(1, int(ttl.total_seconds() * 1000)) if ttl else None

    def get(self, collection: str, key: str) -> Document | None:
        raw = self._redis.get(self._key(collection, key))
        if raw is None:
            return None
        stored = json.loads(raw)
        return Document(stored["data"], stored["v"])

    def create(
        self, collection: str, key: str, data: Mapping[str, Any], ttl: timedelta | None = None
    ) -> bool:
        name = self._key(collection, key)
        if _due_at(data) is None:  # the common case: one SET NX
            return bool(self._redis.set(name, self._encode(data, 1), nx=True, px=self._ttl_ms(ttl)))
        with self._redis.pipeline() as pipe:
            try:
                pipe.watch(name)
                if pipe.exists(name):
                    pipe.unwatch()
                    return False
                pipe.multi()
                pipe.set(name, self._encode(data, 1), px=self._ttl_ms(ttl))
                self._reindex(pipe, collection, key, None, data)
                pipe.execute()
                return True
            except redis.WatchError:
                return False

    def replace(
        self,
        collection: str,
        key: str,
        data: Mapping[str, Any],
        expected_version: int,
        ttl: timedelta | None = None,
    ) -> bool:
        name = self._key(collection, key)
        with self._redis.pipeline() as pipe:
            try:
                pipe.watch(name)
                raw = pipe.get(name)
                if raw is None or json.loads(raw)["v"] != expected_version:
                    pipe.unwatch()
                    return False
                pipe.multi()
                pipe.set(name, self._encode(data, expected_version + 1), px=self._ttl_ms(ttl))
                self._reindex(pipe, collection, key, json.loads(raw)["data"], data)
                pipe.execute()
                return True
            except redis.WatchError:
                return False

    def put(self, collection: str, key: str, data: Mapping[str, Any], ttl: timedelta | None = None) -> None:
        name = self._key(collection, key)
        with self._redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(name)
                    raw = pipe.get(name)
                    old = json.loads(raw) if raw is not None else None
                    pipe.multi()
                    pipe.set(name, self._encode(data, old["v"] + 1 if old else 1), px=self._ttl_ms(ttl))
                    self._reindex(pipe, collection, key, old["data"] if old else None, data)
                    pipe.execute()
                    return
                except redis.WatchError:
                    continue

    def delete(self, collection: str, key: str) -> None:
        with self._redis.pipeline(transaction=False) as pipe:
            pipe.delete(self._key(collection, key))
            pipe.zrem(self._index(collection), key)
            pipe.execute()

    def keys(self, collection: str, prefix: str, limit: int = 1000) -> list[str]:
        start = len(self._key(collection, ""))
        pattern = self._key(collection, _GLOB_SPECIAL.sub(r"\\\g<0>", prefix)) + "*"
        found = {
            raw.decode()[start:]
            for raw in cast(Iterable[bytes], self._redis.scan_iter(match=pattern, count=1000))
        }
        return sorted(found)[:limit]

    def due(self, collection: str, until: float, limit: int = 100) -> list[tuple[str, Document]]:
        index = self._index(collection)
        members = cast(list[bytes], self._redis.zrangebyscore(index, "-inf", until, start=0, num=limit))
        keys = [member.decode() for member in members]
        if not keys:
            return []
        found: list[tuple[str, Document]] = []
        for key, raw in zip(keys, self._redis.mget([self._key(collection, k) for k in keys]), strict=True):
            if raw is None:  # expired with its TTL: drop it from the index too
                self._redis.zrem(index, key)
                continue
            stored = json.loads(raw)
            found.append((key, Document(stored["data"], stored["v"])))
        return found

    def _reindex(
        self,
        pipe: Any,
        collection: str,
        key: str,
        old: Mapping[str, Any] | None,
        new: Mapping[str, Any],
    ) -> None:
        """Queue the index change of a write inside its MULTI (so both happen or neither)."""
        due_at = _due_at(new)
        if due_at is not None:
            pipe.zadd(self._index(collection), {key: due_at})
        elif old is not None and _due_at(old) is not None:
            pipe.zrem(self._index(collection), key)


def _due_at(data: Mapping[str, Any]) -> float | None:
    value = data.get("due_at")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
