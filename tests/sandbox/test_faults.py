"""Injected faults and the server's speed: latency, -1, 45009, timeouts, resets, concurrency."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from sandbox import demo
from tests.plugins.sandbox import errcode, wechat_call

TAGS = "/cgi-bin/tags/get"


def tags_call(sandbox, token, session=requests):
    return session.get(sandbox.base_url + TAGS, params={"access_token": token}, timeout=5)


@pytest.fixture
def token(wechat_sandbox):
    return wechat_sandbox.state.authorize(demo.COFFEE_APPID)["authorizer_access_token"]


def test_zero_latency_call_takes_about_a_millisecond(wechat_sandbox, token):
    session = requests.Session()
    tags_call(wechat_sandbox, token, session)  # connect once; keep-alive from here
    n = 200
    started = time.perf_counter()
    for _ in range(n):
        assert tags_call(wechat_sandbox, token, session).status_code == 200
    per_call = (time.perf_counter() - started) / n
    print(f"\nzero-latency call over keep-alive: {per_call * 1000:.2f} ms")


def test_latency_is_added(wechat_sandbox, token):
    wechat_sandbox.set_faults(latency_ms=150, jitter_ms=20)
    started = time.perf_counter()
    assert tags_call(wechat_sandbox, token).json()["tags"]
    elapsed = time.perf_counter() - started
    print(f"\n150+0..20 ms injected latency: call took {elapsed * 1000:.1f} ms")
    assert elapsed >= 0.15


def test_latency_does_not_serialise_concurrent_calls(start_wechat_sandbox):
    sandbox = start_wechat_sandbox(latency_ms=20)
    token = sandbox.state.authorize(demo.COFFEE_APPID)["authorizer_access_token"]
    sessions = [requests.Session() for _ in range(32)]
    per_client = 20

    def client(session):
        return [tags_call(sandbox, token, session).status_code for _ in range(per_client)]

    started = time.perf_counter()
    with ThreadPoolExecutor(32) as pool:
        statuses = [s for batch in pool.map(client, sessions) for s in batch]
    elapsed = time.perf_counter() - started
    rate = len(statuses) / elapsed
    print(f"\n32 clients, 20 ms latency: {len(statuses)} calls, {rate:.0f} req/s")
    assert statuses == [200] * len(statuses)
    # Serialised, 640 calls x 20 ms would take 12.8 s; this only proves they overlap.
    assert elapsed < 6


@pytest.mark.parametrize(("knob", "expected"), [("error_rate", -1), ("quota_rate", 45009)])
def test_error_knobs(wechat_sandbox, token, knob, expected):
    wechat_sandbox.set_faults(**{knob: 1.0})
    for _ in range(3):
        response = tags_call(wechat_sandbox, token)
        assert response.status_code == 200
        assert errcode(response.json()) == expected
    assert wechat_sandbox.state.calls("tags/get", appid=demo.COFFEE_APPID) == 3


def test_timeout_knob(wechat_sandbox, token):
    wechat_sandbox.set_faults(timeout_rate=1.0, timeout_seconds=5)
    started = time.perf_counter()
    with pytest.raises(requests.Timeout):
        requests.get(
            wechat_sandbox.base_url + TAGS, params={"access_token": token}, timeout=(1, 0.3)
        )
    assert time.perf_counter() - started < 3


def test_timed_out_calls_were_still_handled(wechat_sandbox):
    """WeChat acted, the caller never heard: the refresh happened and the old token is dead."""
    world = wechat_sandbox.state
    grant = world.authorize(demo.COFFEE_APPID)
    wechat_sandbox.set_faults(path_prefix="/cgi-bin/component/", timeout_rate=1.0, count=1)
    with pytest.raises(requests.Timeout):
        requests.post(
            wechat_sandbox.base_url + "/cgi-bin/component/api_authorizer_token",
            params={"component_access_token": world.issue_component_token()[0]},
            json={
                "component_appid": demo.COMPONENT_APPID,
                "authorizer_appid": demo.COFFEE_APPID,
                "authorizer_refresh_token": grant["authorizer_refresh_token"],
            },
            timeout=(1, 0.3),
        )
    assert world.authorizers[demo.COFFEE_APPID].access.current != grant["authorizer_access_token"]


def test_reset_knob(wechat_sandbox, token):
    wechat_sandbox.set_faults(reset_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        tags_call(wechat_sandbox, token)
    wechat_sandbox.clear_faults()
    assert tags_call(wechat_sandbox, token).status_code == 200


def test_scoped_rules(wechat_sandbox, token):
    wechat_sandbox.set_faults(quota_rate=1.0, count=2)
    assert errcode(tags_call(wechat_sandbox, token).json()) == 45009
    assert errcode(tags_call(wechat_sandbox, token).json()) == 45009
    assert "tags" in tags_call(wechat_sandbox, token).json()

    wechat_sandbox.set_faults(error_rate=1.0, path_prefix="/cgi-bin/component/")
    assert "tags" in tags_call(wechat_sandbox, token).json()
    result = wechat_call(wechat_sandbox, "/cgi-bin/component/api_component_token", {})
    assert errcode(result) == -1


def test_rates_follow_the_seed(start_wechat_sandbox):
    def outcomes(seed):
        sandbox = start_wechat_sandbox(seed=seed, error_rate=0.5)
        token = sandbox.state.authorize(demo.COFFEE_APPID)["authorizer_access_token"]
        return [tags_call(sandbox, token).json().get("errcode", 0) for _ in range(30)]

    first = outcomes(7)
    assert first == outcomes(7)
    assert -1 in first
    assert 0 in first


def test_faults_over_the_control_endpoint(wechat_sandbox, token):
    url = wechat_sandbox.base_url + "/sandbox/faults"
    snapshot = requests.post(url, json={"quota_rate": 1.0, "path_prefix": TAGS, "count": 1}).json()
    assert snapshot["scoped"][0]["count"] == 1
    assert errcode(tags_call(wechat_sandbox, token).json()) == 45009
    requests.post(url, json={"error_rate": 1.0})
    assert errcode(tags_call(wechat_sandbox, token).json()) == -1
    assert requests.post(url, json={"clear": True}).json()["base"]["error_rate"] == 0
    assert "tags" in tags_call(wechat_sandbox, token).json()
    bad = requests.post(url, json={"error_rate": 2})
    assert bad.status_code == 400
    assert "between 0 and 1" in bad.json()["error"]
    assert requests.post(url, json={"bogus_rate": 1}).status_code == 400
