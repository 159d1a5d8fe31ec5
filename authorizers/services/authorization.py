"""Merchant onboarding: signed invites, the pre_auth_code, and storing what WeChat granted.

The browser callback and the `authorized` push race to exchange the same single-use code
(WeChat pushes and redirects at once). Whoever loses gets 61009; both paths converge:
the push path files an unknown account under the "Unassigned" merchant, the callback then
finds that account through the push that carried its code and claims it for the invite's
merchant. An account another (real) merchant owns is never moved.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import partial
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction

from platform_app.component.client import ComponentClient
from platform_app.component.services.events import (
    component_event_appid_for_code,
    component_event_authorization_code_consumed,
)
from platform_app.wechat.errors import WeChatAuthCodeInvalid, WeChatBadResponse

from ..models import Authorizer, Merchant
from .grants import authorizer_grant_apply

logger = logging.getLogger(__name__)

INVITE_SALT = "authorizers.invite"
UNASSIGNED_MERCHANT_NAME = "Unassigned"
AUTH_TYPE_OFFICIAL_ACCOUNTS = 1
CLAIM_WAIT_SECONDS = 3.0


class InviteInvalid(Exception):
    """The invite is malformed, forged, expired, or its merchant is gone or inactive."""


class AuthorizerOwnedByAnotherMerchant(Exception):
    def __init__(self, authorizer: Authorizer) -> None:
        super().__init__(f"{authorizer.appid} belongs to another merchant")
        self.authorizer = authorizer


@dataclass(frozen=True)
class GrantResult:
    authorizer: Authorizer
    created: bool
    refused: bool  # the appid belongs to another merchant: ownership unchanged


def invite_create(*, merchant: Merchant) -> str:
    return signing.dumps(merchant.pk, salt=INVITE_SALT)


def invite_url(*, invite: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/authorize/{invite}/"


def invite_merchant_get(*, invite: str) -> Merchant:
    try:
        merchant_id = signing.loads(
            invite, salt=INVITE_SALT, max_age=settings.INVITE_MAX_AGE_SECONDS
        )
    except signing.BadSignature as exc:  # SignatureExpired is a BadSignature
        raise InviteInvalid(type(exc).__name__) from None
    merchant = Merchant.objects.filter(pk=merchant_id, is_active=True).first()
    if merchant is None or merchant.name == UNASSIGNED_MERCHANT_NAME:
        raise InviteInvalid("merchant unknown or inactive")
    return merchant


def merchant_unassigned_get() -> Merchant:
    """Home for accounts WeChat knows but no merchant claimed (sync, or a push that won)."""
    merchant = Merchant.objects.filter(name=UNASSIGNED_MERCHANT_NAME).order_by("pk").first()
    return merchant or Merchant.objects.create(name=UNASSIGNED_MERCHANT_NAME)


def authorization_start(*, invite: str) -> str:
    """A fresh pre_auth_code and the WeChat authorization page URL to send the browser to."""
    payload = ComponentClient().create_preauthcode()
    query = urlencode(
        {
            "component_appid": settings.WECHAT_COMPONENT_APPID,
            "pre_auth_code": payload["pre_auth_code"],
            "redirect_uri": f"{invite_url(invite=invite)}callback/",
            "auth_type": AUTH_TYPE_OFFICIAL_ACCOUNTS,
        }
    )
    return f"{settings.WECHAT_MP_BASE}/cgi-bin/componentloginpage?{query}"


def authorization_complete(*, merchant: Merchant, authorization_code: str) -> Authorizer:
    """The callback: exchange the code and store the account under the invite's merchant."""
    try:
        payload = ComponentClient().query_auth(authorization_code)
    except WeChatAuthCodeInvalid:
        appid = component_event_appid_for_code(authorization_code=authorization_code)
        if not appid or not _wait_for_authorizer(appid):
            raise
        logger.info("auth code for %s was already exchanged by its push", appid)
        result = _claim(merchant=merchant, appid=appid)
    else:
        component_event_authorization_code_consumed(authorization_code=authorization_code)
        result = authorizer_grant_store(
            merchant=merchant, authorization_info=payload.get("authorization_info") or {}
        )
    if result.refused:
        raise AuthorizerOwnedByAnotherMerchant(result.authorizer)
    return result.authorizer


def _wait_for_authorizer(appid: str) -> bool:
    """The push path exchanged the code a moment ago and may still be storing the account."""
    deadline = time.monotonic() + CLAIM_WAIT_SECONDS
    while not Authorizer.objects.filter(appid=appid).exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def authorizer_grant_store(*, merchant: Merchant | None, authorization_info: dict) -> GrantResult:
    """Create or update the account from api_query_auth's authorization_info, atomically.

    `merchant` None keeps the current owner (or files a new account under "Unassigned").
    When another merchant owns the appid, the fresh credentials are still stored on the
    owner's row: WeChat has just replaced the refresh token, and losing it would force the
    owner to re-authorize. Only the ownership is refused.
    """
    appid = str(authorization_info.get("authorizer_appid") or "")
    if not appid or not authorization_info.get("authorizer_refresh_token"):
        raise WeChatBadResponse("authorization_info lacks the appid or refresh token")
    try:
        return _store(merchant, appid, authorization_info)
    except IntegrityError:  # the other path created the row a moment ago: update it
        return _store(merchant, appid, authorization_info)


def _store(merchant: Merchant | None, appid: str, info: dict) -> GrantResult:
    with transaction.atomic():
        authorizer = Authorizer.objects.select_for_update().filter(appid=appid).first()
        created, refused = authorizer is None, False
        if authorizer is None:
            authorizer = Authorizer(appid=appid, merchant=merchant or merchant_unassigned_get())
        elif merchant is not None and authorizer.merchant_id != merchant.pk:
            refused = not _reassign(authorizer, merchant)
        authorizer_grant_apply(authorizer=authorizer, authorization_info=info)
        authorizer.save()
        transaction.on_commit(partial(_enqueue_info_sync, authorizer.pk))
    if refused:
        logger.warning("appid %s refused for merchant %s: owned by another", appid, merchant.pk)
    return GrantResult(authorizer, created, refused)


def _claim(*, merchant: Merchant, appid: str) -> GrantResult:
    with transaction.atomic():
        authorizer = Authorizer.objects.select_for_update().get(appid=appid)
        refused = authorizer.merchant_id != merchant.pk and not _reassign(authorizer, merchant)
        authorizer.save(update_fields=["merchant", "updated_at"])
    return GrantResult(authorizer, False, refused)


def _reassign(authorizer: Authorizer, merchant: Merchant) -> bool:
    """Move the account only out of the "Unassigned" holding merchant."""
    if authorizer.merchant.name != UNASSIGNED_MERCHANT_NAME:
        return False
    authorizer.merchant = merchant
    return True


def _enqueue_info_sync(authorizer_id: int) -> None:
    from ..tasks.sync import authorizer_sync_info_task

    authorizer_sync_info_task.delay(authorizer_id)
