"""Django's Redis cache backend, minus a client object per call.

Django's RedisCacheClient builds a new `redis.Redis` around its connection pool on every cache
operation; building one fills a table of ~170 response callbacks, which on the lookup hot path
cost more CPU than the round trip itself. A `redis.Redis` is thread-safe (each command borrows
a connection from the pool) and its pool reconnects after a fork, so one per pool serves
every thread of a process.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


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
