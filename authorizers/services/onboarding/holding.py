"""The holding merchant: accounts WeChat knows that no invite claimed wait here (SPEC 9)."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from authorizers.models import Merchant

# The name it gets when first created; it is found by its flag, never by this name.
HOLDING_MERCHANT_NAME = "Unassigned"


def merchant_holding_get() -> Merchant:
    """Found by import, or authorized without one of our invites: parked here until claimed."""
    merchant = Merchant.objects.filter(is_holding=True).first()
    if merchant is not None:
        return merchant
    try:
        with transaction.atomic():
            return Merchant.objects.create(name=HOLDING_MERCHANT_NAME, is_holding=True)
    except IntegrityError:  # created by a concurrent caller
        return Merchant.objects.get(is_holding=True)
