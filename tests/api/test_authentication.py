"""401 unauthenticated: missing, malformed, unknown and revoked keys; a revocation is immediate."""

import pytest
from rest_framework.test import APIClient

from tests.api.support import COFFEE_APPID, demo_openid, error_of, tags_url, wechat_calls

OPENID = demo_openid(COFFEE_APPID, 0)
ENDPOINTS = [
    ("get", "/api/v1/authorizers/"),
    ("get", f"/api/v1/authorizers/{COFFEE_APPID}/"),
    ("get", tags_url(COFFEE_APPID, OPENID)),
    ("post", f"/api/v1/authorizers/{COFFEE_APPID}/users/tags"),
]


def _assert_401(response) -> None:
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer wxt_unknown-key", "Token x"],
)
@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_without_a_valid_key(db, header, method, url):
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    _assert_401(getattr(client, method)(url, {"openids": [OPENID]}, format="json"))


def test_refused_keys_spend_no_wechat_call(coffee, tenant, wechat_api):
    from authorizers.services.api_keys import api_key_create, api_key_revoke

    revoked, revoked_raw = api_key_create(merchant=tenant.merchant)
    api_key_revoke(api_key=revoked)
    before = wechat_calls(wechat_api)
    for header in (None, "Bearer wxt_unknown", f"Bearer {revoked_raw}"):
        client = APIClient()
        if header:
            client.credentials(HTTP_AUTHORIZATION=header)
        for method, url in ENDPOINTS:
            _assert_401(getattr(client, method)(url, {"openids": [OPENID]}, format="json"))
    assert wechat_calls(wechat_api) == before


def test_revoked_key_fails_at_once_even_when_cached(coffee, tenant, wechat_api):
    from authorizers.services.api_keys import api_key_revoke

    assert tenant.client.get(tags_url(COFFEE_APPID, OPENID)).status_code == 200
    api_key_revoke(api_key=tenant.api_key)
    _assert_401(tenant.client.get(tags_url(COFFEE_APPID, OPENID)))


def test_deactivated_merchant_fails_at_once(coffee, tenant, wechat_api):
    assert tenant.client.get("/api/v1/authorizers/").status_code == 200
    tenant.merchant.is_active = False
    tenant.merchant.save()
    _assert_401(tenant.client.get("/api/v1/authorizers/"))


def test_key_is_not_cached_in_clear(tenant, wechat_api):
    from django.core.cache import cache

    assert tenant.client.get("/api/v1/authorizers/").status_code == 200
    client = cache._cache.get_client() if hasattr(cache, "_cache") else None
    if client is not None:
        for key in client.scan_iter("*"):
            assert tenant.raw_key.encode() not in key
            assert tenant.raw_key.encode() not in (client.dump(key) or b"")
