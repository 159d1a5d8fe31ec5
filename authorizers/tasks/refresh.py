"""Celery tasks that keep authorizer_access_tokens fresh (beat runs the sweep every minute).

Thin: the sweep asks which accounts are due and enqueues batches; a batch refreshes its ids
on a bounded thread pool; a failed refresh that may succeed later (-1, timeouts, 45009) is
retried per authorizer with exponential backoff and full jitter, and the sweep leaves it to
that retry meanwhile. Every refresh is safe to run twice (row lock + re-check of expiry), so
an overlapping sweep costs no extra call.

A redelivered message means a worker died mid-task, perhaps mid-call: WeChat may still act on
that call after we stopped listening (issue a new access token, rotate the refresh token and
keep the old one only for a grace period). Refreshing at once could race that ghost call and
store a refresh token it then replaces, so recovery waits a little (longer than any ghost
call takes, well inside WeChat's 5-minute grace) and then forces a refresh of those ids,
re-anchoring the chain on WeChat's latest answer; the sweep leaves them to it meanwhile.
"""

from __future__ import annotations

import logging
import random
import time

from celery import shared_task
from django.conf import settings

from authorizers.services.tokens.errors import (
    RETRYABLE_RESULTS,
    AuthorizerTokenRefreshRetryable,
    AuthorizerUnavailable,
    RefreshResult,
)
from authorizers.services.tokens.gauges import authorizer_token_gauges_update
from authorizers.services.tokens.refresh import authorizer_refresh_if_expiring
from authorizers.services.tokens.sweep import (
    authorizer_refresh_margin,
    authorizer_token_busy_mark,
    authorizer_token_busy_unmark,
    authorizer_token_in_flight_seconds,
    authorizer_tokens_due,
    authorizer_tokens_queued_mark,
    authorizer_tokens_refresh_many,
    authorizer_tokens_unconfirmed,
    refresh_results_count,
)

__all__ = ["authorizer_refresh_batch_task", "authorizer_refresh_task", "authorizer_tokens_sweep"]

logger = logging.getLogger("authorizers.tokens")


def _retry_countdown(retries: int) -> float:
    ceiling = min(
        settings.AUTHORIZER_REFRESH_RETRY_BACKOFF_MAX_SECONDS,
        settings.AUTHORIZER_REFRESH_RETRY_BACKOFF_SECONDS * 2**retries,
    )
    return random.uniform(ceiling / 2, ceiling)  # jitter, never an immediate hammering retry


@shared_task(name="authorizers.tasks.refresh.authorizer_tokens_sweep", ignore_result=True)
def authorizer_tokens_sweep() -> dict[str, int]:
    authorizer_token_gauges_update()
    batches = authorizer_tokens_due()
    # A batch still queued after `expires` is dropped; its ids are marked queued for as long,
    # so later sweeps skip them while it waits and list them again once it is dropped.
    expires = max(30.0, float(settings.CELERY_BEAT_SCHEDULE["authorizer-token-sweep"]["schedule"]))
    for ids in batches:
        authorizer_tokens_queued_mark(authorizer_ids=ids, seconds=expires)
        authorizer_refresh_batch_task.apply_async((ids,), expires=expires)
    for ids in authorizer_tokens_unconfirmed():
        authorizer_refresh_batch_task.apply_async((ids,), {"force": True}, expires=expires)
    due = sum(len(ids) for ids in batches)
    if due:
        logger.info("token sweep: %d authorizers due, %d batches", due, len(batches))
    return {"due": due, "batches": len(batches)}


def _deferred_after_redelivery(task, authorizer_ids: list[int]) -> bool:
    if not (task.request.delivery_info or {}).get("redelivered"):
        return False
    delay = settings.AUTHORIZER_REFRESH_REDELIVERY_DELAY_SECONDS
    for authorizer_id in authorizer_ids:
        authorizer_token_busy_mark(authorizer_id=authorizer_id, seconds=delay)
    authorizer_refresh_batch_task.apply_async((authorizer_ids,), {"force": True}, countdown=delay)
    logger.warning(
        "token refresh of %d authorizers redelivered (worker lost): forced refresh in %.0f s",
        len(authorizer_ids),
        delay,
    )
    return True


@shared_task(
    bind=True,
    name="authorizers.tasks.refresh.authorizer_refresh_batch_task",
    ignore_result=True,
    soft_time_limit=120,
    time_limit=150,
)
def authorizer_refresh_batch_task(
    self, authorizer_ids: list[int], force: bool = False
) -> dict[str, int]:
    if _deferred_after_redelivery(self, authorizer_ids):
        return {"deferred": len(authorizer_ids)}
    deadline = time.monotonic() + settings.AUTHORIZER_REFRESH_BATCH_DEADLINE_SECONDS
    results = authorizer_tokens_refresh_many(
        authorizer_ids=authorizer_ids, force=force, deadline=deadline
    )
    for authorizer_id, result in results.items():
        if result in RETRYABLE_RESULTS:
            countdown = _retry_countdown(0)
            authorizer_token_busy_mark(authorizer_id=authorizer_id, seconds=countdown)
            authorizer_refresh_task.apply_async((authorizer_id,), countdown=countdown)
    summary = refresh_results_count(results)
    logger.info("token refresh batch of %d: %s", len(authorizer_ids), summary)
    return summary


@shared_task(
    bind=True,
    name="authorizers.tasks.refresh.authorizer_refresh_task",
    ignore_result=True,
)
def authorizer_refresh_task(self, authorizer_id: int, force: bool = False) -> str:
    """Refresh one authorizer if due (or now, with force); retried on transient failures."""
    if _deferred_after_redelivery(self, [authorizer_id]):
        return RefreshResult.DEFERRED.value
    seconds = authorizer_token_in_flight_seconds()
    authorizer_token_busy_mark(authorizer_id=authorizer_id, seconds=seconds)
    try:
        result = authorizer_refresh_if_expiring(
            authorizer_id=authorizer_id, within=authorizer_refresh_margin(), force=force
        )
    except AuthorizerUnavailable as exc:
        result = RefreshResult(exc.status)
    except AuthorizerTokenRefreshRetryable as exc:
        if self.request.retries >= settings.AUTHORIZER_REFRESH_MAX_RETRIES:
            authorizer_token_busy_unmark(authorizer_id=authorizer_id)
            logger.error("authorizer %s refresh gave up (%s)", authorizer_id, exc.result)
            raise
        countdown = _retry_countdown(self.request.retries + 1)
        authorizer_token_busy_mark(authorizer_id=authorizer_id, seconds=countdown)
        raise self.retry(
            exc=exc, countdown=countdown, max_retries=settings.AUTHORIZER_REFRESH_MAX_RETRIES
        ) from None
    except Exception:
        authorizer_token_busy_unmark(authorizer_id=authorizer_id)
        raise
    authorizer_token_busy_unmark(authorizer_id=authorizer_id)
    return result.value
