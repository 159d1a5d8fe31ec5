"""Merchant API keys: shown once, stored as SHA-256, revocable.

A key is 32 random bytes, so a plain SHA-256 is enough (no password stretching needed);
lookup is by hash, and the final comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.utils import timezone

from ..models import ApiKey, Merchant

KEY_PREFIX = "wxt_"


class ApiKeyRefused(Exception):
    """This merchant cannot have API keys (merchant_has_api_keys)."""

    def __init__(self, merchant: Merchant) -> None:
        super().__init__(
            f"{merchant} holds the unclaimed accounts and has no API keys: "
            "a key of it would list every parked account."
        )


def merchant_has_api_keys(merchant: Merchant) -> bool:
    """The holding merchant has none: its accounts are unclaimed, and a key of it would list
    every parked account."""
    return not merchant.is_holding


def _hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_create(*, merchant: Merchant, name: str = "") -> tuple[ApiKey, str]:
    """Returns the stored key and the clear key, which exists only in this return value.
    ApiKeyRefused for a merchant that has no keys (the holding merchant)."""
    if not merchant_has_api_keys(merchant):
        raise ApiKeyRefused(merchant)
    raw_key = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        merchant=merchant, name=name, prefix=raw_key[:12], key_hash=_hash(raw_key)
    )
    return api_key, raw_key


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


def _active_keys():
    """Keys that authenticate: not revoked, of an active merchant that is not the holding one
    (a key of it, however made, would list every parked account)."""
    return ApiKey.objects.filter(
        revoked_at__isnull=True, merchant__is_active=True, merchant__is_holding=False
    )


def api_key_authenticate(*, raw_key: str) -> ApiKey | None:
    """The active key for this clear key, or None (unknown, revoked, inactive or holding
    merchant)."""
    if not raw_key or len(raw_key) > 200:
        return None
    digest = _hash(raw_key)
    api_key = _active_keys().select_related("merchant").filter(key_hash=digest).first()
    if api_key is None or not hmac.compare_digest(api_key.key_hash, digest):
        return None
    return api_key


def api_key_hashes_active(*, key_hash: str | None = None) -> frozenset[str]:
    """The SHA-256 of every active key (or, given `key_hash`, of that one if it is active):
    what tells a valid key from an unknown one without its own lookup."""
    keys = _active_keys() if key_hash is None else _active_keys().filter(key_hash=key_hash)
    return frozenset(keys.values_list("key_hash", flat=True))
