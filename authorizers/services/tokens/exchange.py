"""One api_authorizer_token call for a locked Authorizer row, and what a refusal does to it.

Runs inside the transaction that holds the row lock (see tokens.py). The answer is returned,
not stored: storing it is token_state's job, under its compare-and-set rule. A refusal is
recorded on the row (a stop for 61023/61003, a note otherwise) and returned for the caller to
raise after the commit.
"""

from __future__ import annotations

import logging
from typing import Any

from django.utils import timezone

from authorizers.models import Authorizer
from authorizers.services.tokens.errors import (
    AuthorizerTokenRefreshError,
    AuthorizerTokenRefreshFailed,
    AuthorizerTokenRefreshRetryable,
    AuthorizerUnavailable,
    RefreshResult,
)
from authorizers.services.tokens.gauges import authorizer_token_gauges_update
from authorizers.services.tokens.state import RefreshAnswer, token_state_stop
from component.client import ComponentClient
from component.services.token import ComponentTicketMissing
from core.metrics import TOKEN_REFRESHES
from wechat.errors import (
    Retry,
    WeChatAuthorizationRevoked,
    WeChatBadResponse,
    WeChatBusy,
    WeChatError,
    WeChatQuotaExceeded,
    WeChatRefreshTokenInvalid,
    WeChatTokenInvalid,
    WeChatTransportError,
    retry_kind,
)

logger = logging.getLogger("authorizers.tokens")

Failure = AuthorizerTokenRefreshError | AuthorizerUnavailable

# Whether a WeChat error is retried is errors.RETRY's answer (anything but NEVER: the
# transport already spent its in-place attempts); this only names the result it is counted as.
_RETRY_RESULTS: tuple[tuple[type[WeChatError], RefreshResult], ...] = (
    (WeChatBusy, RefreshResult.BUSY),
    (WeChatTransportError, RefreshResult.TRANSPORT_ERROR),
    (WeChatQuotaExceeded, RefreshResult.QUOTA),
    # The component token was refreshed once by ComponentClient and is still refused.
    (WeChatTokenInvalid, RefreshResult.COMPONENT_UNAVAILABLE),
)


def _retry_result(exc: WeChatError) -> RefreshResult:
    for error_type, result in _RETRY_RESULTS:
        if isinstance(exc, error_type):
            return result
    return RefreshResult.BUSY  # a retryable class added to RETRY without a result of its own


def authorizer_token_request(row: Authorizer) -> RefreshAnswer | Failure:
    """Ask WeChat for a new access token with the row's refresh token."""
    requested_at = timezone.now()
    client = ComponentClient()
    try:
        try:
            payload = _exchange(client, row.appid, row.refresh_token)
        except WeChatRefreshTokenInvalid:
            # WeChat may hold a newer refresh token than ours: an answer lost to a crash or a
            # failed commit. Its account info says which one is current; try that once.
            current = _current_refresh_token(client, row.appid)
            if not current or current == row.refresh_token:
                raise
            logger.warning("authorizer %s: refresh token recovered from WeChat", row.appid)
            requested_at = timezone.now()
            payload = _exchange(client, row.appid, current)
    except WeChatRefreshTokenInvalid as exc:
        return _stop(row, Authorizer.Status.REAUTH_REQUIRED, exc)
    except WeChatAuthorizationRevoked as exc:
        return _stop(row, Authorizer.Status.REVOKED, exc)
    except ComponentTicketMissing as exc:
        return _note(row, AuthorizerTokenRefreshRetryable(
            str(exc), result=RefreshResult.COMPONENT_UNAVAILABLE
        ))  # fmt: skip
    except WeChatError as exc:
        if retry_kind(exc) is not Retry.NEVER:
            return _note(row, AuthorizerTokenRefreshRetryable(
                str(exc), result=_retry_result(exc), wechat_error=exc
            ))  # fmt: skip
        return _note(row, AuthorizerTokenRefreshFailed(
            str(exc), result=RefreshResult.ERROR, wechat_error=exc
        ))  # fmt: skip
    return RefreshAnswer(payload, requested_at)


def _exchange(client: ComponentClient, appid: str, refresh_token: str) -> dict[str, Any]:
    payload = client.authorizer_token(appid, refresh_token)
    access_token = payload.get("authorizer_access_token")
    if not isinstance(access_token, str) or not access_token:
        raise WeChatBadResponse("no authorizer_access_token in the answer", api="refresh")
    # An answer without a refresh token keeps the one it was asked with.
    return {
        **payload,
        "authorizer_refresh_token": payload.get("authorizer_refresh_token") or (refresh_token),
    }


def _current_refresh_token(client: ComponentClient, appid: str) -> str:
    try:
        grant = client.get_authorizer_info(appid).get("authorization_info") or {}
    except WeChatError:
        return ""
    return str(grant.get("authorizer_refresh_token") or "")


def _stop(row: Authorizer, status: str, exc: WeChatError) -> AuthorizerUnavailable:
    """61023 / 61003: the token is useless and refreshing cannot bring it back."""
    token_state_stop(row, status=status, error=_describe(exc))
    logger.warning("authorizer %s refresh refused (%s): now %s", row.appid, exc.errcode, status)
    return AuthorizerUnavailable(status, appid=row.appid)


def _note(row: Authorizer, error: AuthorizerTokenRefreshError) -> AuthorizerTokenRefreshError:
    row.last_refresh_error = _describe(error.wechat_error) if error.wechat_error else str(error)
    row.last_refresh_error = row.last_refresh_error[:300]
    row.save(update_fields=["last_refresh_error", "updated_at"])
    log = logger.warning if error.retryable else logger.error
    log("authorizer %s refresh failed (%s): %s", row.appid, error.result, row.last_refresh_error)
    return error


def _describe(exc: WeChatError) -> str:
    code = f"{exc.errcode} " if exc.errcode is not None else ""
    return f"{code}{type(exc).__name__}: {exc.errmsg}"[:300]


def refresh_failure_record(failure: Failure) -> None:
    """Metrics for a failed refresh, once its transaction committed."""
    if isinstance(failure, AuthorizerUnavailable):
        TOKEN_REFRESHES.labels(failure.status).inc()
        if failure.status == Authorizer.Status.REAUTH_REQUIRED:
            authorizer_token_gauges_update()
        return
    TOKEN_REFRESHES.labels(failure.result.value).inc()
