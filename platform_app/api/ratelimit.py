"""Per-API-key token bucket, so one merchant cannot spend WeChat's daily quota for everyone.

The bucket holds `burst` tokens and refills at `per_minute` / 60 a second; a request takes one
token per getidlist call it may make: a bulk of N openids takes N, charged in full once its
body is valid (a malformed request is 400 whatever the bucket holds). A request that costs
more than `burst` could never fit, so it is 400 invalid_request naming the limit rather than
a 429 that no amount of waiting would satisfy. With REDIS_URL the bucket lives in Redis
(under the cache's KEY_PREFIX and VERSION, so deployments sharing a Redis keep their own
buckets) and is updated by one Lua script (atomic across processes and machines, Redis' own
clock); without it, in this process's memory. If Redis is unreachable the limiter lets
requests through: it protects a quota, it must not take the API down.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from prometheus_client import Counter
from rest_framework.throttling import BaseThrottle

from .errors import InvalidRequest, RateLimited

logger = logging.getLogger("platform_app.api")

RATE_LIMITED = Counter("api_rate_limited_total", "Merchant API requests refused by the key limit")

_LUA = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local allowed, wait = 0, 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  wait = (cost - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
return {allowed, tostring(wait)}
"""


@dataclass(frozen=True)
class Limits:
    burst: int
    per_minute: int

    @property
    def per_second(self) -> float:
        return self.per_minute / 60.0


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0


class MemoryBuckets:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str, limits: Limits, cost: int) -> Decision:
        now = time.monotonic()
        with self._lock:
            tokens, ts = self._buckets.get(key, (float(limits.burst), now))
            tokens = min(limits.burst, tokens + (now - ts) * limits.per_second)
            if tokens >= cost:
                self._buckets[key] = (tokens - cost, now)
                return Decision(True)
            self._buckets[key] = (tokens, now)
            return Decision(False, (cost - tokens) / limits.per_second)


class RedisBuckets:
    def __init__(self, url: str) -> None:
        import redis

        self._client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._script = self._client.register_script(_LUA)

    def take(self, key: str, limits: Limits, cost: int) -> Decision:
        allowed, wait = self._script(keys=[key], args=[limits.burst, limits.per_second, cost])
        return Decision(bool(int(allowed)), float(wait))


_backends: dict[tuple[int, str], MemoryBuckets | RedisBuckets] = {}
_backends_lock = threading.Lock()


def _backend() -> MemoryBuckets | RedisBuckets:
    url = getattr(settings, "REDIS_URL", "") or ""
    key = (os.getpid(), url)  # a forked worker opens its own connections
    backend = _backends.get(key)
    if backend is None:
        with _backends_lock:
            backend = _backends.setdefault(key, RedisBuckets(url) if url else MemoryBuckets())
    return backend


def limits_for(principal) -> Limits:
    burst = principal.rate_limit_burst or settings.API_RATE_LIMIT_BURST
    per_minute = principal.rate_limit_per_minute or settings.API_RATE_LIMIT_PER_MINUTE
    return Limits(burst=max(1, burst), per_minute=max(1, per_minute))


def rate_limit_bucket_key(*, key_id: int) -> str:
    # Built like every cache key (KEY_PREFIX, VERSION): one Redis can serve two deployments.
    return cache.make_key(f"api:ratelimit:{key_id}")


def rate_limit_take(*, principal, cost: int = 1) -> Decision:
    limits = limits_for(principal)
    try:
        key = rate_limit_bucket_key(key_id=principal.key_id)
        return _backend().take(key, limits, max(1, cost))
    except Exception:  # Redis down: fail open, loudly
        logger.warning("rate limiter unavailable; letting the request through", exc_info=True)
        return Decision(True)


def rate_limit_charge(*, principal, cost: int = 1) -> None:
    """Take `cost` tokens from the key's bucket, or raise the API error that says why not."""
    limits = limits_for(principal)
    if cost > limits.burst:
        raise InvalidRequest(
            f"This request needs {cost} rate-limit tokens (one per openid), more than this API "
            f"key's limit allows at once ({limits.burst} burst); send at most {limits.burst} "
            "openids per request."
        )
    decision = rate_limit_take(principal=principal, cost=cost)
    if not decision.allowed:
        RATE_LIMITED.inc()
        raise RateLimited(
            f"This API key's rate limit ({limits.burst} burst, {limits.per_minute} a minute) "
            "is used up.",
            retry_after=math.ceil(decision.retry_after),
        )


class ApiKeyRateThrottle(BaseThrottle):
    """DRF throttle: one token per request. A view whose cost depends on its validated input
    opts out (throttle_classes = []) and calls rate_limit_charge itself after validating."""

    def allow_request(self, request, view) -> bool:
        rate_limit_charge(principal=request.user, cost=1)
        return True
