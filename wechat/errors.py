"""WeChat's error catalogue: every failure of a WeChat call becomes one of these types.

Callers branch on the type, never on errmsg text; errcode, errmsg and the rid WeChat
appends to errmsg are kept for operators and for the merchant-facing error body.
"""

from __future__ import annotations

import re
from enum import StrEnum

_RID_RE = re.compile(r"rid:\s*([0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8})")


def parse_rid(errmsg: str) -> str | None:
    match = _RID_RE.search(errmsg or "")
    return match.group(1) if match else None


class WeChatError(Exception):
    """Base of every WeChat failure. `errcode` is None when WeChat never answered."""

    def __init__(self, errmsg: str = "", *, errcode: int | None = None, api: str = "") -> None:
        self.errcode = errcode
        self.errmsg = errmsg
        self.rid = parse_rid(errmsg)
        self.api = api
        code = f"{errcode} " if errcode is not None else ""
        super().__init__(f"{api}: {code}{errmsg}")

    @property
    def retryable(self) -> bool:
        """Whether the transport retries it in place (see RETRY below)."""
        return retry_kind(self) is Retry.NOW


# --- WeChat did not answer usably -------------------------------------------------------
class WeChatTransportError(WeChatError):
    """No usable answer: timeout, connection failure, non-JSON or HTTP error."""


class WeChatTimeout(WeChatTransportError):
    """No answer in time (connect or read)."""


class WeChatConnectionError(WeChatTransportError):
    """The connection failed or was reset."""


class WeChatBadResponse(WeChatTransportError):
    """A 3xx (never followed), 4xx or 5xx, a non-JSON body or JSON that is not an object."""


# --- WeChat answered with an errcode ----------------------------------------------------
class WeChatAPIError(WeChatError):
    """WeChat answered with a non-zero errcode not covered by a narrower type."""


class WeChatBusy(WeChatAPIError):
    """-1 system error: WeChat asks to retry."""


class WeChatTokenInvalid(WeChatAPIError):
    """The access token is dead (wrong, replaced or expired): refresh and retry once."""


class WeChatQuotaExceeded(WeChatAPIError):
    """Daily (45009) or minute (45011) quota reached."""


class WeChatInvalidOpenid(WeChatAPIError):
    pass


class WeChatOpenidMismatch(WeChatAPIError):
    pass


class WeChatUserNotFollowing(WeChatInvalidOpenid):
    """batchget's `subscribe: 0`: the user unsubscribed, and WeChat gives no tags for them."""


class WeChatPermissionDenied(WeChatAPIError):
    """The call is not allowed for this account or platform."""


class WeChatPermissionSetMissing(WeChatPermissionDenied):
    """61007: the authorizer granted none of the API's permission sets."""


class WeChatAccountNotEligible(WeChatPermissionDenied):
    """48001: the account type or verification does not include this API."""


class WeChatAuthorizationRevoked(WeChatPermissionDenied):
    """61003: the merchant cancelled the authorization."""


class WeChatRefreshTokenInvalid(WeChatAPIError):
    """61023: the refresh token is gone; only a new authorization brings one back."""


class WeChatTicketInvalid(WeChatAPIError):
    """61005/61006: the component_verify_ticket is expired or wrong."""


class WeChatAuthCodeInvalid(WeChatAPIError):
    """61009/61010: the authorization code is wrong, used or expired."""


class WeChatBadRequest(WeChatAPIError):
    """WeChat rejected our request itself (bad appid, secret or body): a bug or misconfiguration."""


class WeChatQuotaResetLimit(WeChatAPIError):
    """48006: the account used its 10 quota resets of the month."""


class WeChatRidUnknown(WeChatAPIError):
    """76001 (not found, older than 7 days, or another account's) / 76002 (malformed rid)."""


ERRCODE_TYPES: dict[int, type[WeChatAPIError]] = {
    -1: WeChatBusy,
    40001: WeChatTokenInvalid,
    40014: WeChatTokenInvalid,
    42001: WeChatTokenInvalid,
    42006: WeChatTokenInvalid,
    41001: WeChatTokenInvalid,
    45009: WeChatQuotaExceeded,
    45011: WeChatQuotaExceeded,
    40003: WeChatInvalidOpenid,
    49003: WeChatOpenidMismatch,
    48001: WeChatAccountNotEligible,
    50001: WeChatPermissionDenied,
    61007: WeChatPermissionSetMissing,
    61003: WeChatAuthorizationRevoked,
    61023: WeChatRefreshTokenInvalid,
    42007: WeChatRefreshTokenInvalid,
    61005: WeChatTicketInvalid,
    61006: WeChatTicketInvalid,
    61009: WeChatAuthCodeInvalid,
    61010: WeChatAuthCodeInvalid,
    40013: WeChatBadRequest,
    40125: WeChatBadRequest,
    41004: WeChatBadRequest,
    44002: WeChatBadRequest,
    47001: WeChatBadRequest,
    61011: WeChatBadRequest,
    40170: WeChatBadRequest,
    48006: WeChatQuotaResetLimit,
    76001: WeChatRidUnknown,
    76002: WeChatRidUnknown,
}


class Retry(StrEnum):
    """Whether a failed call is worth another attempt, and when."""

    NOW = "now"  # transient: the transport retries in place, with backoff
    LATER = "later"  # not in place: only after a wait (a queued retry, Retry-After)
    NEVER = "never"  # the same request gets the same answer


# The one classification every retry decision derives from: the transport's in-place
# retries (NOW), the token refresh and Celery task retries (NOW or LATER: whatever survived
# the transport's attempts), the merchant API's 503/429 (anything but NEVER). Looked up along
# the class hierarchy: the nearest listed class decides, anything unlisted is NEVER.
RETRY: dict[type[WeChatError], Retry] = {
    WeChatTimeout: Retry.NOW,
    WeChatConnectionError: Retry.NOW,
    WeChatBusy: Retry.NOW,
    # No usable answer of another kind (a 5xx, a redirect, a garbled body): repeating at once
    # rarely helps, later may.
    WeChatTransportError: Retry.LATER,
    WeChatBadResponse: Retry.LATER,
    # Quota (45009 daily, 45011 per minute): an attempt now only fails again.
    WeChatQuotaExceeded: Retry.LATER,
    # Never retried in place: the token's owner renews it once and repeats the call once
    # (ComponentClient, tags.services). A token still refused after that is WeChat's trouble.
    WeChatTokenInvalid: Retry.LATER,
}


def retry_kind(exc: BaseException) -> Retry:
    """Retry.NOW, LATER or NEVER for `exc` (NEVER for anything that is not a WeChatError)."""
    for cls in type(exc).__mro__:
        if cls in RETRY:
            return RETRY[cls]
    return Retry.NEVER


def retry_later_types() -> tuple[type[WeChatError], ...]:
    """Every error class worth a later attempt (NOW included: it survived the transport's
    retries), for `except` clauses and Celery's autoretry_for."""
    return tuple(cls for cls, kind in RETRY.items() if kind is not Retry.NEVER)


def error_for(errcode: int, errmsg: str, *, api: str = "") -> WeChatAPIError:
    cls = ERRCODE_TYPES.get(errcode, WeChatAPIError)
    return cls(errmsg, errcode=errcode, api=api)
