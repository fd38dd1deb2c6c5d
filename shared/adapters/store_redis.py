"""State store on Redis: JSON documents with a version, SET NX for create, WATCH/MULTI for compare-and-set."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import redis

from shared.ports import Document


class RedisStore:
    def __init__(self, client: redis.Redis, namespace: str = "") -> None:
        self._redis = client
        self._namespace = namespace

    def _key(self, collection: str, key: str) -> str:
        return f"{self._namespace}{collection}:{key}"

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
        done = self._redis.set(
            self._key(collection, key), self._encode(data, 1), nx=True, px=self._ttl_ms(ttl)
        )
        return bool(done)

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
                    version = json.loads(raw)["v"] + 1 if raw is not None else 1
                    pipe.multi()
                    pipe.set(name, self._encode(data, version), px=self._ttl_ms(ttl))
                    pipe.execute()
                    return
                except redis.WatchError:
                    continue

    def delete(self, collection: str, key: str) -> None:
        self._redis.delete(self._key(collection, key))
