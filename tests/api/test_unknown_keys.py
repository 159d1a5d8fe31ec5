"""Unknown Bearer keys are throttled: they stop costing database queries.

An unknown key's hash is remembered briefly (the same key again costs no query), and each
client IP has a budget of failed authentications; past it, keys that are not cached are
refused with 429 and Retry-After before any query. Another client is not affected.
"""

from __future__ import annotations

import secrets

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.api.support import error_of

URL = "/api/v1/authorizers/"
BUDGET = 5


def _random_key() -> str:
    return "wxt_" + secrets.token_urlsafe(32)


def _get(raw_key: str, ip: str):
    client = APIClient(REMOTE_ADDR=ip)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client.get(URL)


@pytest.fixture
def budget(settings, monkeypatch):
    settings.API_KEY_CACHE_SECONDS = 300
    settings.API_KEY_UNKNOWN_CACHE_SECONDS = 60
    settings.API_AUTH_FAILURES_PER_MINUTE = BUDGET
    # One budget window for the whole test: the windows are calendar minutes, and a test
    # crossing into the next one would see a fresh budget (5 more lookups, 5 more queries).
    from merchant_api import auth_throttle

    window = auth_throttle._window()
    monkeypatch.setattr(auth_throttle, "_window", lambda: window)


def test_the_same_unknown_key_costs_one_query(db, budget):
    raw_key = _random_key()
    assert _get(raw_key, "198.51.100.7").status_code == 401
    with CaptureQueriesContext(connection) as queries:
        response = _get(raw_key, "198.51.100.7")
    assert response.status_code == 401 and error_of(response)["code"] == "unauthenticated"
    assert len(queries) == 0


def test_random_keys_from_one_client_stop_costing_queries(db, budget, tenant):
    attacker = "203.0.113.9"
    with CaptureQueriesContext(connection) as spent:
        for _ in range(BUDGET):
            assert _get(_random_key(), attacker).status_code == 401
    assert 0 < len(spent) <= BUDGET  # one lookup each, until the budget is used up

    with CaptureQueriesContext(connection) as queries:
        refused = [_get(_random_key(), attacker) for _ in range(20)]
    # The set of active keys' hashes, read once and cached: no query per unknown key.
    assert len(queries) <= 1
    for response in refused:
        assert response.status_code == 429
        assert error_of(response)["code"] == "rate_limited"
        assert int(response["Retry-After"]) >= 1

    # A valid key from another client is not affected, cached or not.
    assert _get(tenant.raw_key, "192.0.2.44").status_code == 200


def test_a_key_created_after_an_unknown_lookup_works(db, budget, tenant):
    """The negative entry is invalidated like a positive one: creating the key drops it."""
    from authorizers.models import ApiKey
    from authorizers.services import api_keys

    raw_key = "wxt_" + secrets.token_urlsafe(32)
    assert _get(raw_key, "198.51.100.8").status_code == 401
    ApiKey.objects.create(
        merchant=tenant.merchant, name="late", prefix=raw_key[:12], key_hash=api_keys._hash(raw_key)
    )
    assert _get(raw_key, "198.51.100.8").status_code == 200


def test_forwarded_for_names_the_client_behind_trusted_proxies(db, budget, settings, tenant):
    settings.API_TRUSTED_PROXY_COUNT = 1
    for _ in range(BUDGET):
        client = APIClient(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.50")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {_random_key()}")
        assert client.get(URL).status_code == 401
    blocked = APIClient(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.50")
    blocked.credentials(HTTP_AUTHORIZATION=f"Bearer {_random_key()}")
    assert blocked.get(URL).status_code == 429
    # Same load balancer, another client: its own budget.
    other = APIClient(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.60")
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant.raw_key}")
    assert other.get(URL).status_code == 200


def test_a_valid_key_is_never_refused_by_the_budget_for_unknown_keys(db, budget, tenant):
    """Behind a proxy every client may share one address: an attacker spending that
    address's budget must not lock the merchants out. The valid key here has no cache entry
    (as after its entry expired), the case that reaches the budget."""
    from authorizers.services.api_keys import api_key_create, api_key_revoke

    shared = "10.0.0.1"
    for _ in range(BUDGET):
        assert _get(_random_key(), shared).status_code == 401
    assert _get(_random_key(), shared).status_code == 429

    assert _get(tenant.raw_key, shared).status_code == 200
    # A key created after the set of active keys was cached works at once, past the budget,
    _, late_key = api_key_create(merchant=tenant.merchant, name="late")
    assert _get(late_key, shared).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert _get(_random_key(), shared).status_code == 429
    assert len(queries) == 0  # and unknown keys still cost no query
    # and a revoked one is unknown again: refused by the budget, not let through.
    revoked, revoked_key = api_key_create(merchant=tenant.merchant, name="revoked")
    api_key_revoke(api_key=revoked)
    assert _get(revoked_key, shared).status_code == 429
