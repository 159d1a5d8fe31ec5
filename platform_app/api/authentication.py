"""Bearer API keys for the merchant API.

A lookup is cached briefly (API_KEY_CACHE_SECONDS) under the key's SHA-256, so a warm request
runs no SQL for authentication. Any save or delete of the key or its merchant drops the
entry (signals connected in tags.apps), so a revoked key fails on the next request.
The clear key is never stored, in the cache or anywhere else.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from authorizers.models import ApiKey, Merchant
from authorizers.services.api_keys import api_key_authenticate

_CACHE_PREFIX = "api:key:"


@dataclass(frozen=True)
class ApiPrincipal:
    """Who is calling: one API key of one merchant. Set as request.user and request.auth."""

    key_id: int
    merchant_id: int
    rate_limit_burst: int | None = None
    rate_limit_per_minute: int | None = None

    is_authenticated = True
    is_anonymous = False


def _cache_key(key_hash: str) -> str:
    return _CACHE_PREFIX + key_hash


def api_key_cache_key(raw_key: str) -> str:
    return _cache_key(hashlib.sha256(raw_key.encode()).hexdigest())


def bearer_key(request) -> str | None:
    """The key in 'Authorization: Bearer <key>'; None when absent or another scheme."""
    scheme, _, raw_key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    raw_key = raw_key.strip()
    if scheme.lower() != "bearer" or not raw_key or len(raw_key) > 200:
        return None
    return raw_key


def principal_for_key(raw_key: str, *, prefetched: dict | None = None) -> ApiPrincipal | None:
    """`raw_key` as bearer_key() returned it (which refuses empty and oversized keys).

    `prefetched`: the cache entry, if the caller already read api_key_cache_key(raw_key).
    """
    cache_key = api_key_cache_key(raw_key)
    cached = prefetched if prefetched is not None else cache.get(cache_key)
    if cached is not None:
        return ApiPrincipal(**cached)
    api_key = api_key_authenticate(raw_key=raw_key)
    if api_key is None:
        return None  # unknown keys are not cached: nothing to invalidate when one is created
    principal = ApiPrincipal(
        key_id=api_key.pk,
        merchant_id=api_key.merchant_id,
        rate_limit_burst=api_key.rate_limit_burst,
        rate_limit_per_minute=api_key.rate_limit_per_minute,
    )
    # last_used_at is refreshed when the cache is filled: accurate to the cache lifetime,
    # and free on warm requests.
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now())
    cache.set(cache_key, principal.__dict__, settings.API_KEY_CACHE_SECONDS)
    return principal


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        if not request.META.get("HTTP_AUTHORIZATION"):
            return None  # IsAuthenticated then answers 401 unauthenticated
        raw_key = bearer_key(request)
        if raw_key is None:
            raise AuthenticationFailed("Send the API key as 'Authorization: Bearer <api key>'.")
        # MerchantApiView may have read this entry already, with the authorizer's, in one go.
        prefetched = getattr(request, "prefetched_cache", {}).get(api_key_cache_key(raw_key))
        principal = principal_for_key(raw_key, prefetched=prefetched)
        if principal is None:
            raise AuthenticationFailed("The API key is unknown or has been revoked.")
        return principal, principal

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) when no credentials were sent.
        return 'Bearer realm="api"'


def api_key_cache_forget(*, key_hashes: list[str]) -> None:
    keys = [_cache_key(h) for h in key_hashes]
    cache.delete_many(keys)
    # Also after commit: a request between the save and the commit may have re-cached the row.
    transaction.on_commit(lambda: cache.delete_many(keys))


def _on_api_key_change(sender, instance: ApiKey, **kwargs) -> None:
    api_key_cache_forget(key_hashes=[instance.key_hash])


def _on_merchant_change(sender, instance: Merchant, **kwargs) -> None:
    hashes = list(ApiKey.objects.filter(merchant_id=instance.pk).values_list("key_hash", flat=True))
    if hashes:
        api_key_cache_forget(key_hashes=hashes)


def connect_invalidation() -> None:
    from django.db.models.signals import post_delete, post_save, pre_delete

    uid = "platform_app.api.authentication"
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
