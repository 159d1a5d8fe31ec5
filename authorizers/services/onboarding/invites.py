"""Merchant invites: the signed, expiring token in /authorize/<invite>/ that names a merchant."""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from authorizers.models import Merchant

from .holding import HOLDING_MERCHANT_NAME

INVITE_SALT = "authorizers.invite"
UNASSIGNED_MERCHANT_NAME = HOLDING_MERCHANT_NAME  # what commands and tests call it


class InviteInvalid(Exception):
    """The invite is malformed, forged, expired, or its merchant is gone or inactive."""


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
    merchant = Merchant.objects.filter(pk=merchant_id, is_active=True, is_holding=False).first()
    if merchant is None:
        raise InviteInvalid("merchant unknown or inactive")
    return merchant
