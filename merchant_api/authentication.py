"""Bearer API keys for the merchant API.

A lookup is cached briefly (API_KEY_CACHE_SECONDS) under the key's SHA-256, so a warm request
runs no SQL for authentication. Any save or delete of the key or its merchant invalidates
the entry (signals connected in tags.apps), so a revoked key fails on the next request, even
when a request that read the key before the revocation fills the cache after it
(core.versioned_cache). The clear key is never stored, in the cache or anywhere else.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.db.models.signals import post_delete, post_save, pre_delete
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from authorizers.models import ApiKey, Merchant
from authorizers.services.api_keys import api_key_authenticate, api_key_hashes_active
from core.versioned_cache import VersionedCache

from .auth_throttle import auth_client_ip, auth_failure_budget_require, auth_failure_record
from .errors import RateLimited

_CACHE = VersionedCache("api:key:")
# The hashes of every active key, one entry, invalidated with any key or merchant change.
_ACTIVE = VersionedCache("api:keys-active:")
_ACTIVE_NAME = "all"


@dataclass(frozen=True)
class ApiPrincipal:
    """Who is calling: one API key of one merchant. Set as request.user and request.auth."""

    key_id: int
    merchant_id: int
    rate_limit_burst: int | None = None
    rate_limit_per_minute: int | None = None

    is_authenticated = True
    is_anonymous = False


def _key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_cache_keys(raw_key: str) -> tuple[str, str]:
    """The cache keys a lookup of this key reads, for a caller that batches cache reads."""
    return _CACHE.keys(_key_hash(raw_key))


def bearer_key(request) -> str | None:
    """The key in 'Authorization: Bearer <key>'; None when absent or another scheme."""
    scheme, _, raw_key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    raw_key = raw_key.strip()
    if scheme.lower() != "bearer" or not raw_key or len(raw_key) > 200:
        return None
    return raw_key


def principal_cached(raw_key: str, *, prefetched: dict) -> ApiPrincipal | None:
    """The principal of a valid key whose cache entry `prefetched` holds and is current;
    None for anything else (not cached, or cached as unknown), which principal_for_key
    decides. Reads nothing, counts nothing."""
    slot = _CACHE.lookup(_key_hash(raw_key), prefetched=prefetched)
    return ApiPrincipal(**slot.value) if slot.hit and slot.value else None


def principal_for_key(
    raw_key: str, *, prefetched: dict | None = None, client: str | None = None
) -> ApiPrincipal | None:
    """`raw_key` as bearer_key() returned it (which refuses empty and oversized keys).

    `prefetched`: a get_many result covering api_key_cache_keys(raw_key), if the caller has one.
    `client`: the caller's IP; an uncached key costs a query only within its budget of failed
    authentications (merchant_api.auth_throttle), else RateLimited is raised.
    """
    key_hash = _key_hash(raw_key)
    slot = _CACHE.lookup(key_hash, prefetched=prefetched)
    if slot.hit:
        # None: a key found unknown moments ago. Remembered like a valid one, and invalidated
        # the same way, so a key created (or a merchant reactivated) since works at once.
        return ApiPrincipal(**slot.value) if slot.value else None
    if client is not None:
        try:
            auth_failure_budget_require(client=client)
        except RateLimited:
            # The budget is for unknown keys: a valid one goes on whatever its address spent
            # (behind a proxy every client may share one).
            if not key_hash_is_active(key_hash):
                raise
    slot = _CACHE.begin_fill(key_hash, slot)
    api_key = api_key_authenticate(raw_key=raw_key)
    if api_key is None:
        unknown_seconds = min(
            settings.API_KEY_UNKNOWN_CACHE_SECONDS, settings.API_KEY_CACHE_SECONDS
        )
        _CACHE.fill(key_hash, slot, None, unknown_seconds)
        if client is not None:
            auth_failure_record(client=client)
        return None
    principal = ApiPrincipal(
        key_id=api_key.pk,
        merchant_id=api_key.merchant_id,
        rate_limit_burst=api_key.rate_limit_burst,
        rate_limit_per_minute=api_key.rate_limit_per_minute,
    )
    # last_used_at is refreshed when the cache is filled: accurate to the cache lifetime,
    # and free on warm requests.
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now())
    _CACHE.fill(key_hash, slot, principal.__dict__, settings.API_KEY_CACHE_SECONDS)
    return principal


def key_hash_is_active(key_hash: str) -> bool:
    """Whether `key_hash` is an active key's, asked of the cached set of every active key's
    hash: past a client's budget an unknown key costs a cache read, not a query of its own
    (the set is read from the database once after any key or merchant changes)."""
    if settings.API_KEY_CACHE_SECONDS <= 0:
        # Nothing is cached without a shared cache: the one indexed lookup of this key.
        return key_hash in api_key_hashes_active(key_hash=key_hash)
    slot = _ACTIVE.lookup(_ACTIVE_NAME)
    if not slot.hit:
        slot = _ACTIVE.begin_fill(_ACTIVE_NAME, slot)
        hashes = api_key_hashes_active()
        _ACTIVE.fill(_ACTIVE_NAME, slot, hashes, settings.API_KEY_CACHE_SECONDS)
        return key_hash in hashes
    return key_hash in slot.value


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        if not request.META.get("HTTP_AUTHORIZATION"):
            return None  # IsAuthenticated then answers 401 unauthenticated
        raw_key = bearer_key(request)
        if raw_key is None:
            raise AuthenticationFailed("Send the API key as 'Authorization: Bearer <api key>'.")
        # MerchantApiView may have read this entry already, with the authorizer's, in one go.
        principal = principal_for_key(
            raw_key,
            prefetched=getattr(request, "prefetched_cache", None),
            client=auth_client_ip(request),
        )
        if principal is None:
            raise AuthenticationFailed("The API key is unknown or has been revoked.")
        return principal, principal

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) when no credentials were sent.
        return 'Bearer realm="api"'


def api_key_cache_forget(*, key_hashes: list[str]) -> None:
    _CACHE.invalidate(key_hashes)
    _ACTIVE.invalidate([_ACTIVE_NAME])


def _on_api_key_change(sender, instance: ApiKey, **kwargs) -> None:
    api_key_cache_forget(key_hashes=[instance.key_hash])


def _on_merchant_change(sender, instance: Merchant, **kwargs) -> None:
    hashes = list(ApiKey.objects.filter(merchant_id=instance.pk).values_list("key_hash", flat=True))
    if hashes:
        api_key_cache_forget(key_hashes=hashes)


def connect_invalidation() -> None:
    uid = "merchant_api.authentication"
    post_save.connect(_on_api_key_change, sender=ApiKey, dispatch_uid=uid + ".key_save")
    post_delete.connect(_on_api_key_change, sender=ApiKey, dispatch_uid=uid + ".key_delete")
    post_save.connect(_on_merchant_change, sender=Merchant, dispatch_uid=uid + ".merchant_save")
    # pre_delete: the keys are gone (cascade) by post_delete.
    pre_delete.connect(_on_merchant_change, sender=Merchant, dispatch_uid=uid + ".merchant_del")


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Your API key, shown once when it was created.",
        }
