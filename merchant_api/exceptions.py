"""The one mapping from failures to API errors, and DRF's exception handler.

Domain refusals (authorizers.capabilities), token-refresh failures, WeChat's typed errors,
database lock waits that timed out, DRF's own exceptions (auth, parse, 404, 405, 415) and
Django's Http404 all end here; anything else is logged and answered as a bare 500 in the
same JSON shape, never a stack trace.
"""

from __future__ import annotations

import datetime as dt
import logging
import math

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import OperationalError
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response

from authorizers.capabilities import (
    REFUSED_ACCOUNT,
    REFUSED_PERMISSION,
    REFUSED_REVOKED,
    CapabilityRefused,
    revocation_reason,
)
from authorizers.models import Authorizer
from authorizers.selectors.tenant import AuthorizerNotFound
from authorizers.services.tokens.errors import AuthorizerTokenRefreshError, AuthorizerUnavailable
from core.db_locks import is_lock_timeout
from wechat import errors as wx
from wechat.quota import quota_resets_at

from .errors import (
    AccountNotEligible,
    ApiError,
    AuthorizerRevoked,
    InvalidOpenid,
    InvalidRequest,
    NotFound,
    OpenidAppidMismatch,
    PermissionNotGranted,
    RateLimited,
    Unauthenticated,
    UpstreamError,
    UpstreamUnavailable,
)

logger = logging.getLogger("merchant_api")

_REFUSALS: dict[str, type[ApiError]] = {
    REFUSED_PERMISSION: PermissionNotGranted,
    REFUSED_ACCOUNT: AccountNotEligible,
    REFUSED_REVOKED: AuthorizerRevoked,
}

# WeChat's answers about the account itself (61007, 48001, 61003, 61023): the refusal our own
# capability check would have given, in the merchant's words. The callers that see them only
# record what they mean for the account (tags.services stops it on 61003/61023).
_WECHAT_REFUSALS: dict[type[wx.WeChatError], tuple[str, str]] = {
    wx.WeChatPermissionSetMissing: (
        REFUSED_PERMISSION,
        "WeChat reports that the account did not grant the permission set this API needs. "
        "Re-authorize and tick it.",
    ),
    wx.WeChatAccountNotEligible: (
        REFUSED_ACCOUNT,
        "WeChat reports that this account cannot use this API: only verified Service Accounts can.",
    ),
    wx.WeChatAuthorizationRevoked: (
        REFUSED_REVOKED,
        revocation_reason(Authorizer.Status.REVOKED),
    ),
    wx.WeChatRefreshTokenInvalid: (
        REFUSED_REVOKED,
        revocation_reason(Authorizer.Status.REAUTH_REQUIRED),
    ),
}


def seconds_until_wechat_quota_reset(now: dt.datetime | None = None) -> int:
    """WeChat's daily quotas reset at midnight China time."""
    now = now or dt.datetime.now(dt.UTC)
    return math.ceil((quota_resets_at(now) - now).total_seconds())


def _from_wechat(exc: wx.WeChatError) -> ApiError:
    answered = {"wechat_errcode": exc.errcode, "rid": exc.rid} if exc.errcode is not None else {}
    retry = settings.API_UPSTREAM_RETRY_AFTER_SECONDS
    # Worth a retry (wx.RETRY): a quota says when, as a rate limit; the rest is WeChat being
    # unavailable for now (a dead token reaches here only after tags.services._call's one
    # refresh and retry: nothing but a later attempt can fix it).
    if isinstance(exc, wx.WeChatQuotaExceeded):
        wait = seconds_until_wechat_quota_reset() if exc.errcode == 45009 else 60
        return RateLimited(
            "The account's WeChat API quota is used up.", retry_after=wait, **answered
        )
    if wx.retry_kind(exc) is not wx.Retry.NEVER:
        return UpstreamUnavailable(retry_after=retry, **answered)
    for wechat_type, (refusal, reason) in _WECHAT_REFUSALS.items():
        if isinstance(exc, wechat_type):
            return _REFUSALS[refusal](reason, **answered)
    if isinstance(exc, wx.WeChatUserNotFollowing):
        return InvalidOpenid("The user does not follow this account: WeChat has no tags for them.")
    simple: list[tuple[type[wx.WeChatError], type[ApiError]]] = [
        (wx.WeChatInvalidOpenid, InvalidOpenid),
        (wx.WeChatOpenidMismatch, OpenidAppidMismatch),
    ]
    for wechat_type, api_type in simple:
        if isinstance(exc, wechat_type):
            return api_type(**answered)
    return UpstreamError(**answered)


def _from_drf(exc: drf.APIException) -> ApiError:
    detail = exc.detail
    if isinstance(exc, drf.AuthenticationFailed):
        return Unauthenticated(str(detail))
    if isinstance(exc, drf.NotAuthenticated):
        return Unauthenticated()
    if isinstance(exc, drf.Throttled):
        return RateLimited(retry_after=math.ceil(exc.wait or 1))
    if isinstance(exc, drf.NotFound):
        return NotFound()
    if isinstance(exc, drf.ValidationError):
        return InvalidRequest(validation_message(detail))
    if 400 <= exc.status_code < 500:
        # Parse errors, 405, 406, 415: the caller's mistake, at its own HTTP status.
        return InvalidRequest(str(detail), status=exc.status_code)
    return ApiError()


def validation_message(detail, path: str = "") -> str:
    """First message of a DRF validation tree, prefixed by where it is ("openids[3]: ...")."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key == "non_field_errors":
                where = path
            elif isinstance(key, int):  # ListField errors are keyed by index
                where = f"{path}[{key}]"
            else:
                where = f"{path}.{key}" if path else str(key)
            return validation_message(value, where)
    if isinstance(detail, list):
        for index, value in enumerate(detail):
            if value:
                nested = isinstance(value, list | dict)
                return validation_message(value, f"{path}[{index}]" if nested else path)
        return f"{path}: invalid" if path else "Invalid request."
    return f"{path}: {detail}" if path else str(detail)


def api_error_from(exc: BaseException) -> ApiError | None:
    """The one mapping: domain, WeChat and DRF failures to ApiError; None when unexpected."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, AuthorizerNotFound):
        return NotFound("No authorized account with this appid.")
    if isinstance(exc, CapabilityRefused):
        error = _REFUSALS[exc.refusal](exc.reason)
        cause = exc.wechat_error
        if isinstance(cause, wx.WeChatError) and cause.errcode is not None:
            error.wechat_errcode, error.rid = cause.errcode, cause.rid
        return error
    if isinstance(exc, AuthorizerUnavailable):
        return AuthorizerRevoked(revocation_reason(str(getattr(exc, "status", ""))))
    if isinstance(exc, AuthorizerTokenRefreshError):
        # The refresh WeChat refused or did not answer: the lookup cannot proceed.
        cause = exc.wechat_error
        answered = {"wechat_errcode": cause.errcode, "rid": cause.rid} if cause else {}
        if exc.retryable:
            retry = settings.API_UPSTREAM_RETRY_AFTER_SECONDS
            return UpstreamUnavailable(retry_after=retry, **answered)
        return UpstreamError(**answered)
    if isinstance(exc, wx.WeChatError):
        return _from_wechat(exc)
    if isinstance(exc, OperationalError) and is_lock_timeout(exc):
        # Waited out the lock timeout (SQLite's busy timeout, PostgreSQL's lock_timeout). The
        # writers that hold a lock that long are token refreshes (authorizer or component)
        # waiting on WeChat inside their transaction, so this is WeChat being slow: the
        # answer a refresh's own lock timeout already gets (AuthorizerTokenRefreshRetryable
        # above), never a 500. On SQLite the write lock is the whole file's, which is why
        # it can reach a view from any write, not only from the refresh.
        logger.warning("database lock wait timed out: answered as upstream_unavailable")
        return UpstreamUnavailable(retry_after=settings.API_UPSTREAM_RETRY_AFTER_SECONDS)
    if isinstance(exc, Http404):
        return NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return Unauthenticated()
    if isinstance(exc, drf.APIException):
        return _from_drf(exc)
    return None


def error_response(error: ApiError) -> Response:
    return Response(error.body(), status=error.status, headers=error.headers())


def api_exception_handler(exc: Exception, context: dict) -> Response:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: every exception a view raises ends here."""
    error = api_error_from(exc)
    if error is None:
        view = context.get("view")
        logger.exception("unhandled error in %s", type(view).__name__ if view else "API")
        error = ApiError()
    request = context.get("request")
    if request is not None:
        request.api_error = error
    return error_response(error)
