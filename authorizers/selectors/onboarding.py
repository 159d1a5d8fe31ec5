"""What the merchant's onboarding pages read."""

from __future__ import annotations

from ..models import Authorizer, Merchant


def authorizer_get_onboarded(*, merchant: Merchant, appid: str) -> Authorizer | None:
    """The account `appid` if it belongs to `merchant` (the invite's), else None."""
    if not appid or len(appid) > Authorizer._meta.get_field("appid").max_length:
        return None
    return Authorizer.objects.filter(merchant=merchant, appid=appid).first()
