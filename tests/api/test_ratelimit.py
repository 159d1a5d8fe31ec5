"""The per-API-key token bucket: Redis (atomic script) and in-process, same behaviour."""

from pathlib import Path

import pytest

from merchant_api.ratelimit import (
    FileBuckets,
    Limits,
    MemoryBuckets,
    RedisBuckets,
    rate_limit_take,
)
from tests.api.support import (
    COFFEE_APPID,
    batchget_calls,
    bulk_url,
    demo_openid,
    error_of,
    getidlist_calls,
    tags_url,
)


@pytest.fixture(params=["memory", "file", "redis"])
def buckets(request, settings, tmp_path):
    if request.param == "memory":
        return MemoryBuckets()
    if request.param == "file":
        return FileBuckets(tmp_path)
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
    from merchant_api.authentication import ApiPrincipal
    from merchant_api.ratelimit import limits_for

    assert limits_for(ApiPrincipal(1, 1)) == Limits(1000, 600)
    assert limits_for(ApiPrincipal(1, 1, 5, 7)) == Limits(5, 7)


def test_redis_down_fails_open(settings):
    from merchant_api import ratelimit
    from merchant_api.authentication import ApiPrincipal

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


def _limit_key(tenant, *, burst: int, per_minute: int = 1) -> None:
    tenant.api_key.rate_limit_burst = burst
    tenant.api_key.rate_limit_per_minute = per_minute
    tenant.api_key.save()


def _use_up(tenant, n: int) -> None:
    url = tags_url(COFFEE_APPID, demo_openid(COFFEE_APPID, 0))
    for _ in range(n):
        assert tenant.client.get(url).status_code == 200
    assert tenant.client.get(url).status_code == 429


@pytest.mark.parametrize("count", [0, 1001])
def test_a_malformed_bulk_is_invalid_even_with_the_bucket_empty(coffee, tenant, wechat_api, count):
    _limit_key(tenant, burst=2)
    _use_up(tenant, 2)
    openids = [f"o{i:027d}" for i in range(count)]
    response = tenant.client.post(bulk_url(COFFEE_APPID), {"openids": openids}, format="json")
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_request"


def test_a_bulk_larger_than_the_burst_is_invalid_and_says_the_limit(coffee, tenant, wechat_api):
    _limit_key(tenant, burst=2, per_minute=600)
    openids = [demo_openid(COFFEE_APPID, i) for i in range(3)]
    response = tenant.client.post(bulk_url(COFFEE_APPID), {"openids": openids}, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_request" and "2" in error["message"]
    assert "burst" in error["message"]
    assert "Retry-After" not in response
    assert getidlist_calls(wechat_api) == 0


def test_a_lowered_burst_caps_the_wechat_calls_of_one_request(coffee, tenant, wechat_api):
    _limit_key(tenant, burst=10, per_minute=600)
    openids = [f"o{i:027d}" for i in range(1000)]
    response = tenant.client.post(bulk_url(COFFEE_APPID), {"openids": openids}, format="json")
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_request"
    assert getidlist_calls(wechat_api) == 0


def test_a_bulk_is_charged_its_full_cost(coffee, tenant, wechat_api):
    _limit_key(tenant, burst=10)
    first = [demo_openid(COFFEE_APPID, i) for i in range(6)]
    response = tenant.client.post(bulk_url(COFFEE_APPID), {"openids": first}, format="json")
    assert response.status_code == 200
    second = [demo_openid(COFFEE_APPID, i) for i in range(5)]  # 4 tokens left
    response = tenant.client.post(bulk_url(COFFEE_APPID), {"openids": second}, format="json")
    assert response.status_code == 429 and error_of(response)["code"] == "rate_limited"
    assert int(response["Retry-After"]) >= 1
    assert batchget_calls(wechat_api) == 1  # the first bulk, one batch; the second none


def test_buckets_follow_the_cache_key_prefix(settings):
    """Two deployments sharing one Redis (different CACHE_KEY_PREFIX) have their own buckets."""
    from merchant_api import ratelimit
    from merchant_api.authentication import ApiPrincipal

    if not settings.REDIS_URL:
        pytest.skip("no Redis configured")
    principal = ApiPrincipal(4242, 1, rate_limit_burst=1, rate_limit_per_minute=1)

    def use_prefix(prefix: str) -> None:
        default = {**settings.CACHES["default"], "KEY_PREFIX": prefix}
        settings.CACHES = {**settings.CACHES, "default": default}

    ratelimit._backends.clear()
    use_prefix("deployment-a")
    assert rate_limit_take(principal=principal).allowed
    assert not rate_limit_take(principal=principal).allowed
    use_prefix("deployment-b")
    assert rate_limit_take(principal=principal).allowed
    assert not rate_limit_take(principal=principal).allowed

    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    names = {k.decode() for k in client.scan_iter("*ratelimit*")}
    assert any(n.startswith("deployment-a:") for n in names), names
    assert any(n.startswith("deployment-b:") for n in names), names


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


@pytest.fixture
def redis_sends(settings, monkeypatch):
    """Counts the commands (a pipeline: one) sent to Redis."""
    if not settings.REDIS_URL:
        pytest.skip("no REDIS_URL")
    import redis.connection

    sent = []
    original = redis.connection.AbstractConnection.send_packed_command

    def counting(self, command, *args, **kwargs):
        sent.append(command)
        return original(self, command, *args, **kwargs)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)
    return sent


def test_a_warm_lookup_is_one_redis_round_trip(coffee, tenant, wechat_api, redis_sends):
    """Key, authorizer and the rate-limit token: read and taken in one pipeline."""
    url = tags_url(COFFEE_APPID, demo_openid(COFFEE_APPID, 0))
    for _ in range(2):  # fills the caches; the key is then known to this process
        assert tenant.client.get(url).status_code == 200
    redis_sends.clear()
    for _ in range(5):
        assert tenant.client.get(url).status_code == 200
    assert len(redis_sends) == 5


def test_a_token_taken_ahead_counts_and_refuses(coffee, tenant, wechat_api):
    tenant.api_key.rate_limit_burst = 3
    tenant.api_key.rate_limit_per_minute = 1
    tenant.api_key.save()
    url = tags_url(COFFEE_APPID, demo_openid(COFFEE_APPID, 0))
    codes = [tenant.client.get(url).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert wechat_api.state.calls("/cgi-bin/tags/getidlist") == 3


def test_limits_changed_since_the_key_was_seen_apply_at_once(coffee, tenant, wechat_api):
    url = tags_url(COFFEE_APPID, demo_openid(COFFEE_APPID, 0))
    assert tenant.client.get(url).status_code == 200  # seen with the default limits
    tenant.api_key.rate_limit_burst = 1
    tenant.api_key.rate_limit_per_minute = 1
    tenant.api_key.save()
    # Taken ahead at the old limits, from another bucket size: charged again at the new ones.
    assert tenant.client.get(url).status_code == 200
    assert tenant.client.get(url).status_code == 429


def test_redis_down_during_the_prefetch_fails_open(coffee, tenant, wechat_api, settings):
    from django.core.cache import caches

    if not settings.REDIS_URL:
        pytest.skip("no REDIS_URL")
    url = tags_url(COFFEE_APPID, demo_openid(COFFEE_APPID, 0))
    assert tenant.client.get(url).status_code == 200

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(caches["default"]), "eval_and_get_many", down)
        assert tenant.client.get(url).status_code == 200


def _spend_from_another_process(directory: str, key: str, count: int, out) -> None:
    limits = Limits(burst=50, per_minute=1)
    out.put(sum(FileBuckets(Path(directory)).take(key, limits, 1).allowed for _ in range(count)))


def test_file_buckets_are_one_bucket_across_processes(tmp_path):
    """The embedded default's gunicorn workers spend from one bucket per key, not one each."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    workers = [
        context.Process(target=_spend_from_another_process, args=(str(tmp_path), "k", 40, out))
        for _ in range(3)
    ]
    for worker in workers:
        worker.start()
    allowed = sum(out.get(timeout=60) for _ in workers)
    for worker in workers:
        worker.join(10)
    assert allowed == 50  # the burst, once: 120 attempts from 3 processes
