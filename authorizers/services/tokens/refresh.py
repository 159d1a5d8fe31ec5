"""An account's access token on the request path (authorizer_get_access_token), refreshed
one at a time per account under a lock.

The lock is a PostgreSQL row lock (SELECT ... FOR UPDATE on the Authorizer row), held for
the WeChat call and released by the COMMIT that stores its answer. Why not a Redis lock:
- What the lock protects is that row: the refresh token is read from it and the new access
  token, its expiry and the returned refresh token are written back to it. Taking the lock
  in the transaction that writes the row makes lock and write one unit. A Redis lock with a
  TTL can expire while its holder is still mid-call, which is why it needs a fencing check
  at write time; here the transaction is the fence, and there is no TTL to tune.
- A crash releases it and undoes the half-done work: when a worker dies (SIGKILL, OOM, lost
  machine) PostgreSQL aborts its transaction and drops the lock. The row still holds the old
  refresh token, which WeChat still accepts (it echoes the same one, or keeps a rotated-out
  one valid for a grace period), so the next sweep simply refreshes again.
- Waiting is native: the request path uses plain FOR UPDATE, queues behind a refresh under
  way, then re-reads the row and returns the token that refresh stored (single flight, no
  polling); sweep tasks use SKIP LOCKED, so a second worker moves on instead of waiting.
- No second system on the critical path (Redis is optional, SPEC section 3).
The cost is one database connection held in a transaction for one WeChat call (tens of ms;
bounded by the transport's timeouts, and waiters by AUTHORIZER_TOKEN_LOCK_TIMEOUT_SECONDS).

On SQLite (the embedded default), which has no row locks, a lease per authorizer is held
around the call instead, and the database's write lock only around the write (_refresh_leased,
lease.py): a slow WeChat call must not block every other writer of the file.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, OperationalError, connection, transaction
from django.utils import timezone

from authorizers.models import Authorizer
from authorizers.services.tokens.errors import (
    AuthorizerTokenRefreshError,
    AuthorizerTokenRefreshRetryable,
    AuthorizerUnavailable,
    RefreshResult,
)
from authorizers.services.tokens.exchange import authorizer_token_request, refresh_failure_record
from authorizers.services.tokens.lease import refresh_lease
from authorizers.services.tokens.state import (
    AccessToken,
    RefreshAnswer,
    access_token_of,
    refresh_intent_close,
    refresh_intent_open,
    token_state_copy,
    token_state_copy_status,
    token_state_lock,
    token_state_store_refresh,
)
from core.db_locks import is_lock_timeout
from core.metrics import TOKEN_REFRESHES

logger = logging.getLogger(__name__)

# A commit that fails after WeChat answered is retried this many times (the answer, maybe a
# rotated refresh token, exists nowhere else), then left to the sweep via the RefreshIntent.
STORE_ATTEMPTS = 3


def _safety_margin() -> timedelta:
    return timedelta(seconds=settings.AUTHORIZER_TOKEN_SAFETY_MARGIN_SECONDS)


def _valid_for(authorizer: Authorizer, margin: timedelta) -> bool:
    expires_at = authorizer.access_token_expires_at
    return (
        bool(authorizer.access_token)
        and expires_at is not None
        and (expires_at - margin > timezone.now())
    )


def authorizer_get_access_token(*, authorizer: Authorizer) -> AccessToken:
    """The request path: the stored token without a query while it is valid; else refresh.

    An expired token is refreshed inline, single-flight: a refresh already under way (sweep
    or another request, any process) is waited for and its token returned. The caller's
    instance is updated in place, so a cached instance stays query-free afterwards.
    """
    if not authorizer.is_active:
        raise AuthorizerUnavailable(authorizer.status, appid=authorizer.appid)
    if _valid_for(authorizer, _safety_margin()):
        return access_token_of(authorizer)
    try:
        token = authorizer_refresh_access_token(
            authorizer_id=authorizer.pk, stale_version=authorizer.token_version
        )
    except AuthorizerUnavailable as exc:
        token_state_copy_status(target=authorizer, status=exc.status)
        raise
    token_state_copy(target=authorizer, token=token)
    return token


def authorizer_refresh_access_token(
    *, authorizer_id: int, stale_version: int | None = None, force: bool = False
) -> AccessToken:
    """Refresh unless someone already did; waits for a refresh under way.

    `stale_version`: the token_version the caller saw (e.g. with a token WeChat called dead);
    if the row has moved on and its token is valid, that token is returned without a call.
    Without `force`, a token still valid beyond the safety margin is returned as is.
    """
    _, token = _refresh(
        authorizer_id=authorizer_id,
        stale_version=stale_version,
        force=force,
        ahead=_safety_margin(),
        skip_locked=False,
    )
    assert token is not None  # only skip_locked yields no token
    return token


def authorizer_refresh_if_expiring(
    *, authorizer_id: int, within: timedelta, force: bool = False
) -> RefreshResult:
    """The sweep's refresh: skips a row another worker holds, and a token that is not due."""
    result, _ = _refresh(
        authorizer_id=authorizer_id,
        stale_version=None,
        force=force,
        ahead=max(within, _safety_margin()),
        skip_locked=True,
    )
    return result


@dataclass
class _Attempt:
    """What the locked part learned; survives its transaction's rollback."""

    answer: RefreshAnswer | None = None
    seen_version: int = 0


def _refresh(
    *,
    authorizer_id: int,
    stale_version: int | None,
    force: bool,
    ahead: timedelta,
    skip_locked: bool,
) -> tuple[RefreshResult, AccessToken | None]:
    # Committed before the call and deleted with its answer: if this process dies (or its
    # commit fails) after WeChat answered, the intent left behind tells the sweep to repair.
    intent_id = refresh_intent_open(authorizer_id=authorizer_id)
    attempt = _Attempt()
    try:
        result, token = _refresh_locked(
            attempt, authorizer_id, stale_version, force, ahead, skip_locked
        )
    except DatabaseError as exc:
        if attempt.answer is not None:  # WeChat answered, the commit failed
            token = _store_again(authorizer_id, attempt.answer, attempt.seen_version)
            return _done(RefreshResult.REFRESHED, token)
        refresh_intent_close(intent_id=intent_id)
        if isinstance(exc, OperationalError) and is_lock_timeout(exc):
            if skip_locked:  # SQLite has no SKIP LOCKED: a sweep that waited out the lock skips
                return _done(RefreshResult.LOCKED, None)
            raise AuthorizerTokenRefreshRetryable(
                "timed out waiting for another refresh of this authorizer",
                result=RefreshResult.LOCK_TIMEOUT,
            ) from None
        raise
    except BaseException:
        refresh_intent_close(intent_id=intent_id)
        raise
    if attempt.answer is None:  # no call was needed (the answer's commit cleared the intent)
        refresh_intent_close(intent_id=intent_id)
    return result, token


def _refresh_locked(
    attempt: _Attempt,
    authorizer_id: int,
    stale_version: int | None,
    force: bool,
    ahead: timedelta,
    skip_locked: bool,
) -> tuple[RefreshResult, AccessToken | None]:
    if connection.vendor == "sqlite":
        return _refresh_leased(attempt, authorizer_id, stale_version, force, ahead, skip_locked)
    failure: AuthorizerTokenRefreshError | AuthorizerUnavailable | None = None
    with transaction.atomic():
        if not skip_locked:
            _set_lock_timeout()
        row = token_state_lock(authorizer_id=authorizer_id, skip_locked=skip_locked)
        if row is None:
            if skip_locked and Authorizer.objects.filter(pk=authorizer_id).exists():
                return _done(RefreshResult.LOCKED, None)
            raise Authorizer.DoesNotExist(f"authorizer {authorizer_id} does not exist")
        decided = _no_call_needed(row, stale_version, force, ahead)
        if decided is not None:
            return decided
        attempt.seen_version = row.state_version
        outcome = authorizer_token_request(row)
        if isinstance(outcome, RefreshAnswer):
            attempt.answer = outcome
            token_state_store_refresh(row, answer=outcome, seen_version=attempt.seen_version)
        else:
            failure = outcome
        # The new tokens (or the failure's status) commit here, in the lock's transaction.
    if failure is not None:
        refresh_failure_record(failure)
        raise failure
    return _done(RefreshResult.REFRESHED, access_token_of(row))


def _no_call_needed(
    row: Authorizer, stale_version: int | None, force: bool, ahead: timedelta
) -> tuple[RefreshResult, AccessToken | None] | None:
    """What to answer without calling WeChat (a stopped account raises); None: call."""
    if not row.is_active:
        raise AuthorizerUnavailable(row.status, appid=row.appid)
    moved_on = stale_version is not None and row.token_version != stale_version
    if moved_on and _valid_for(row, _safety_margin()):
        borrowed = replace(access_token_of(row), borrowed=True)
        return _done(RefreshResult.ALREADY_REFRESHED, borrowed)
    if not force and _valid_for(row, ahead):
        return _done(RefreshResult.FRESH, access_token_of(row))
    return None


def _refresh_leased(
    attempt: _Attempt,
    authorizer_id: int,
    stale_version: int | None,
    force: bool,
    ahead: timedelta,
    skip_locked: bool,
) -> tuple[RefreshResult, AccessToken | None]:
    """SQLite: the same single flight, with the authorizer's refresh lease held around the
    call instead of the database's write lock (refresh_lease.py). The write transaction is
    taken only to store the answer, compare-and-set on the version read before the call.
    (A refusal's note or stop is one autocommit UPDATE, as short.) A lease held past the
    lock timeout raises RefreshLeaseBusy, which _refresh answers as any lock timeout."""
    with refresh_lease(authorizer_id=authorizer_id, wait=not skip_locked) as held:
        if not held:
            return _done(RefreshResult.LOCKED, None)
        row = Authorizer.objects.filter(pk=authorizer_id).first()
        if row is None:
            raise Authorizer.DoesNotExist(f"authorizer {authorizer_id} does not exist")
        decided = _no_call_needed(row, stale_version, force, ahead)
        if decided is not None:
            return decided
        attempt.seen_version = row.state_version
        outcome = authorizer_token_request(row)
        if isinstance(outcome, RefreshAnswer):
            attempt.answer = outcome
            token = _store(authorizer_id, outcome, attempt.seen_version)
            return _done(RefreshResult.REFRESHED, token)
    refresh_failure_record(outcome)
    raise outcome


def _store(authorizer_id: int, answer: RefreshAnswer, seen_version: int) -> AccessToken:
    """Store WeChat's answer on the locked row, unless the row moved on meanwhile."""
    with transaction.atomic():
        row = token_state_lock(authorizer_id=authorizer_id)
        if row is None:
            raise Authorizer.DoesNotExist(f"authorizer {authorizer_id} does not exist")
        stored = token_state_store_refresh(row, answer=answer, seen_version=seen_version)
        if not stored and not row.is_active:  # stopped meanwhile: no token to give
            raise AuthorizerUnavailable(row.status, appid=row.appid)
        return access_token_of(row)


def _store_again(authorizer_id: int, answer: RefreshAnswer, seen_version: int) -> AccessToken:
    """WeChat answered but the commit failed: its answer exists only here, so try again."""
    for attempt in range(STORE_ATTEMPTS):
        time.sleep(0.05 * 2**attempt)
        try:
            return _store(authorizer_id, answer, seen_version)
        except Authorizer.DoesNotExist:
            break
        except DatabaseError:
            logger.warning("authorizer %s: storing the refreshed token failed", authorizer_id)
    logger.error(
        "authorizer %s: refreshed token could not be stored; the sweep will repair it",
        authorizer_id,
    )
    raise AuthorizerTokenRefreshRetryable(
        "the refreshed token could not be stored", result=RefreshResult.STORE_FAILED
    )


def _done(
    result: RefreshResult, token: AccessToken | None
) -> tuple[RefreshResult, AccessToken | None]:
    TOKEN_REFRESHES.labels(result.value).inc()
    return result, token


def _set_lock_timeout() -> None:
    if connection.vendor != "postgresql":
        return
    millis = int(settings.AUTHORIZER_TOKEN_LOCK_TIMEOUT_SECONDS * 1000)
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{millis}ms"])
