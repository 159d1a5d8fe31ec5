"""The per-API-key token bucket: Redis (atomic script) and in-process, same behaviour."""

import pytest

from platform_app.api.ratelimit import Limits, MemoryBuckets, RedisBuckets, rate_limit_take
from tests.api.support import COFFEE_APPID, bulk_url, demo_openid, error_of, tags_url


@pytest.fixture(params=["memory", "redis"])
def buckets(request, settings):
    if request.param == "memory":
        return MemoryBuckets()
    if not settings.REDIS_URL:
        pytest.skip("no Redis configured")
    return RedisBuckets(settings.REDIS_URL)


def test_bucket_allows_burst_then_refuses_with_a_wait(buckets):
    limits = Limits(burst=3, per_minute=60)  # one token a second
    decisions = [buckets.take("k1", limits, 1) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert 0 < decisions[-1].retry_after <= 1.0


def test_bucket_cost_and_separate_keys(buckets):
    limits = Limits(burst=10, per_minute=600)
    assert buckets.take("k2", limits, 10).allowed
    refused = buckets.take("k2", limits, 5)
    assert not refused.allowed and 0 < refused.retry_after <= 0.5
    assert buckets.take("k3", limits, 10).allowed  # another key has its own bucket


def test_defaults_and_per_key_overrides(settings):
    from platform_app.api.authentication import ApiPrincipal
    from platform_app.api.ratelimit import limits_for

    assert limits_for(ApiPrincipal(1, 1)) == Limits(1000, 600)
    assert limits_for(ApiPrincipal(1, 1, 5, 7)) == Limits(5, 7)


def test_redis_down_fails_open(settings):
    from platform_app.api import ratelimit
    from platform_app.api.authentication import ApiPrincipal

    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    ratelimit._backends.clear()
    try:
        assert rate_limit_take(principal=ApiPrincipal(99, 1, 1, 1), cost=1).allowed
    finally:
        ratelimit._backends.clear()


def test_bulk_takes_one_token_per_openid(coffee, tenant, wechat_api):
    tenant.api_key.rate_limit_burst = 5
    tenant.api_key.rate_limit_per_minute = 1
    tenant.api_key.save()
    openids = [demo_openid(COFFEE_APPID, i) for i in range(4)]
    response = tenant.client.post(bulk_url(COFFEE_APPID), {"openids": openids}, format="json")
    assert response.status_code == 200
    assert tenant.client.get(tags_url(COFFEE_APPID, openids[0])).status_code == 200
    response = tenant.client.get(tags_url(COFFEE_APPID, openids[0]))
    assert response.status_code == 429 and error_of(response)["code"] == "rate_limited"


def test_a_bulk_larger_than_the_burst_still_passes_on_a_full_bucket(coffee, tenant, wechat_api):
    tenant.api_key.rate_limit_burst = 2
    tenant.api_key.save()
    openids = [demo_openid(COFFEE_APPID, i) for i in range(3)]
    response = tenant.client.post(bulk_url(COFFEE_APPID), {"openids": openids}, format="json")
    assert response.status_code == 200


def test_limits_are_per_key(coffee, tenant, wechat_api):
    from rest_framework.test import APIClient

    from authorizers.services.api_keys import api_key_create

    tenant.api_key.rate_limit_burst = 1
    tenant.api_key.save()
    _, second_key = api_key_create(merchant=tenant.merchant)
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {second_key}")
    url = tags_url(COFFEE_APPID, demo_openid(COFFEE_APPID, 0))
    assert tenant.client.get(url).status_code == 200
    assert tenant.client.get(url).status_code == 429
    assert other.get(url).status_code == 200
