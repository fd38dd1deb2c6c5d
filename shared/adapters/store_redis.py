"""State store on Redis: JSON documents with a version; every write is one Lua script (one round trip)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, cast

import redis

from shared.adapters import round_trips
from shared.ports import Document, Write

_GLOB_SPECIAL = re.compile(r"[*?\[\]\\]")  # SCAN's MATCH is a glob: a prefix is matched literally


# Writes of one or more documents in one script: atomic, and one round trip. First every write's check
# (create: absent; replace and check: at the expected version), then, if all pass, each write with its new
# version and expiry and its due index change. Returns the new versions, or 0 when a check failed.
# Per write: KEYS document, due index; ARGV mode, expected version, data, ttl ms, due_at, key.
_WRITE = """
local versions = {}
for i = 1, #KEYS / 2 do
  local raw = redis.call('GET', KEYS[2 * i - 1])
  local mode, expected = ARGV[6 * i - 5], tonumber(ARGV[6 * i - 4])
  local version = 1
  if raw then
    if mode == 'create' then return 0 end
    local old = cjson.decode(raw)['v']
    if mode ~= 'put' and old ~= expected then return 0 end
    version = old + 1
  elseif mode ~= 'create' and mode ~= 'put' then
    return 0
  end
  versions[i] = version
end
for i = 1, #KEYS / 2 do
  local a = 6 * i - 6
  if ARGV[a + 1] ~= 'check' then
    local document = '{"v": ' .. string.format('%d', versions[i]) .. ', "data": ' .. ARGV[a + 3] .. '}'
    if ARGV[a + 4] ~= '' then
      redis.call('SET', KEYS[2 * i - 1], document, 'PX', ARGV[a + 4])
    else
      redis.call('SET', KEYS[2 * i - 1], document)
    end
    if ARGV[a + 5] ~= '' then
      redis.call('ZADD', KEYS[2 * i], ARGV[a + 5], ARGV[a + 6])
    else
      redis.call('ZREM', KEYS[2 * i], ARGV[a + 6])
    end
  else
    versions[i] = versions[i] - 1
  end
end
return versions
"""


class RedisStore:
    def __init__(self, client: redis.Redis, namespace: str = "") -> None:
        self._redis = client
        self._namespace = namespace
        self._script = client.register_script(_WRITE)  # EVALSHA; the script is loaded on first use

    def _key(self, collection: str, key: str) -> str:
        return f"{self._namespace}{collection}:{key}"

    def _index(self, collection: str) -> str:
        """The sorted set of a collection's documents that have a `due_at` (the outbox's work list)."""
        return f"{self._namespace}{collection}#due"

    @staticmethod
    def _ttl_ms(ttl: timedelta | None) -> int | None:
        return max(1, int(ttl.total_seconds() * 1000)) if ttl else None

    def get(self, collection: str, key: str) -> Document | None:
        round_trips.count()
        raw = cast(bytes | None, self._redis.get(self._key(collection, key)))
        return _document(raw) if raw is not None else None

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
        create = expected_version is None
        versions = self._run([Write(collection, key, data, expected_version, create=create, ttl=ttl)])
        return versions[0] if versions else None

    def put(self, collection: str, key: str, data: Mapping[str, Any], ttl: timedelta | None = None) -> None:
        self._run([Write(collection, key, data, ttl=ttl)])

    def delete(self, collection: str, key: str) -> None:
        round_trips.count()
        with self._redis.pipeline(transaction=False) as pipe:
            pipe.delete(self._key(collection, key))
            pipe.zrem(self._index(collection), key)
            pipe.execute()

    def keys(self, collection: str, prefix: str, limit: int = 1000) -> list[str]:
        start = len(self._key(collection, ""))
        pattern = self._key(collection, _GLOB_SPECIAL.sub(r"\\\g<0>", prefix)) + "*"
        found: set[str] = set()
        cursor = None
        while cursor != 0:  # SCAN walks the whole keyspace, a thousand keys per round trip
            round_trips.count()
            cursor, batch = cast(
                tuple[int, list[bytes]], self._redis.scan(cursor or 0, match=pattern, count=1000)
            )
            found.update(raw.decode()[start:] for raw in batch)
        return sorted(found)[:limit]

    def due(self, collection: str, until: float, limit: int = 100) -> list[tuple[str, Document]]:
        index = self._index(collection)
        round_trips.count()
        members = cast(list[bytes], self._redis.zrangebyscore(index, "-inf", until, start=0, num=limit))
        keys = [member.decode() for member in members]
        if not keys:
            return []
        found: list[tuple[str, Document]] = []
        round_trips.count()
        for key, raw in zip(keys, self._redis.mget([self._key(collection, k) for k in keys]), strict=True):
            if raw is None:  # expired with its TTL: drop it from the index too
                round_trips.count()
                self._redis.zrem(index, key)
                continue
            found.append((key, _document(raw)))
        return found

    def get_many(self, documents: Sequence[tuple[str, str]]) -> list[Document | None]:
        if not documents:
            return []
        round_trips.count()
        raws = self._redis.mget([self._key(collection, key) for collection, key in documents])
        return [_document(raw) if raw is not None else None for raw in cast(list[bytes | None], raws)]

    def commit(self, writes: Sequence[Write]) -> bool:
        return self._run(writes) is not None

    def _run(self, writes: Sequence[Write]) -> list[int] | None:
        """The writes in one script; their new versions, or None when a check failed."""
        keys: list[str] = []
        args: list[Any] = []
        for write in writes:
            due_at = _due_at(write.data or {})
            keys += [self._key(write.collection, write.key), self._index(write.collection)]
            args += [
                write.mode,
                write.version or 0,
                json.dumps(dict(write.data or {}), ensure_ascii=False),
                self._ttl_ms(write.ttl) or "",
                repr(due_at) if due_at is not None else "",
                write.key,
            ]
        round_trips.count()
        versions = self._script(keys=keys, args=args)
        return [int(v) for v in versions] if versions else None


def _document(raw: bytes | str) -> Document:
    stored = json.loads(raw)
    return Document(stored["data"], stored["v"])


def _due_at(data: Mapping[str, Any]) -> float | None:
    value = data.get("due_at")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
