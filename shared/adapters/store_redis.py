"""State store on Redis: JSON documents with a version; every write is one Lua script (one round trip)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any, cast

import redis

from shared.ports import Document

_GLOB_SPECIAL = re.compile(r"[*?\[\]\\]")  # SCAN's MATCH is a glob: a prefix is matched literally


# The check (create: absent; replace: at `expected`), the write with its new version and expiry, and the
# due index in one script: atomic, and one round trip. Returns the new version, or 0 when refused.
_WRITE = """
local raw = redis.call('GET', KEYS[1])
local mode = ARGV[1]
local version = 1
if raw then
  if mode == 'create' then return 0 end
  local old = cjson.decode(raw)['v']
  if mode == 'replace' and old ~= tonumber(ARGV[2]) then return 0 end
  version = old + 1
elseif mode == 'replace' then
  return 0
end
local document = '{"v": ' .. string.format('%d', version) .. ', "data": ' .. ARGV[3] .. '}'
if ARGV[4] ~= '' then
  redis.call('SET', KEYS[1], document, 'PX', ARGV[4])
else
  redis.call('SET', KEYS[1], document)
end
if ARGV[5] ~= '' then
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[6])
else
  redis.call('ZREM', KEYS[2], ARGV[6])
end
return version
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
        raw = self._redis.get(self._key(collection, key))
        if raw is None:
            return None
        stored = json.loads(raw)
        return Document(stored["data"], stored["v"])

    def create(
        self, collection: str, key: str, data: Mapping[str, Any], ttl: timedelta | None = None
    ) -> bool:
        return self._write(collection, key, data, "create", 0, ttl) is not None

    def replace(
        self,
        collection: str,
        key: str,
        data: Mapping[str, Any],
        expected_version: int,
        ttl: timedelta | None = None,
    ) -> bool:
        return self._write(collection, key, data, "replace", expected_version, ttl) is not None

    def compare_and_set(
        self,
        collection: str,
        key: str,
        data: Mapping[str, Any],
        expected_version: int | None,
        ttl: timedelta | None = None,
    ) -> int | None:
        if expected_version is None:
            return self._write(collection, key, data, "create", 0, ttl)
        return self._write(collection, key, data, "replace", expected_version, ttl)

    def put(self, collection: str, key: str, data: Mapping[str, Any], ttl: timedelta | None = None) -> None:
        self._write(collection, key, data, "put", 0, ttl)

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

    def _write(
        self,
        collection: str,
        key: str,
        data: Mapping[str, Any],
        mode: str,
        expected_version: int,
        ttl: timedelta | None,
    ) -> int | None:
        """One script, so one round trip: the check, the write and the due index change together."""
        due_at = _due_at(data)
        written = self._script(
            keys=[self._key(collection, key), self._index(collection)],
            args=[
                mode,
                expected_version,
                json.dumps(dict(data), ensure_ascii=False),
                self._ttl_ms(ttl) or "",
                repr(due_at) if due_at is not None else "",
                key,
            ],
        )
        return int(written) or None


def _due_at(data: Mapping[str, Any]) -> float | None:
    value = data.get("due_at")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
