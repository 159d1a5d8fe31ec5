"""Service clients: the provider's own services' credentials. Shown once, stored as SHA-256,
revocable, scoped to every account or to named merchants' accounts.

A key is 32 random bytes after its own prefix (`wxs_`, where a merchant key has `wxt_`), so
a plain SHA-256 is enough, and either API can tell a key of the other kind without a query.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from authorizers.models import Merchant

from .models import ServiceClient

KEY_PREFIX = "wxs_"


class ServiceClientError(ValueError):
    """Bad input to a service client change; nothing was changed."""


def service_key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def service_client_key_issue(*, client: ServiceClient) -> str:
    """Give `client` (new or not) a new key and save it; returns the clear key, which
    exists only in this return value. A key issued anew replaces the old one."""
    raw_key = KEY_PREFIX + secrets.token_urlsafe(32)
    client.prefix = raw_key[:12]
    client.key_hash = service_key_hash(raw_key)
    client.save()
    return raw_key


@transaction.atomic
def service_client_create(
    *,
    name: str,
    merchant_names: Iterable[str] = (),
    rate_limit_burst: int | None = None,
    rate_limit_per_minute: int | None = None,
) -> tuple[ServiceClient, str]:
    """Scoped to the named merchants' accounts, or to every account when none is named."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ServiceClientError("A service client needs a name of 1 to 100 characters.")
    if ServiceClient.objects.filter(name=name).exists():
        raise ServiceClientError(f"A service client named {name!r} exists already.")
    wanted = sorted(set(merchant_names))
    merchants = list(Merchant.objects.filter(name__in=wanted))
    missing = sorted(set(wanted) - {m.name for m in merchants})
    if missing:
        raise ServiceClientError(f"No merchant named {', '.join(map(repr, missing))}.")
    client = ServiceClient(
        name=name,
        all_accounts=not wanted,
        rate_limit_burst=rate_limit_burst,
        rate_limit_per_minute=rate_limit_per_minute,
    )
    raw_key = service_client_key_issue(client=client)
    client.merchants.set(merchants)
    return client, raw_key


def service_client_revoke(*, client: ServiceClient) -> ServiceClient:
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
    return client


def service_client_authenticate(*, raw_key: str) -> ServiceClient | None:
    """The active client for this clear key, or None (unknown, revoked, another kind)."""
    if not raw_key.startswith(KEY_PREFIX) or len(raw_key) > 200:
        return None
    digest = service_key_hash(raw_key)
    client = ServiceClient.objects.filter(key_hash=digest, revoked_at__isnull=True).first()
    if client is None or not hmac.compare_digest(client.key_hash, digest):
        return None
    return client


def service_client_merchant_ids(*, client: ServiceClient) -> list[int] | None:
    """The merchants whose accounts the client may borrow; None for every account."""
    if client.all_accounts:
        return None
    return sorted(client.merchants.values_list("pk", flat=True))
