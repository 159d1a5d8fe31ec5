"""The control endpoint under /sandbox/."""

import time

import requests

from sandbox import demo
from tests.plugins.sandbox import errcode, wechat_call


def control(sandbox, path, body=None, *, status=200):
    if body is None:
        response = requests.get(sandbox.base_url + path, timeout=5)
    else:
        response = requests.post(sandbox.base_url + path, json=body, timeout=5)
    assert response.status_code == status, response.text
    return response.json()


def test_index_and_state(wechat_sandbox):
    index = control(wechat_sandbox, "/sandbox/")
    assert "/sandbox/faults" in index["post"]
    token = wechat_sandbox.state.authorize(demo.COFFEE_APPID)["authorizer_access_token"]
    wechat_call(wechat_sandbox, "/cgi-bin/tags/get", method="GET", access_token=token)
    state = control(wechat_sandbox, "/sandbox/state")
    assert state["counters"]["by_endpoint"] == {"/cgi-bin/tags/get": 1}
    assert state["counters"]["by_authorizer"] == {demo.COFFEE_APPID: {"/cgi-bin/tags/get": 1}}
    assert state["settings"]["token_ttl"] == 7200
    assert state["settings"]["token_grace_seconds"] == 0
    assert state["component"]["ticket"] == wechat_sandbox.state.ticket
    assert state["consent_appid"] == demo.DEFAULT_CONSENT_APPID
    assert state["authorizers"] == len(demo.DEMO_AUTHORIZERS)
    assert state["internal_errors"] == 0


def test_settings(wechat_sandbox):
    result = control(
        wechat_sandbox, "/sandbox/settings", {"token_ttl": 60, "rotate_refresh_token": True}
    )
    assert result["token_ttl"] == 60
    assert wechat_sandbox.state.settings.rotate_refresh_token is True
    control(wechat_sandbox, "/sandbox/settings", {"token_ttl": "soon"}, status=400)
    control(wechat_sandbox, "/sandbox/settings", {"rotate_refresh_token": 1}, status=400)
    control(wechat_sandbox, "/sandbox/settings", {"nope": 1}, status=400)
    assert wechat_sandbox.state.settings.token_ttl == 60


def test_reset(wechat_sandbox):
    wechat_call(wechat_sandbox, "/cgi-bin/nope", method="GET")
    wechat_sandbox.push("component_verify_ticket")
    control(wechat_sandbox, "/sandbox/reset", {})
    state = control(wechat_sandbox, "/sandbox/state")
    assert state["counters"]["by_endpoint"] == {}
    assert state["pushes"] == []


def test_consent_push_and_authorizers(wechat_sandbox):
    control(wechat_sandbox, "/sandbox/consent", {"authorizer_appid": demo.BOOKS_APPID})
    assert wechat_sandbox.state.consent_appid == demo.BOOKS_APPID
    control(wechat_sandbox, "/sandbox/consent", {"authorizer_appid": "wxnope"}, status=404)

    record = control(
        wechat_sandbox,
        "/sandbox/push",
        {"info_type": "authorized", "authorizer_appid": demo.BAKERY_APPID},
    )
    assert record["info_type"] == "authorized"
    assert wechat_sandbox.state.authorizers[demo.BAKERY_APPID].authorized
    control(
        wechat_sandbox,
        "/sandbox/push",
        {"info_type": "unauthorized", "authorizer_appid": demo.BAKERY_APPID},
    )
    assert not wechat_sandbox.state.authorizers[demo.BAKERY_APPID].authorized
    control(wechat_sandbox, "/sandbox/push", {"info_type": "bogus"}, status=400)

    added = control(
        wechat_sandbox,
        "/sandbox/authorizers",
        {"authorizer_appid": "wx2000000000000001", "nick_name": "New Shop", "authorized": True},
    )
    assert added["authorizer"]["nick_name"] == "New Shop"
    token = added["grant"]["authorizer_access_token"]
    openid = demo.demo_openids("wx2000000000000001")[0]
    result = wechat_call(
        wechat_sandbox, "/cgi-bin/tags/getidlist", {"openid": openid}, access_token=token
    )
    assert result == {"tagid_list": [2, 100]}

    updated = control(
        wechat_sandbox,
        "/sandbox/authorizers",
        {"authorizer_appid": "wx2000000000000001", "verify_type": -1},
    )
    assert updated["authorizer"]["verify_type"] == -1
    result = wechat_call(
        wechat_sandbox, "/cgi-bin/tags/getidlist", {"openid": openid}, access_token=token
    )
    assert errcode(result) == 48001
    control(wechat_sandbox, "/sandbox/authorizers", {"authorizer_appid": "bad"}, status=400)
    control(
        wechat_sandbox,
        "/sandbox/authorizers",
        {"authorizer_appid": demo.COFFEE_APPID, "users": []},
        status=400,
    )

    one = control(wechat_sandbox, "/sandbox/authorizers/" + demo.COFFEE_APPID)
    assert one["openids"] == demo.demo_openids(demo.COFFEE_APPID)
    control(wechat_sandbox, "/sandbox/authorizers/wxnope", status=404)


def test_bulk_synthetic_authorizers(wechat_sandbox):
    started = time.perf_counter()
    result = control(wechat_sandbox, "/sandbox/authorizers", {"bulk": 10_000})
    print(f"\n10,000 synthetic authorizers added in {time.perf_counter() - started:.2f} s")
    assert result["added"] == 10_000
    world = wechat_sandbox.state
    assert len(world.authorized_appids()) == 10_000
    listing = control(wechat_sandbox, "/sandbox/authorizers?offset=5&limit=2")
    assert listing["total_count"] == 10_000 + len(demo.DEMO_AUTHORIZERS)
    assert len(listing["list"]) == 2
    account = world.authorizers[result["last"]]
    assert account.refresh.current.startswith("refreshtoken@@@")
    more = control(wechat_sandbox, "/sandbox/authorizers", {"bulk": 2, "authorized": False})
    assert more["first"] != result["first"]
    assert not world.authorizers[more["first"]].authorized
    control(wechat_sandbox, "/sandbox/authorizers", {"bulk": 0}, status=400)


def test_expire_and_clock(wechat_sandbox):
    world = wechat_sandbox.state
    token = world.authorize(demo.COFFEE_APPID)["authorizer_access_token"]
    control(wechat_sandbox, "/sandbox/expire", {"authorizer_appid": demo.COFFEE_APPID})
    result = wechat_call(wechat_sandbox, "/cgi-bin/tags/get", method="GET", access_token=token)
    assert errcode(result) == 42001
    world.issue_component_token()
    control(wechat_sandbox, "/sandbox/expire", {"component": True})
    assert world.component_access.expires_at <= world.now()

    before = world.now()
    after = control(wechat_sandbox, "/sandbox/clock", {"advance": 3600})["now"]
    assert after - before >= 3600
    control(wechat_sandbox, "/sandbox/clock", {"advance": "later"}, status=400)


def test_control_errors_are_json(wechat_sandbox):
    assert "error" in control(wechat_sandbox, "/sandbox/nope", status=404)
    assert "error" in control(wechat_sandbox, "/sandbox/nope", {}, status=404)
    response = requests.post(wechat_sandbox.base_url + "/sandbox/settings", data=b"{", timeout=5)
    assert response.status_code == 400
    assert response.json() == {"error": "body must be JSON"}
