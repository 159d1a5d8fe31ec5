"""Encrypted model fields: the database never holds a token in clear.

Fernet keys come from FIELD_ENCRYPTION_KEYS; the first encrypts, all decrypt, so a key
can be rotated by prepending a new one and running `manage.py rotate_field_keys`.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])


def field_fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


class FieldDecryptionError(Exception):
    """No configured key decrypts the stored value (a key was removed too early)."""


def encrypt_value(value: str) -> str:
    return field_fernet().encrypt(value.encode()).decode()


def decrypt_value(token: str) -> str:
    try:
        return field_fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise FieldDecryptionError("no FIELD_ENCRYPTION_KEYS key decrypts this value") from None


def decrypt_value_cached(token: str) -> str:
    """decrypt_value for a ciphertext read on every request (the cached authorizer row's
    access token, on each lookup): remembered per process, for the current keys, bounded.
    Only for such values; a refresh token is decrypted when used and not kept in clear."""
    return _decrypt_cached(tuple(settings.FIELD_ENCRYPTION_KEYS), token)


@lru_cache(maxsize=1024)
def _decrypt_cached(keys: tuple[str, ...], token: str) -> str:
    # `keys` makes a key set changed since (a dropped key) a miss, decrypted (or refused) anew.
    return decrypt_value(token)


class EncryptedTextField(models.TextField):
    """Stores Fernet ciphertext; Python code only ever sees the clear text.

    The empty string stays empty so "no token yet" needs no ciphertext.
    """

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return decrypt_value(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt_value(value)
