"""Fixtures of the resilience suite: a merchant API served over real HTTP (pytest-django's
multi-threaded live_server) for an onboarded sandbox account, and the long/short profiles."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import requests

from sandbox.demo import COFFEE_APPID, demo_openids

from .load import Target


@dataclass(frozen=True)
class Profile:
    name: str
    clients: int
    duration: float  # seconds of load
    max_requests: int
    fuzz_examples: int


SHORT = Profile("short", clients=32, duration=1.0, max_requests=160, fuzz_examples=150)
LONG = Profile("long", clients=32, duration=30.0, max_requests=1_000_000, fuzz_examples=3000)


@pytest.fixture(autouse=True)
def _api_call_log_in_request(settings):
    """Write API call rows in the request: no background writer outliving the test's data."""
    settings.API_CALL_LOG_FLUSH_SECONDS = 0


@pytest.fixture(params=[SHORT, pytest.param(LONG, marks=pytest.mark.slow)], ids=lambda p: p.name)
def profile(request) -> Profile:
    return request.param


@pytest.fixture
def live_target(wechat_api, live_server, settings, authorizer_factory) -> Target:
    """Demo Coffee onboarded under a merchant with an API key; its users' tags as truth."""
    from authorizers.services.api_keys import api_key_create

    # The key's own bucket is tested in tests/api; here it must not hide WeChat's faults.
    settings.API_RATE_LIMIT_BURST = 10_000_000
    settings.API_RATE_LIMIT_PER_MINUTE = 600_000_000
    settings.API_UPSTREAM_RETRY_AFTER_SECONDS = 1
    authorizer = authorizer_factory(appid=COFFEE_APPID)
    _, raw_key = api_key_create(merchant=authorizer.merchant, name="load")
    expected = {}
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {raw_key}"
        for openid in demo_openids(COFFEE_APPID):
            url = f"{live_server.url}/api/v1/authorizers/{COFFEE_APPID}/users/{openid}/tags"
            response = session.get(url, timeout=10)
            assert response.status_code == 200, response.text
            expected[openid] = response.json()["tagid_list"]
    return Target(live_server.url, raw_key, COFFEE_APPID, expected)
