"""Django's Redis cache backend, minus a client object per call.

Django's RedisCacheClient builds a new `redis.Redis` around its connection pool on every cache
operation; building one fills a table of ~170 response callbacks, which on the lookup hot path
cost more CPU than the round trip itself. A `redis.Redis` is thread-safe (each command borrows
a connection from the pool) and its pool reconnects after a fork, so one per pool serves
every thread of a process.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis.exceptions import NoScriptError


class PooledRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._clients_lock = threading.Lock()

    def get_client(self, key: str | None = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            with self._clients_lock:
                client = self._clients.get(index)
                if client is None:
                    client = self._client(connection_pool=self._get_connection_pool(write))
                    self._clients[index] = client
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = PooledRedisCacheClient

    def validate_key(self, key: str) -> None:
        """Django checks every key against memcached's limits (250 bytes, no spaces or
        control characters) on every call, character by character; Redis has neither limit
        and our keys are built by us, so the check is only cost on the hot path."""

    def eval_and_get_many(
        self, script: str, script_keys: Sequence[str], args: Sequence[Any], keys: Sequence[str]
    ) -> tuple[Any, dict[str, Any]]:
        """A Lua script's result and get_many(keys), in one round trip (a pipeline, not a
        transaction: the reads need not be atomic with the script).

        `script_keys` are Redis keys as they are (make them with make_key); `keys` are cache
        keys like get_many's. The script runs by its SHA, loaded on first use (NOSCRIPT).
        """
        client = self._cache.get_client(write=True)  # the script writes: the primary
        made = {self.make_and_validate_key(key): key for key in keys}
        sha = _script_sha(script)
        for _ in range(2):
            pipe = client.pipeline(transaction=False)
            pipe.evalsha(sha, len(script_keys), *script_keys, *args)
            pipe.mget(list(made))
            result, values = pipe.execute(raise_on_error=False)
            if not isinstance(result, NoScriptError):
                break
            client.script_load(script)  # a restarted or flushed Redis forgot it
        for answer in (result, values):
            if isinstance(answer, Exception):
                raise answer
        loads = self._cache._serializer.loads
        found = {made[k]: loads(v) for k, v in zip(made, values, strict=True) if v is not None}
        return result, found


_shas: dict[str, str] = {}


def _script_sha(script: str) -> str:
    sha = _shas.get(script)
    if sha is None:
        # SHA-1 because that is how Redis names scripts (EVALSHA), not for security.
        sha = _shas[script] = hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()
    return sha
