"""One api_authorizer_token call for a locked Authorizer row, and what its answer does to it.

Runs inside the transaction that holds the row lock (see tokens.py): on success the new
access token, its expiry, token_version+1 and the refresh token WeChat returned are saved
together; on a failure the row records why, and the caller raises after the commit.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from platform_app.component.client import ComponentClient
from platform_app.component.services.token import ComponentTicketMissing
from platform_app.metrics import AUTHORIZERS_NEEDING_REAUTH, TOKEN_REFRESHES
from platform_app.wechat.errors import (
    WeChatAuthorizationRevoked,
    WeChatBadResponse,
    WeChatBusy,
    WeChatError,
    WeChatQuotaExceeded,
    WeChatRefreshTokenInvalid,
    WeChatTokenInvalid,
    WeChatTransportError,
)

from ..models import Authorizer
from ..selectors import authorizer_count_needing_reauth
from .status import authorizer_stop_fields
from .token_errors import (
    AuthorizerTokenRefreshError,
    AuthorizerTokenRefreshFailed,
    AuthorizerTokenRefreshRetryable,
    AuthorizerUnavailable,
    RefreshResult,
)

logger = logging.getLogger("authorizers.tokens")

Failure = AuthorizerTokenRefreshError | AuthorizerUnavailable

# WeChat errors worth another try later, and the result each is counted as.
_RETRYABLE: tuple[tuple[type[WeChatError], RefreshResult], ...] = (
    (WeChatBusy, RefreshResult.BUSY),
    (WeChatTransportError, RefreshResult.TRANSPORT_ERROR),
    (WeChatQuotaExceeded, RefreshResult.QUOTA),
    # The component token was refreshed once by ComponentClient and is still refused.
    (WeChatTokenInvalid, RefreshResult.COMPONENT_UNAVAILABLE),
)
_TOKEN_FIELDS = [
    "access_token",
    "access_token_expires_at",
    "token_version",
    "refresh_token",
    "last_refreshed_at",
    "last_refresh_error",
    "updated_at",
]


def fetch_authorizer_token(row: Authorizer) -> Failure | None:
    started = timezone.now()
    try:
        payload = ComponentClient().authorizer_token(row.appid, row.refresh_token)
        access_token = payload.get("authorizer_access_token")
        if not isinstance(access_token, str) or not access_token:
            raise WeChatBadResponse("no authorizer_access_token in the answer", api="refresh")
    except WeChatRefreshTokenInvalid as exc:
        return _stop(row, Authorizer.Status.REAUTH_REQUIRED, exc)
    except WeChatAuthorizationRevoked as exc:
        return _stop(row, Authorizer.Status.REVOKED, exc)
    except ComponentTicketMissing as exc:
        return _note(row, AuthorizerTokenRefreshRetryable(
            str(exc), result=RefreshResult.COMPONENT_UNAVAILABLE
        ))  # fmt: skip
    except WeChatError as exc:
        for error_type, result in _RETRYABLE:
            if isinstance(exc, error_type):
                return _note(row, AuthorizerTokenRefreshRetryable(
                    str(exc), result=result, wechat_error=exc
                ))  # fmt: skip
        return _note(row, AuthorizerTokenRefreshFailed(
            str(exc), result=RefreshResult.ERROR, wechat_error=exc
        ))  # fmt: skip
    row.access_token = access_token
    row.access_token_expires_at = started + timedelta(seconds=int(payload.get("expires_in", 7200)))
    row.token_version += 1
    # Store whatever comes back: WeChat may rotate it, and only this row keeps it.
    row.refresh_token = str(payload.get("authorizer_refresh_token") or row.refresh_token)
    row.last_refreshed_at = timezone.now()
    row.last_refresh_error = ""
    row.save(update_fields=_TOKEN_FIELDS)
    logger.info(
        "authorizer %s token refreshed: version %d, expires %s",
        row.appid,
        row.token_version,
        row.access_token_expires_at.isoformat(),
    )
    return None


def _stop(row: Authorizer, status: str, exc: WeChatError) -> AuthorizerUnavailable:
    """61023 / 61003: the token is useless and refreshing cannot bring it back."""
    row.last_refresh_error = _describe(exc)
    row.save(update_fields=[*authorizer_stop_fields(row, status), "last_refresh_error"])
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


def record_failure(failure: Failure) -> None:
    """Metrics for a failed refresh, once its transaction committed."""
    if isinstance(failure, AuthorizerUnavailable):
        TOKEN_REFRESHES.labels(failure.status).inc()
        if failure.status == Authorizer.Status.REAUTH_REQUIRED:
            AUTHORIZERS_NEEDING_REAUTH.set(authorizer_count_needing_reauth())
        return
    TOKEN_REFRESHES.labels(failure.result.value).inc()
