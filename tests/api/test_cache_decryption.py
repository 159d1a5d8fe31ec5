"""A cached authorizer row no configured key decrypts is a cache miss, not a 500."""

from __future__ import annotations

from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.support import COFFEE_APPID, demo_openid, tags_url

OPENID = demo_openid(COFFEE_APPID, 0)


def test_entry_encrypted_with_a_dropped_key_is_re_read(coffee, tenant, wechat_api, settings):
    from authorizers.selectors.tenant import authorizer_get_for_merchant

    settings.API_AUTHORIZER_CACHE_SECONDS = 300
    old_keys = list(settings.FIELD_ENCRYPTION_KEYS)
    new_key = Fernet.generate_key().decode()
    # Cached while only the old keys were configured: the entry holds old-key ciphertext.
    assert tenant.client.get(tags_url(COFFEE_APPID, OPENID)).status_code == 200
    # Rotation done by the book: new key first, stored values re-encrypted, old keys dropped.
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *old_keys]
    call_command("rotate_field_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.FIELD_ENCRYPTION_KEYS = [new_key]

    with CaptureQueriesContext(connection) as queries:
        authorizer = authorizer_get_for_merchant(merchant_id=tenant.merchant.pk, appid=COFFEE_APPID)
    assert authorizer.access_token == coffee.access_token
    assert any("authorizers_authorizer" in q["sql"] for q in queries.captured_queries)

    response = tenant.client.get(tags_url(COFFEE_APPID, OPENID))
    assert response.status_code == 200 and response.json()["tagid_list"] == [2, 100]
