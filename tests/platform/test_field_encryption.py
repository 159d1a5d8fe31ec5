"""Encrypted fields and key rotation: the database never holds a token in clear."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from authorizers.models import Authorizer, Merchant
from core.fields import FieldDecryptionError


def _raw(appid):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT access_token, refresh_token FROM authorizers_authorizer WHERE appid = %s",
            [appid],
        )
        return cursor.fetchone()


@pytest.mark.django_db
def test_tokens_are_stored_encrypted_and_read_back_clear():
    merchant = Merchant.objects.create(name="m")
    Authorizer.objects.create(
        merchant=merchant, appid="wxenc", access_token="AT-clear", refresh_token="RT-clear"
    )
    access, refresh = _raw("wxenc")
    assert "AT-clear" not in access and "RT-clear" not in refresh
    assert Authorizer.objects.get(appid="wxenc").refresh_token == "RT-clear"


@pytest.mark.django_db
def test_rotation_reencrypts_with_the_new_key_and_old_key_can_then_go(settings):
    old_keys = list(settings.FIELD_ENCRYPTION_KEYS)
    merchant = Merchant.objects.create(name="m")
    Authorizer.objects.create(merchant=merchant, appid="wxrot", refresh_token="RT-keep")
    new_key = Fernet.generate_key().decode()

    settings.FIELD_ENCRYPTION_KEYS = [new_key, *old_keys]
    call_command("rotate_field_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115

    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert Authorizer.objects.get(appid="wxrot").refresh_token == "RT-keep"

    settings.FIELD_ENCRYPTION_KEYS = old_keys
    with pytest.raises(FieldDecryptionError):
        Authorizer.objects.get(appid="wxrot")


def test_the_request_paths_decryption_is_remembered_for_the_current_keys(settings, monkeypatch):
    from core import fields

    token = fields.encrypt_value("AT-hot")
    calls = []
    original = fields.decrypt_value
    monkeypatch.setattr(fields, "decrypt_value", lambda t: calls.append(t) or original(t))
    assert fields.decrypt_value_cached(token) == "AT-hot"
    assert fields.decrypt_value_cached(token) == "AT-hot"
    assert len(calls) == 1  # the second lookup did no Fernet work
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # its key dropped
    with pytest.raises(FieldDecryptionError):
        fields.decrypt_value_cached(token)
