"""api_component_token, api_start_push_ticket and the component token's life."""

import time

import pytest

from sandbox import demo
from tests.plugins.sandbox import (
    COMPONENT,
    component_call,
    errcode,
    fetch_component_token,
    wechat_call,
)

TOKEN_PATH = COMPONENT + "api_component_token"


def token_body(sandbox, **overrides):
    body = {
        "component_appid": demo.COMPONENT_APPID,
        "component_appsecret": demo.COMPONENT_APPSECRET,
        "component_verify_ticket": sandbox.state.ticket,
    }
    return {k: v for k, v in (body | overrides).items() if v is not None}


def test_issues_a_token_for_the_latest_ticket(wechat_sandbox):
    result = wechat_call(wechat_sandbox, TOKEN_PATH, token_body(wechat_sandbox))
    assert set(result) == {"component_access_token", "expires_in"}
    assert result["expires_in"] == 7200
    assert len(result["component_access_token"]) > 60
    assert wechat_sandbox.state.calls("api_component_token") == 1


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"component_appid": "wx0000000000000bad"}, 40013),
        ({"component_appid": demo.COFFEE_APPID}, 61011),  # an account, not a component
        ({"component_appsecret": None}, 41004),
        ({"component_appsecret": "wrong-secret"}, 40125),
        ({"component_verify_ticket": "ticket@@@forged"}, 61006),
        ({"component_verify_ticket": None}, 47001),
        ({"component_appid": None}, 47001),
    ],
)
def test_refuses_bad_credentials(wechat_sandbox, overrides, expected):
    result = wechat_call(wechat_sandbox, TOKEN_PATH, token_body(wechat_sandbox, **overrides))
    assert errcode(result) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", 44002),
        (b"   ", 44002),
        (b"{not json", 47001),
        (b"[1, 2]", 47001),
        (b"\xff\xfe", 47001),
    ],
)
def test_bad_bodies_get_json_errcodes(wechat_sandbox, data, expected):
    assert errcode(wechat_call(wechat_sandbox, TOKEN_PATH, data=data)) == expected


def test_only_the_most_recent_ticket_is_accepted(wechat_sandbox):
    old = wechat_sandbox.state.ticket
    wechat_sandbox.push("component_verify_ticket")  # no callback: the world still moves on
    assert wechat_sandbox.state.ticket != old
    stale = token_body(wechat_sandbox, component_verify_ticket=old)
    assert errcode(wechat_call(wechat_sandbox, TOKEN_PATH, stale)) == 61006

    wechat_sandbox.state.settings.accept_previous_ticket = True
    assert "component_access_token" in wechat_call(wechat_sandbox, TOKEN_PATH, stale)


def test_a_ticket_older_than_12_hours_is_expired(wechat_sandbox):
    wechat_sandbox.state.advance_clock(12 * 3600 + 1)
    result = wechat_call(wechat_sandbox, TOKEN_PATH, token_body(wechat_sandbox))
    assert errcode(result) == 61005


def test_start_push_ticket(wechat_sandbox):
    old = wechat_sandbox.state.ticket
    path = COMPONENT + "api_start_push_ticket"
    body = {"component_appid": demo.COMPONENT_APPID, "component_secret": "nope"}
    assert errcode(wechat_call(wechat_sandbox, path, body)) == 40125
    body["component_secret"] = demo.COMPONENT_APPSECRET
    assert wechat_call(wechat_sandbox, path, body) == {"errcode": 0, "errmsg": "ok"}
    for _ in range(100):  # the push runs in the background
        if wechat_sandbox.pushes:
            break
        time.sleep(0.02)
    assert wechat_sandbox.pushes[-1]["info_type"] == "component_verify_ticket"
    assert wechat_sandbox.state.ticket != old


def test_component_token_checks(wechat_sandbox):
    token = fetch_component_token(wechat_sandbox)
    assert "pre_auth_code" in component_call(wechat_sandbox, "api_create_preauthcode", token)
    # The newer docs name the same query parameter access_token.
    via_alias = wechat_call(
        wechat_sandbox,
        COMPONENT + "api_create_preauthcode",
        {"component_appid": demo.COMPONENT_APPID},
        access_token=token,
    )
    assert "pre_auth_code" in via_alias

    missing = wechat_call(wechat_sandbox, COMPONENT + "api_create_preauthcode", {})
    assert errcode(missing) == 41001
    assert errcode(component_call(wechat_sandbox, "api_create_preauthcode", "forged")) == 40001
    grant = wechat_sandbox.state.authorize(demo.COFFEE_APPID)
    authorizer_token = grant["authorizer_access_token"]
    assert errcode(component_call(wechat_sandbox, "api_create_preauthcode", authorizer_token)) == (
        61014
    )
    wrong_appid = wechat_call(
        wechat_sandbox,
        COMPONENT + "api_create_preauthcode",
        {"component_appid": "wx0000000000000bad"},
        component_access_token=token,
    )
    assert errcode(wrong_appid) == 40013


def test_component_token_expires(wechat_sandbox):
    token = fetch_component_token(wechat_sandbox)
    wechat_sandbox.state.advance_clock(7200)
    assert errcode(component_call(wechat_sandbox, "api_create_preauthcode", token)) == 42001


def test_component_token_expires_with_a_tiny_ttl(start_wechat_sandbox):
    sandbox = start_wechat_sandbox(token_ttl=1)
    token = fetch_component_token(sandbox)
    assert "pre_auth_code" in component_call(sandbox, "api_create_preauthcode", token)
    time.sleep(1.05)
    assert errcode(component_call(sandbox, "api_create_preauthcode", token)) == 42001


def test_expire_now(wechat_sandbox):
    token = fetch_component_token(wechat_sandbox)
    wechat_sandbox.state.expire_component_token()
    assert errcode(component_call(wechat_sandbox, "api_create_preauthcode", token)) == 42001


def test_old_component_token_dies_on_reissue_unless_grace(start_wechat_sandbox):
    strict = start_wechat_sandbox()
    first = fetch_component_token(strict)
    fetch_component_token(strict)
    assert errcode(component_call(strict, "api_create_preauthcode", first)) == 40001

    lenient = start_wechat_sandbox(token_grace_seconds=300)
    first = fetch_component_token(lenient)
    fetch_component_token(lenient)
    assert "pre_auth_code" in component_call(lenient, "api_create_preauthcode", first)
    lenient.state.advance_clock(301)
    assert errcode(component_call(lenient, "api_create_preauthcode", first)) == 40001


def test_get_on_a_post_endpoint(wechat_sandbox):
    result = wechat_call(wechat_sandbox, TOKEN_PATH, method="GET")
    assert errcode(result) == 43002


@pytest.mark.parametrize(
    "path",
    [
        "/cgi-bin//component/api_component_token",  # wechatpy's join of "/cgi-bin/" + "/component"
        "//cgi-bin/component/api_component_token",
        "/cgi-bin/component//api_component_token",
    ],
)
def test_consecutive_slashes_count_as_one_as_wechat_serves_them(wechat_sandbox, path):
    world = wechat_sandbox.state
    body = {
        "component_appid": world.component_appid,
        "component_appsecret": world.component_appsecret,
        "component_verify_ticket": world.ticket,
    }
    answer = wechat_call(wechat_sandbox, path, body)
    assert answer.get("component_access_token"), answer
    assert world.calls("api_component_token") == 1
    assert errcode(wechat_call(wechat_sandbox, "/cgi-bin//component/nowhere", body)) == 40066
