"""Bearer service-client keys for /internal/v1/.

The same shape as the merchant API's keys (merchant_api.authentication): a lookup is cached
under the key's SHA-256 (API_KEY_CACHE_SECONDS) with versioned entries, so a revoked client
or a narrowed scope fails on the next request in every process, whatever fill races it. A
merchant key (another prefix) is refused without a query; a service key on /api/v1/ is
unknown to the merchant API's lookup: each credential works on its own API only.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from core.versioned_cache import VersionedCache
from merchant_api.auth_throttle import (
    auth_client_ip,
    auth_failure_budget_require,
    auth_failure_record,
)
from merchant_api.authentication import bearer_key

from .clients import (
    KEY_PREFIX,
    service_client_authenticate,
    service_client_merchant_ids,
    service_key_hash,
)
from .models import ServiceClient

_CACHE = VersionedCache("tc:client:")


@dataclass(frozen=True)
class ServicePrincipal:
    """Who is calling: one service client. Set as request.user and request.auth."""

    client_id: int
    # None: every account; else the merchants whose accounts the client may borrow.
    merchant_ids: frozenset[int] | None
    rate_limit_burst: int | None = None
    rate_limit_per_minute: int | None = None

    is_authenticated = True
    is_anonymous = False


def _to_cache(principal: ServicePrincipal) -> dict:
    ids = principal.merchant_ids
    return {**principal.__dict__, "merchant_ids": None if ids is None else sorted(ids)}


def _from_cache(value: dict) -> ServicePrincipal:
    ids = value["merchant_ids"]
    return ServicePrincipal(**{**value, "merchant_ids": None if ids is None else frozenset(ids)})


def service_principal_for_key(raw_key: str, *, client_ip: str | None) -> ServicePrincipal | None:
    if not raw_key.startswith(KEY_PREFIX):
        return None  # a merchant key, or anything else: never this API's credential
    key_hash = service_key_hash(raw_key)
    slot = _CACHE.lookup(key_hash)
    if slot.hit:
        return _from_cache(slot.value) if slot.value else None
    if client_ip is not None:
        auth_failure_budget_require(client=client_ip)
    slot = _CACHE.begin_fill(key_hash, slot)
    client = service_client_authenticate(raw_key=raw_key)
    if client is None:
        unknown = min(settings.API_KEY_UNKNOWN_CACHE_SECONDS, settings.API_KEY_CACHE_SECONDS)
        _CACHE.fill(key_hash, slot, None, unknown)
        if client_ip is not None:
            auth_failure_record(client=client_ip)
        return None
    ids = service_client_merchant_ids(client=client)
    principal = ServicePrincipal(
        client_id=client.pk,
        merchant_ids=None if ids is None else frozenset(ids),
        rate_limit_burst=client.rate_limit_burst,
        rate_limit_per_minute=client.rate_limit_per_minute,
    )
    # Accurate to the cache lifetime, and free on warm requests (as for API keys).
    ServiceClient.objects.filter(pk=client.pk).update(last_used_at=timezone.now())
    _CACHE.fill(key_hash, slot, _to_cache(principal), settings.API_KEY_CACHE_SECONDS)
    return principal


class ServiceClientAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        if not request.META.get("HTTP_AUTHORIZATION"):
            return None  # the view then answers 401 unauthenticated
        raw_key = bearer_key(request)
        if raw_key is None:
            raise AuthenticationFailed(
                "Send the service client key as 'Authorization: Bearer <service key>'."
            )
        principal = service_principal_for_key(raw_key, client_ip=auth_client_ip(request))
        if principal is None:
            raise AuthenticationFailed("The service client key is unknown or has been revoked.")
        return principal, principal

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="internal"'


def service_client_cache_forget(*, key_hashes: list[str]) -> None:
    _CACHE.invalidate(key_hashes)


def _on_client_change(sender, instance: ServiceClient, **kwargs) -> None:
    if instance.key_hash:
        service_client_cache_forget(key_hashes=[instance.key_hash])


def _on_scope_change(sender, instance, action: str, pk_set=None, **kwargs) -> None:
    if isinstance(instance, ServiceClient):
        hashes = [instance.key_hash] if action.startswith("post_") else []
    elif action == "pre_clear":  # a merchant's clients, from the merchant's side
        hashes = list(instance.service_clients.values_list("key_hash", flat=True))
    elif action in ("post_add", "post_remove"):
        rows = ServiceClient.objects.filter(pk__in=pk_set or ())
        hashes = list(rows.values_list("key_hash", flat=True))
    else:
        hashes = []
    if hashes:
        service_client_cache_forget(key_hashes=hashes)


def connect_invalidation() -> None:
    uid = "token_center.authentication"
    post_save.connect(_on_client_change, sender=ServiceClient, dispatch_uid=uid + ".save")
    post_delete.connect(_on_client_change, sender=ServiceClient, dispatch_uid=uid + ".delete")
    m2m_changed.connect(
        _on_scope_change, sender=ServiceClient.merchants.through, dispatch_uid=uid + ".scope"
    )


class ServiceClientAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ServiceClientAuthentication
    name = "ServiceClientKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A service client key (wxs_…), shown once when it was created.",
        }
