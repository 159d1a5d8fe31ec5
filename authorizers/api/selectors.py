"""Reads for the merchant API. Every selector takes the merchant: the tenant is resolved once,
at the API boundary, and no read here can return another merchant's account.

`authorizer_get_for_merchant` is on every lookup's path, so the row is cached by appid
(API_AUTHORIZER_CACHE_SECONDS) with the access token in it as Fernet ciphertext, never in
clear. Saves and deletes drop the entry (signals connected in tags.apps); callers that
change a token outside a save (a refresh) call `authorizer_cache_forget`. The instance
rebuilt from the cache defers every field it does not hold (the refresh token among
them): reading one loads it, and saving it writes only the fields it holds.
"""

from __future__ import annotations

import hashlib
import re

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from platform_app.fields import decrypt_value, encrypt_value

from ..models import Authorizer

_CACHE_PREFIX = "api:authorizer:"
_PLAIN_APPID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MISSING = "missing"
_MISSING_SECONDS = 30
_CACHED_FIELDS = (
    "id",
    "merchant_id",
    "appid",
    "nickname",
    "service_type",
    "verify_type",
    "permission_sets",
    "status",
    "access_token",
    "access_token_expires_at",
    "token_version",
)

_LOADED = ["merchant", *(f for f in _CACHED_FIELDS if f not in ("id", "merchant_id"))]


class AuthorizerNotFound(Exception):
    """Unknown appid, or another merchant's: the API answers both the same way (404)."""


def _cache_key(appid: str) -> str:
    # A URL can put anything in the appid; only plain ones are used verbatim in a key.
    if _PLAIN_APPID.fullmatch(appid):  # not match(): "$" would let a trailing newline in
        return _CACHE_PREFIX + appid
    return _CACHE_PREFIX + "h:" + hashlib.sha256(appid.encode("utf-8", "replace")).hexdigest()


def _to_cache(authorizer: Authorizer) -> dict:
    row = {name: getattr(authorizer, name) for name in _CACHED_FIELDS}
    row["access_token"] = encrypt_value(row["access_token"]) if row["access_token"] else ""
    return row


def _from_cache(row: dict) -> Authorizer:
    values = dict(row)
    if values["access_token"]:
        values["access_token"] = decrypt_value(values["access_token"])
    names = list(values)
    return Authorizer.from_db("default", names, [values[n] for n in names])


def authorizer_cache_key(appid: str) -> str:
    """Where the row is cached, for a caller that reads several cache entries in one go."""
    return _cache_key(appid)


def authorizer_get_for_merchant(
    *, merchant_id: int, appid: str, prefetched: dict | str | None = None
) -> Authorizer:
    """`prefetched`: the cache entry, if the caller already read authorizer_cache_key(appid)."""
    # No stored appid is longer than the column or holds a NUL (which PostgreSQL refuses
    # in a query parameter: a DataError, i.e. a 500, for a URL like /authorizers/wx%00/).
    if not appid or len(appid) > Authorizer._meta.get_field("appid").max_length or "\x00" in appid:
        raise AuthorizerNotFound(appid)
    key = _cache_key(appid)
    row = prefetched if prefetched is not None else cache.get(key)
    if row is None:
        authorizer = Authorizer.objects.filter(appid=appid).only(*_LOADED).first()
        if authorizer is None:
            cache.set(key, _MISSING, min(_MISSING_SECONDS, settings.API_AUTHORIZER_CACHE_SECONDS))
            raise AuthorizerNotFound(appid)
        row = _to_cache(authorizer)
        cache.set(key, row, settings.API_AUTHORIZER_CACHE_SECONDS)
    if row == _MISSING or row["merchant_id"] != merchant_id:
        raise AuthorizerNotFound(appid)
    return _from_cache(row)


def authorizer_list_for_merchant(*, merchant_id: int) -> list[Authorizer]:
    return list(Authorizer.objects.filter(merchant_id=merchant_id).order_by("nickname", "appid"))


def authorizer_cache_forget(*, appid: str) -> None:
    key = _cache_key(appid)
    cache.delete(key)
    # Again after commit: a reader between the save and the commit may have cached the old row.
    transaction.on_commit(lambda: cache.delete(key))


def _on_authorizer_change(sender, instance: Authorizer, **kwargs) -> None:
    authorizer_cache_forget(appid=instance.appid)


def connect_invalidation() -> None:
    from django.db.models.signals import post_delete, post_save

    uid = "authorizers.api.selectors"
    post_save.connect(_on_authorizer_change, sender=Authorizer, dispatch_uid=uid + ".save")
    post_delete.connect(_on_authorizer_change, sender=Authorizer, dispatch_uid=uid + ".delete")
