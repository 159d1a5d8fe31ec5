"""Reads for the merchant API. Every selector takes the merchant: the tenant is resolved once,
at the API boundary, and no read here can return another merchant's account.

`authorizer_get_for_merchant` is on every lookup's path, so the row is cached by appid
(API_AUTHORIZER_CACHE_SECONDS) with the access token in it as Fernet ciphertext, never in
clear. Saves and deletes invalidate the entry (signals connected in tags.apps); callers that
change a token outside a save (a refresh) call `authorizer_cache_forget`. A fill racing an
invalidation never outlives it (core.versioned_cache): an `unauthorized` push wins.
An entry no configured FIELD_ENCRYPTION_KEYS key decrypts (a key dropped since it was
written) is a miss: the row is read again, instead of a 500 until the entry expires. The instance
rebuilt from the cache defers every field it does not hold (the refresh token among
them): reading one loads it, and saving it writes only the fields it holds.
"""

from __future__ import annotations

import hashlib
import re

from django.conf import settings

from core.fields import FieldDecryptionError, decrypt_value_cached, encrypt_value
from core.versioned_cache import VersionedCache

from ..models import Authorizer

_CACHE = VersionedCache("api:authorizer:")
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
    "quota_stops",
)  # in the model's field order: Model.from_db() maps a partial row by that order

_LOADED = ["merchant", *(f for f in _CACHED_FIELDS if f not in ("id", "merchant_id"))]


class AuthorizerNotFound(Exception):
    """Unknown appid, or another merchant's: the API answers both the same way (404)."""


def _cache_name(appid: str) -> str:
    # A URL can put anything in the appid; only plain ones are used verbatim in a key.
    if _PLAIN_APPID.fullmatch(appid):  # not match(): "$" would let a trailing newline in
        return appid
    return "h:" + hashlib.sha256(appid.encode("utf-8", "replace")).hexdigest()


def _to_cache(authorizer: Authorizer) -> dict:
    row = {name: getattr(authorizer, name) for name in _CACHED_FIELDS}
    row["access_token"] = encrypt_value(row["access_token"]) if row["access_token"] else ""
    return row


def _from_cache(row: dict) -> Authorizer:
    """Raises FieldDecryptionError when no configured key decrypts the cached token."""
    values = dict(row)
    if values["access_token"]:
        values["access_token"] = decrypt_value_cached(values["access_token"])
    names = list(values)
    return Authorizer.from_db("default", names, [values[n] for n in names])


def authorizer_cache_keys(appid: str) -> tuple[str, str]:
    """Where the row is cached, for a caller that reads several cache entries in one go."""
    return _CACHE.keys(_cache_name(appid))


def _cached(row: dict | str, merchant_ids: frozenset[int] | None, appid: str) -> Authorizer:
    if row == _MISSING or (merchant_ids is not None and row["merchant_id"] not in merchant_ids):
        raise AuthorizerNotFound(appid)
    return _from_cache(row)


def authorizer_get_for_merchant(
    *, merchant_id: int, appid: str, prefetched: dict | None = None
) -> Authorizer:
    """`prefetched`: a get_many result covering authorizer_cache_keys(appid), if any."""
    return authorizer_get_cached(
        appid=appid, prefetched=prefetched, merchant_ids=frozenset([merchant_id])
    )


def authorizer_get_cached(
    *, appid: str, merchant_ids: frozenset[int] | None, prefetched: dict | None = None
) -> Authorizer:
    """The account by appid, from the same cache, if it is one of `merchant_ids`' (None:
    any merchant's, for the provider's own services). AuthorizerNotFound otherwise."""
    # No stored appid is longer than the column or holds a NUL (which PostgreSQL refuses
    # in a query parameter: a DataError, i.e. a 500, for a URL like /authorizers/wx%00/).
    if not appid or len(appid) > Authorizer._meta.get_field("appid").max_length or "\x00" in appid:
        raise AuthorizerNotFound(appid)
    name = _cache_name(appid)
    slot = _CACHE.lookup(name, prefetched=prefetched)
    if slot.hit:
        try:
            return _cached(slot.value, merchant_ids, appid)
        except FieldDecryptionError:
            pass  # written under a key dropped since: read the row again and re-cache it
    slot = _CACHE.begin_fill(name, slot)
    authorizer = Authorizer.objects.filter(appid=appid).only(*_LOADED).first()
    if authorizer is None:
        timeout = min(_MISSING_SECONDS, settings.API_AUTHORIZER_CACHE_SECONDS)
        _CACHE.fill(name, slot, _MISSING, timeout)
        raise AuthorizerNotFound(appid)
    row = _to_cache(authorizer)
    _CACHE.fill(name, slot, row, settings.API_AUTHORIZER_CACHE_SECONDS)
    return _cached(row, merchant_ids, appid)


# What the API's account list shows of a row: the tokens (decrypted on load) are not in it.
AUTHORIZER_LIST_FIELDS = (
    "id",
    "appid",
    "nickname",
    "service_type",
    "verify_type",
    "permission_sets",
    "status",
)


def authorizer_page_for_merchant(
    *, merchant_id: int, after_id: int | None, limit: int
) -> tuple[list[Authorizer], bool]:
    """Up to `limit` of the merchant's accounts with an id above `after_id`, by id (a keyset
    page: the (merchant, id) index serves it at any depth); and whether more follow."""
    rows = Authorizer.objects.filter(merchant_id=merchant_id)
    if after_id is not None:
        rows = rows.filter(id__gt=after_id)
    page = list(rows.only(*AUTHORIZER_LIST_FIELDS).order_by("id")[: limit + 1])
    return page[:limit], len(page) > limit


def authorizer_cache_forget(*, appid: str) -> None:
    _CACHE.invalidate([_cache_name(appid)])
