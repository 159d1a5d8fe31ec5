"""The Redis cache backend keeps one client per connection pool instead of one per call."""

import threading

import pytest
from django.core.cache import caches

from core.redis_cache import RedisCache


@pytest.fixture
def redis_cache(settings):
    if not settings.REDIS_URL:
        pytest.skip("no REDIS_URL: the cache is in memory")
    cache = caches["default"]
    assert isinstance(cache, RedisCache)  # settings/cache.py picks it whenever Redis is set
    return cache


def test_one_client_serves_every_call_and_thread(redis_cache):
    first = redis_cache._cache.get_client()
    seen = []
    threads = [
        threading.Thread(target=lambda: seen.append(redis_cache._cache.get_client()))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(client is first for client in seen)
    assert redis_cache._cache.get_client(write=True) is first  # one server: one pool


def test_it_is_still_a_working_cache(redis_cache):
    redis_cache.set("redis-cache-test", {"a": 1}, 30)
    assert redis_cache.get_many(["redis-cache-test", "absent"]) == {"redis-cache-test": {"a": 1}}
    redis_cache.delete("redis-cache-test")
    assert redis_cache.get("redis-cache-test") is None
