"""A budget of failed API-key authentications per client IP.

Every key that is not cached costs a database query; random keys would make that free for
anyone. Past API_AUTH_FAILURES_PER_MINUTE failures in the current minute, a client's
uncached keys are refused with 429 and Retry-After before any query. Cached keys (valid or
known-unknown) never reach this. Counters live in the cache (shared by every process with
REDIS_URL); if the cache fails, authentication goes on unthrottled: this guards the
database, it must not take the API down. The client IP is logged nowhere.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from django.conf import settings
from django.core.cache import cache

from .errors import RateLimited

logger = logging.getLogger("merchant_api")

WINDOW_SECONDS = 60


def auth_client_ip(request) -> str:
    """The caller's address: REMOTE_ADDR, or the X-Forwarded-For entry our own proxies
    (API_TRUSTED_PROXY_COUNT of them) appended; entries further left are the client's word."""
    trusted = settings.API_TRUSTED_PROXY_COUNT
    remote = request.META.get("REMOTE_ADDR", "") or ""
    if trusted <= 0:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    return hops[-trusted] if len(hops) >= trusted else (hops[0] if hops else remote)


def _window() -> tuple[str, int]:
    now = time.time()
    index = int(now // WINDOW_SECONDS)
    return str(index), max(1, math.ceil((index + 1) * WINDOW_SECONDS - now))


def _counter_key(client: str, window: str) -> str:
    # Hashed: an address is personal data and the cache is not the place to keep it.
    digest = hashlib.sha256(client.encode("utf-8", "replace")).hexdigest()[:32]
    return f"api:authfail:{digest}:{window}"


def auth_failure_budget_require(*, client: str) -> None:
    """Raise RateLimited when `client` used up its failures for this minute."""
    window, retry_after = _window()
    try:
        failures = cache.get(_counter_key(client, window)) or 0
    except Exception:
        logger.warning("auth failure budget unavailable; not throttling", exc_info=True)
        return
    if failures >= settings.API_AUTH_FAILURES_PER_MINUTE:
        raise RateLimited(
            "Too many requests with unknown API keys from this client.", retry_after=retry_after
        )


def auth_failure_record(*, client: str) -> None:
    window, _ = _window()
    key = _counter_key(client, window)
    try:
        cache.add(key, 0, WINDOW_SECONDS + 1)
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, WINDOW_SECONDS + 1)  # expired between add and incr
    except Exception:
        logger.warning("auth failure budget unavailable; failure not counted", exc_info=True)
