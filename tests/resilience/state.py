"""A fingerprint of the state invalid input must never change."""

from __future__ import annotations

import hashlib

from django.db import models

# Fields that legitimately move on valid traffic (a replay's counter, a key's last use).
_VOLATILE = {"replays", "last_used_at", "updated_at"}


def _rows(model: type[models.Model]) -> list[tuple]:
    names = [f.attname for f in model._meta.concrete_fields if f.attname not in _VOLATILE]
    return list(model.objects.order_by("pk").values_list(*names))


def state_fingerprint() -> dict[str, str]:
    """Per table, a hash of every row (decrypted secrets included): equal means unchanged."""
    from authorizers.models import ApiKey, Authorizer, Merchant
    from component.models import ComponentEvent, ComponentState

    return {
        model.__name__: hashlib.sha256(repr(_rows(model)).encode()).hexdigest()
        for model in (ComponentEvent, ComponentState, Authorizer, Merchant, ApiKey)
    }


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(name for name in before if before[name] != after.get(name))
