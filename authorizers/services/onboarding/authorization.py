"""Merchant onboarding: the pre_auth_code (/start/) and the browser callback.

The browser callback and the `authorized` push race to exchange the same single-use code
(WeChat pushes and redirects at once). Whoever loses gets 61009; both paths converge on the
same row. The push knows which invite the authorization came from only through its
PreAuthCode, which `/start/` recorded (ownership.authorization_attempt_record): an account is
placed under that merchant, or parked under the holding merchant when no invite issued it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlencode

from django.conf import settings
from django.utils import timezone

from authorizers.models import Authorizer, Merchant
from component.client import ComponentClient
from component.models import ComponentEvent
from component.services.events import (
    component_event_authorization_code_consumed,
    component_event_for_code,
)
from wechat.errors import WeChatAuthCodeInvalid, WeChatError, WeChatTransportError

from .grants import (
    GrantResult,
    authorizer_claim,
    authorizer_grant_recover,
    authorizer_grant_store,
)
from .invites import invite_merchant_get, invite_url
from .ownership import authorization_attempt_merchant, authorization_attempt_record

logger = logging.getLogger(__name__)

AUTH_TYPE_OFFICIAL_ACCOUNTS = 1
CLAIM_WAIT_SECONDS = 3.0
T = TypeVar("T")


class AuthorizerOwnedByAnotherMerchant(Exception):
    def __init__(self, authorizer: Authorizer) -> None:
        super().__init__(f"{authorizer.appid} belongs to another merchant")
        self.authorizer = authorizer


def authorization_start(*, invite: str) -> str:
    """A fresh pre_auth_code, recorded for the invite's merchant, and the WeChat page URL."""
    merchant = invite_merchant_get(invite=invite)
    payload = ComponentClient().create_preauthcode()
    pre_auth_code = str(payload["pre_auth_code"])
    authorization_attempt_record(merchant=merchant, pre_auth_code=pre_auth_code)
    query = urlencode(
        {
            "component_appid": settings.WECHAT_COMPONENT_APPID,
            "pre_auth_code": pre_auth_code,
            "redirect_uri": f"{invite_url(invite=invite)}callback/",
            "auth_type": AUTH_TYPE_OFFICIAL_ACCOUNTS,
        }
    )
    return f"{settings.WECHAT_MP_BASE}/cgi-bin/componentloginpage?{query}"


def authorization_complete(*, merchant: Merchant, authorization_code: str) -> Authorizer:
    """The callback: exchange the code and store the account under the invite's merchant."""
    authorized_at = timezone.now()
    try:
        payload = ComponentClient().query_auth(authorization_code)
    except WeChatAuthCodeInvalid as exc:
        # Single use: the push most likely exchanged it first and stored the account.
        result = _after_push(merchant, authorization_code, failure=exc, recover=False)
    except WeChatTransportError as exc:
        # WeChat may have exchanged the code before the answer was lost: never retry it
        # blindly, ask WeChat what the account's grant is now.
        result = _after_push(merchant, authorization_code, failure=exc, recover=True)
    else:
        component_event_authorization_code_consumed(authorization_code=authorization_code)
        result = authorizer_grant_store(
            merchant=merchant,
            authorization_info=payload.get("authorization_info") or {},
            authorized_at=authorized_at,
        )
    if result.refused:
        raise AuthorizerOwnedByAnotherMerchant(result.authorizer)
    return result.authorizer


def _after_push(
    merchant: Merchant, code: str, *, failure: WeChatError, recover: bool
) -> GrantResult:
    """The callback could not use the code itself; find what the push for it did.

    The account is this merchant's only if the push's PreAuthCode is one this merchant's
    invite obtained: any invite plus someone else's old code claims nothing.
    """
    event = _wait_for_event(code)
    if event is None:  # no push to learn the account from: nothing to recover
        raise failure
    if authorization_attempt_merchant(pre_auth_code_sha256=event.pre_auth_code_sha256) != merchant:
        logger.warning("callback code for %s was not issued to this invite", event.authorizer_appid)
        raise WeChatAuthCodeInvalid("code not issued to this invite", api="api_query_auth")
    appid = event.authorizer_appid
    if recover:
        result = authorizer_grant_recover(appid=appid, merchant=merchant)
        if result is None:  # never exchanged: the merchant can simply try again
            raise failure
        return result
    if not _wait_for_authorizer(appid):
        raise WeChatAuthCodeInvalid("the account was not stored in time", api="api_query_auth")
    return authorizer_claim(appid=appid, merchant=merchant)


def _wait_for_event(code: str) -> ComponentEvent | None:
    return _wait_for(lambda: component_event_for_code(authorization_code=code))


def _wait_for_authorizer(appid: str) -> bool:
    return _wait_for(lambda: Authorizer.objects.filter(appid=appid).exists()) or False


def _wait_for(found: Callable[[], T]) -> T | None:
    """The push path exchanged the code a moment ago and may still be storing what it got."""
    deadline = time.monotonic() + CLAIM_WAIT_SECONDS
    while not (result := found()):
        if time.monotonic() > deadline:
            return None
        time.sleep(0.1)
    return result
