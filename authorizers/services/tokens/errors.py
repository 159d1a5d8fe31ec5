"""What a token refresh can end in: results (for metrics and summaries) and errors."""

from __future__ import annotations

from enum import StrEnum

from wechat.errors import WeChatError


class RefreshResult(StrEnum):
    REFRESHED = "refreshed"
    # No WeChat call: the stored token was not due, or another caller refreshed first.
    FRESH = "fresh"
    ALREADY_REFRESHED = "already_refreshed"
    # skip_locked: another worker is refreshing this authorizer right now.
    LOCKED = "locked"
    # A batch reached its deadline before starting this one; the next sweep takes it.
    DEFERRED = "deferred"
    # Retryable failures.
    BUSY = "busy"
    TRANSPORT_ERROR = "transport_error"
    QUOTA = "quota"
    COMPONENT_UNAVAILABLE = "component_unavailable"
    LOCK_TIMEOUT = "lock_timeout"
    # WeChat answered but the new tokens could not be stored; the sweep repairs it.
    STORE_FAILED = "store_failed"
    # Refreshes stop.
    REAUTH_REQUIRED = "reauth_required"
    REVOKED = "revoked"
    ERROR = "error"


class AuthorizerUnavailable(Exception):
    """The authorizer is revoked or needs re-authorization: no token, no refresh.

    `status` is the Authorizer.Status value ("revoked" or "reauth_required").
    """

    def __init__(self, status: str, *, appid: str = "") -> None:
        self.status = status
        self.appid = appid
        super().__init__(f"authorizer {appid} is {status}".replace("  ", " "))


class AuthorizerTokenRefreshError(Exception):
    """A refresh that did not produce a token. `wechat_error` is WeChat's answer, if any."""

    retryable = False

    def __init__(
        self, message: str, *, result: RefreshResult, wechat_error: WeChatError | None = None
    ) -> None:
        super().__init__(message)
        self.result = result
        self.wechat_error = wechat_error
        self.errcode = wechat_error.errcode if wechat_error else None
        self.rid = wechat_error.rid if wechat_error else None


class AuthorizerTokenRefreshRetryable(AuthorizerTokenRefreshError):
    """-1, timeouts, connection errors, 45009, component trouble: retry later with backoff."""

    retryable = True


class AuthorizerTokenRefreshFailed(AuthorizerTokenRefreshError):
    """WeChat refused the request itself (a bug or misconfiguration): retrying will not help."""


RETRYABLE_RESULTS = frozenset(
    {
        RefreshResult.BUSY,
        RefreshResult.TRANSPORT_ERROR,
        RefreshResult.QUOTA,
        RefreshResult.COMPONENT_UNAVAILABLE,
        RefreshResult.LOCK_TIMEOUT,
        RefreshResult.STORE_FAILED,
    }
)
