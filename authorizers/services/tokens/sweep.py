"""Refreshing many authorizers: what the sweep finds due, and a bounded pool that refreshes it.

A refresh is ~one WeChat round trip of waiting and a few ms of CPU, so one worker process
runs AUTHORIZER_REFRESH_CONCURRENCY of them at once on threads; a batch of ids per Celery
message keeps broker traffic small (10,000 authorizers = 40 messages, not 10,000). Each pool
thread opens one database connection per batch, so bigger batches also mean fewer
connections: 10,000 refreshes took 51 s in batches of 100, 38 s in batches of 250.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections, connection

from authorizers.selectors.tokens import (
    authorizer_ids_with_unconfirmed_refresh,
    authorizer_list_expiring,
)
from authorizers.services.tokens.errors import (
    RETRYABLE_RESULTS,
    AuthorizerTokenRefreshError,
    AuthorizerUnavailable,
    RefreshResult,
)
from authorizers.services.tokens.refresh import authorizer_refresh_if_expiring

logger = logging.getLogger("authorizers.tokens")

# Set while an authorizer's refresh is in flight or waits for a retry: the sweep leaves it
# alone. A worker that dies mid-batch leaves its marks until they expire, which keeps the
# sweep from racing a call WeChat may still be acting on (see authorizers/tasks/refresh.py).
_RETRY_MARK = "authorizers:token-refresh-busy:{}"


def authorizer_refresh_margin() -> timedelta:
    return timedelta(seconds=settings.AUTHORIZER_REFRESH_MARGIN_SECONDS)


def authorizer_tokens_due(*, within: timedelta | None = None) -> list[list[int]]:
    """Ids of the authorizers to refresh now, in batches, soonest expiry first.

    Accounts being refreshed, or whose failed refresh waits for a retry, are left to that.
    """
    ids = list(
        authorizer_list_expiring(within=within or authorizer_refresh_margin()).values_list(
            "id", flat=True
        )
    )
    if ids:
        marked = cache.get_many([_RETRY_MARK.format(i) for i in ids])
        ids = [i for i in ids if _RETRY_MARK.format(i) not in marked]
    size = settings.AUTHORIZER_REFRESH_BATCH_SIZE
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def authorizer_tokens_unconfirmed() -> list[list[int]]:
    """Accounts whose last refresh may have rotated the refresh token without us storing it:
    force a refresh now, while WeChat still accepts the old one (see RefreshIntent)."""
    ids = authorizer_ids_with_unconfirmed_refresh(
        older_than=timedelta(seconds=settings.AUTHORIZER_REFRESH_INTENT_STALE_SECONDS)
    )
    size = settings.AUTHORIZER_REFRESH_BATCH_SIZE
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def authorizer_token_busy_mark(*, authorizer_id: int, seconds: float) -> None:
    cache.set(_RETRY_MARK.format(authorizer_id), 1, timeout=max(1, int(seconds) + 30))


def authorizer_tokens_queued_mark(*, authorizer_ids: list[int], seconds: float) -> None:
    """Queued for a refresh: the sweep leaves them alone for `seconds` (the queued message's
    own expiry), so sweeps that run while no worker consumes never queue an id twice. The
    worker's in-flight mark replaces it, and a settled refresh removes it."""
    if authorizer_ids:
        timeout = max(1, int(seconds))
        cache.set_many({_RETRY_MARK.format(i): 1 for i in authorizer_ids}, timeout=timeout)


def authorizer_token_busy_unmark(*, authorizer_id: int) -> None:
    cache.delete(_RETRY_MARK.format(authorizer_id))


def authorizer_token_in_flight_seconds() -> float:
    """How long an in-flight mark outlives a worker that died holding it."""
    return settings.AUTHORIZER_REFRESH_BATCH_DEADLINE_SECONDS + 30


def authorizer_tokens_refresh_many(
    *,
    authorizer_ids: Iterable[int],
    within: timedelta | None = None,
    force: bool = False,
    deadline: float | None = None,
    concurrency: int | None = None,
    on_result: Callable[[int, RefreshResult], None] | None = None,
) -> dict[int, RefreshResult]:
    """Refresh each due authorizer (each skipped if another worker holds it); result per id.

    `deadline` (time.monotonic()): no refresh starts after it, the rest are DEFERRED.
    Each pool thread closes its database connection when the pool finishes.
    """
    within = within or authorizer_refresh_margin()
    pending: queue.SimpleQueue[int] = queue.SimpleQueue()
    ids = list(authorizer_ids)
    if not ids:
        return {}
    timeout = int(authorizer_token_in_flight_seconds())
    cache.set_many({_RETRY_MARK.format(i): 1 for i in ids}, timeout=timeout)
    for authorizer_id in ids:
        pending.put(authorizer_id)
    results: dict[int, RefreshResult] = {}
    lock = threading.Lock()

    def work() -> None:
        close_old_connections()  # once per thread: a health check per refresh costs a query
        try:
            while True:
                try:
                    authorizer_id = pending.get_nowait()
                except queue.Empty:
                    return
                if deadline is not None and time.monotonic() > deadline:
                    result = RefreshResult.DEFERRED
                else:
                    result = _refresh_one(authorizer_id, within, force)
                with lock:
                    results[authorizer_id] = result
                    if on_result is not None:
                        on_result(authorizer_id, result)
        finally:
            connection.close()

    workers = min(concurrency or settings.AUTHORIZER_REFRESH_CONCURRENCY, len(ids))
    threads = [threading.Thread(target=work, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    settled = [i for i, r in results.items() if r not in RETRYABLE_RESULTS]
    cache.delete_many([_RETRY_MARK.format(i) for i in settled])
    return results


def _refresh_one(authorizer_id: int, within: timedelta, force: bool) -> RefreshResult:
    try:
        return authorizer_refresh_if_expiring(
            authorizer_id=authorizer_id, within=within, force=force
        )
    except AuthorizerUnavailable as exc:
        return RefreshResult(exc.status)
    except AuthorizerTokenRefreshError as exc:
        return exc.result
    except Exception:
        logger.exception("authorizer %s refresh crashed", authorizer_id)
        return RefreshResult.ERROR


def refresh_results_count(results: dict[int, RefreshResult]) -> dict[str, int]:
    return dict(Counter(r.value for r in results.values()))
