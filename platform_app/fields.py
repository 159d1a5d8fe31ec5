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
