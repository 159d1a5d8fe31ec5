"""Per-API-key token bucket, so one merchant cannot spend WeChat's daily quota for everyone.

The bucket holds `burst` tokens and refills at `per_minute` / 60 a second; a request takes one
token per getidlist call it may make: a bulk of N openids takes N, charged in full once its
body is valid (a malformed request is 400 whatever the bucket holds). A request that costs
more than `burst` could never fit, so it is 400 invalid_request naming the limit rather than
a 429 that no amount of waiting would satisfy. With REDIS_URL the bucket lives in Redis
(under the cache's KEY_PREFIX and VERSION, so deployments sharing a Redis keep their own
buckets) and is updated by one Lua script (atomic across processes and machines, Redis' own
clock); on the embedded default (one machine, no Redis), in a small file per key that every
process updates under an exclusive lock; otherwise in this process's memory. If Redis is
unreachable the limiter lets
requests through: it protects a quota, it must not take the API down. On the hot path the
script runs in the same Redis round trip as the request's cache reads (rate_limit_prefetch).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import math
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from prometheus_client import Counter
from rest_framework.throttling import BaseThrottle

from .errors import InvalidRequest, RateLimited

logger = logging.getLogger("merchant_api")

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


class FileBuckets:
    """One bucket per file, read and rewritten under flock: every process of this machine
    (the embedded default's gunicorn workers) spends from the same bucket, as with Redis.
    The clock is the wall clock, the one all processes share; a step back counts as no time."""

    _SIZE = 64  # "tokens ts", padded: one pwrite replaces the whole record

    def __init__(self, directory: Path) -> None:
        self._dir = directory
        directory.mkdir(parents=True, exist_ok=True)

    def take(self, key: str, limits: Limits, cost: int) -> Decision:
        path = self._dir / hashlib.sha256(key.encode()).hexdigest()
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            now = time.time()
            tokens, ts = float(limits.burst), now
            fields = os.pread(fd, self._SIZE, 0).split()
            if len(fields) == 2:
                tokens, ts = float(fields[0]), float(fields[1])
            tokens = min(limits.burst, tokens + max(0.0, now - ts) * limits.per_second)
            decision = Decision(True)
            if tokens >= cost:
                tokens -= cost
            else:
                decision = Decision(False, (cost - tokens) / limits.per_second)
            os.pwrite(fd, f"{tokens!r} {now!r}".encode().ljust(self._SIZE), 0)
            return decision
        finally:
            os.close(fd)  # releases the lock


class RedisBuckets:
    def __init__(self, url: str) -> None:
        import redis

        self._client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._script = self._client.register_script(_LUA)

    def take(self, key: str, limits: Limits, cost: int) -> Decision:
        allowed, wait = self._script(keys=[key], args=[limits.burst, limits.per_second, cost])
        return Decision(bool(int(allowed)), float(wait))


Buckets = MemoryBuckets | FileBuckets | RedisBuckets
_backends: dict[tuple[int, str, str], Buckets] = {}
_backends_lock = threading.Lock()


def _backend() -> Buckets:
    url = getattr(settings, "REDIS_URL", "") or ""
    cache_config = settings.CACHES["default"]
    files = "" if url or not cache_config["BACKEND"].endswith("FileBasedCache") else "files"
    key = (os.getpid(), url, files and cache_config["LOCATION"])  # forked: own connections
    backend = _backends.get(key)
    if backend is None:
        with _backends_lock:
            backend = _backends.get(key)
            if backend is None:
                if url:
                    backend = RedisBuckets(url)
                elif files:  # the embedded default: the cache's files are this machine's
                    backend = FileBuckets(Path(cache_config["LOCATION"]) / "ratelimit")
                else:
                    backend = MemoryBuckets()
                _backends[key] = backend
    return backend


def limits_for(principal) -> Limits:
    burst = principal.rate_limit_burst or settings.API_RATE_LIMIT_BURST
    per_minute = principal.rate_limit_per_minute or settings.API_RATE_LIMIT_PER_MINUTE
    return Limits(burst=max(1, burst), per_minute=max(1, per_minute))


def rate_limit_bucket_key(*, key_id: int) -> str:
    # Built like every cache key (KEY_PREFIX, VERSION): one Redis can serve two deployments.
    return cache.make_key(f"api:ratelimit:{key_id}")


def rate_limit_take(*, principal, cost: int = 1) -> Decision:
    return rate_limit_take_from(
        bucket=rate_limit_bucket_key(key_id=principal.key_id),
        limits=limits_for(principal),
        cost=cost,
    )


def rate_limit_take_from(*, bucket: str, limits: Limits, cost: int = 1) -> Decision:
    """`cost` tokens from the bucket under cache key `bucket` (another credential's, e.g. a
    service client's), on the same backend as the API keys' buckets."""
    try:
        return _backend().take(bucket, limits, max(1, cost))
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
    _enforce(limits, rate_limit_take(principal=principal, cost=cost))


def _enforce(limits: Limits, decision: Decision) -> None:
    if not decision.allowed:
        RATE_LIMITED.inc()
        raise RateLimited(
            f"This API key's rate limit ({limits.burst} burst, {limits.per_minute} a minute) "
            "is used up.",
            retry_after=math.ceil(decision.retry_after),
        )


# One token taken ahead of authentication, in the same Redis round trip as the cache reads
# of the API key and the authorizer (rate_limit_prefetch). Only for a key this process has
# authenticated before: which bucket, at which limits, is known only after authentication.
@dataclass(frozen=True)
class Charge:
    key_id: int
    limits: Limits
    decision: Decision


_SEEN_MAX = 10_000
_seen: dict[str, tuple[int, Limits]] = {}  # the key's cache key -> (key id, limits) seen last


def rate_limit_prefetch(
    *, cache_keys: list[str], key_identity: str | None
) -> tuple[dict, Charge | None]:
    """get_many(cache_keys) and, for the API key known as `key_identity` (its cache entry's
    key), the request's one rate-limit token, in one Redis round trip.

    The token is spent before the key is authenticated: a key revoked since it was seen
    spends one token of its own dead bucket, nothing else. Redis unreachable: no charge (the
    throttle then charges, and fails open, as usual) and the reads as get_many does them.
    """
    seen = _seen.get(key_identity) if key_identity else None
    run_with_reads = getattr(cache, "eval_and_get_many", None)
    if seen is None or run_with_reads is None or not isinstance(_backend(), RedisBuckets):
        return (cache.get_many(cache_keys) if cache_keys else {}), None
    key_id, limits = seen
    try:
        (allowed, wait), found = run_with_reads(
            _LUA, [rate_limit_bucket_key(key_id=key_id)], [limits.burst, limits.per_second, 1],
            cache_keys,
        )  # fmt: skip
    except Exception:  # Redis down: fail open, loudly, as rate_limit_take does
        logger.warning("rate limiter unavailable; reading the cache alone", exc_info=True)
        return cache.get_many(cache_keys), None
    return found, Charge(key_id, limits, Decision(bool(int(allowed)), float(wait)))


def _charge_counts(charge: Charge | None, principal) -> bool:
    """Whether a token taken ahead was taken from this key's bucket at its current limits
    (else the request is charged anew, and the token taken ahead only spent a dead one)."""
    return (
        charge is not None
        and charge.key_id == principal.key_id
        and charge.limits == limits_for(principal)
    )


def _remember(key_identity: str, principal) -> None:
    if len(_seen) >= _SEEN_MAX:  # a bound, not an LRU: keys come back on their next request
        _seen.clear()
    _seen[key_identity] = (principal.key_id, limits_for(principal))


class ApiKeyRateThrottle(BaseThrottle):
    """DRF throttle: one token per request. A view whose cost depends on its validated input
    opts out (throttle_classes = []) and calls rate_limit_charge itself after validating.

    A token taken ahead (request.rate_charge, see rate_limit_prefetch) counts if it was taken
    from this key's bucket at its current limits; otherwise (first request of a key in this
    process, limits changed) the request is charged here, as always.
    """

    def allow_request(self, request, view) -> bool:
        rate_limit_settle(
            principal=request.user,
            charge=getattr(request, "rate_charge", None),
            key_identity=getattr(request, "rate_key_identity", None),
        )
        return True


def rate_limit_settle(*, principal, charge: Charge | None, key_identity: str | None) -> None:
    """One request's token: the one taken ahead if it counts, else one taken now. Raises
    RateLimited when the bucket is empty."""
    if _charge_counts(charge, principal):
        _enforce(charge.limits, charge.decision)
    else:
        rate_limit_charge(principal=principal, cost=1)
    if key_identity:
        _remember(key_identity, principal)
