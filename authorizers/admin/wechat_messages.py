"""Failures of an operator's action, in words an operator can act on (never a stack trace)."""

from __future__ import annotations

from authorizers.services.tokens.errors import (
    AuthorizerTokenRefreshError,
    AuthorizerTokenRefreshFailed,
    AuthorizerTokenRefreshRetryable,
    AuthorizerUnavailable,
)
from component.services.token import ComponentTicketMissing
from wechat import errors as wx

from ..models import Authorizer


def _reference(exc: object) -> str:
    errcode, rid = getattr(exc, "errcode", None), getattr(exc, "rid", None)
    parts = [
        f"WeChat errcode {errcode}" if errcode is not None else "",
        f"rid {rid}" if rid else "",
    ]
    text = ", ".join(p for p in parts if p)
    return f" ({text})" if text else ""


def _wechat_sentence(exc: wx.WeChatError) -> str:
    if isinstance(exc, wx.WeChatAuthorizationRevoked):
        return "WeChat says the merchant cancelled the authorization"
    if isinstance(exc, wx.WeChatRefreshTokenInvalid):
        return "WeChat no longer accepts the refresh token: the merchant must authorize again"
    if isinstance(exc, wx.WeChatQuotaResetLimit):
        return (
            "WeChat refused: the account used all 10 quota resets of this month; its quotas "
            "reset on their own at midnight, China time"
        )
    if isinstance(exc, wx.WeChatRidUnknown):
        return "WeChat knows no such call of this account (rids are kept 7 days)"
    if isinstance(exc, wx.WeChatQuotaExceeded) and exc.errcode == 45009:
        return "the account's WeChat quota for this API is used up until midnight, China time"
    if wx.retry_kind(exc) is not wx.Retry.NEVER:  # WeChat's retry table: worth another try
        return "WeChat is busy or unreachable right now; try again in a minute"
    if isinstance(exc, wx.WeChatTicketInvalid):
        return "WeChat rejected our verify ticket; a new one is asked for: retry in a minute"
    if isinstance(exc, wx.WeChatBadRequest):
        return "WeChat rejected the request itself: check the platform's appid and secret"
    return "WeChat refused the request"


def action_failure_message(exc: Exception) -> str:
    """One sentence for a failed refresh or sync of one account."""
    if isinstance(exc, AuthorizerUnavailable):
        label = (
            Authorizer.Status(exc.status).label if exc.status in Authorizer.Status else exc.status
        )
        return f"not possible: the account is '{label}'; only a new authorization brings it back"
    if isinstance(exc, ComponentTicketMissing):
        return "no valid verify ticket from WeChat yet; one is asked for: retry in a minute"
    if isinstance(exc, AuthorizerTokenRefreshRetryable):
        sentence = (
            _wechat_sentence(exc.wechat_error)
            if exc.wechat_error
            else "WeChat is busy or the account is being refreshed; try again in a minute"
        )
        return sentence + _reference(exc)
    if isinstance(exc, AuthorizerTokenRefreshFailed | AuthorizerTokenRefreshError):
        sentence = _wechat_sentence(exc.wechat_error) if exc.wechat_error else str(exc)
        return sentence + _reference(exc)
    if isinstance(exc, wx.WeChatError):
        return _wechat_sentence(exc) + _reference(exc)
    return "unexpected error; the details are in the server log"
