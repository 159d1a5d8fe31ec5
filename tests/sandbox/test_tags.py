"""tags/getidlist and tags/get, called with an authorizer_access_token."""

import pytest

from sandbox import demo
from tests.plugins.sandbox import errcode, fetch_component_token, wechat_call

GETIDLIST = "/cgi-bin/tags/getidlist"
TAGS = "/cgi-bin/tags/get"


def grant(sandbox, appid):
    return sandbox.state.authorize(appid)["authorizer_access_token"]


def getidlist(sandbox, token, openid):
    return wechat_call(sandbox, GETIDLIST, {"openid": openid}, access_token=token)


@pytest.mark.parametrize("appid", [demo.COFFEE_APPID, demo.BOOKS_APPID])
def test_getidlist_for_accounts_that_granted_2_or_100(wechat_sandbox, appid):
    token = grant(wechat_sandbox, appid)
    openids = demo.demo_openids(appid)
    lists = [getidlist(wechat_sandbox, token, o) for o in openids]
    assert lists[0] == {"tagid_list": [2, 100]}
    assert lists[2] == {"tagid_list": []}
    assert lists[5] == {"tagid_list": [100, 101, 102]}
    assert wechat_sandbox.state.calls("getidlist", appid=appid) == len(openids)


def test_tags_get(wechat_sandbox):
    token = grant(wechat_sandbox, demo.COFFEE_APPID)
    result = wechat_call(wechat_sandbox, TAGS, method="GET", access_token=token)
    assert result == {
        "tags": [
            {"id": 2, "name": "星标组", "count": 2},
            {"id": 100, "name": "VIP", "count": 3},
            {"id": 101, "name": "Newcomer", "count": 2},
            {"id": 102, "name": "Latte lovers", "count": 1},
        ]
    }


def test_openids_belong_to_one_authorizer(wechat_sandbox):
    token = grant(wechat_sandbox, demo.COFFEE_APPID)
    books_user = demo.demo_openids(demo.BOOKS_APPID)[0]
    assert errcode(getidlist(wechat_sandbox, token, books_user)) == 49003
    unknown = "o" + "x" * 27
    assert errcode(getidlist(wechat_sandbox, token, unknown)) == 40003
    assert errcode(getidlist(wechat_sandbox, token, "not-an-openid")) == 40003


@pytest.mark.parametrize(
    ("appid", "expected"),
    [
        (demo.BAKERY_APPID, 61007),  # granted neither 2 nor 100
        (demo.UNVERIFIED_APPID, 48001),
        (demo.SUBSCRIPTION_APPID, 48001),
    ],
)
def test_accounts_that_may_not_call(wechat_sandbox, appid, expected):
    token = grant(wechat_sandbox, appid)
    openid = demo.demo_openids(appid)[0]
    assert errcode(getidlist(wechat_sandbox, token, openid)) == expected
    assert errcode(wechat_call(wechat_sandbox, TAGS, method="GET", access_token=token)) == expected


def test_account_changes_take_effect(wechat_sandbox):
    world = wechat_sandbox.state
    token = grant(wechat_sandbox, demo.COFFEE_APPID)
    openid = demo.demo_openids(demo.COFFEE_APPID)[0]
    world.update_authorizer(demo.COFFEE_APPID, {"func_info": [1, 3]})
    assert errcode(getidlist(wechat_sandbox, token, openid)) == 61007
    world.update_authorizer(demo.COFFEE_APPID, {"func_info": [100], "verify_type": -1})
    assert errcode(getidlist(wechat_sandbox, token, openid)) == 48001
    world.update_authorizer(demo.COFFEE_APPID, {"verify_type": 0, "service_type": 0})
    assert errcode(getidlist(wechat_sandbox, token, openid)) == 48001
    world.update_authorizer(demo.COFFEE_APPID, {"service_type": 2})
    assert getidlist(wechat_sandbox, token, openid) == {"tagid_list": [2, 100]}


def test_token_errors(wechat_sandbox):
    world = wechat_sandbox.state
    openid = demo.demo_openids(demo.COFFEE_APPID)[0]
    assert errcode(wechat_call(wechat_sandbox, GETIDLIST, {"openid": openid})) == 41001
    assert errcode(getidlist(wechat_sandbox, "forged", openid)) == 40001
    component_token = fetch_component_token(wechat_sandbox)
    assert errcode(getidlist(wechat_sandbox, component_token, openid)) == 61015

    token = grant(wechat_sandbox, demo.COFFEE_APPID)
    world.advance_clock(7200)
    assert errcode(getidlist(wechat_sandbox, token, openid)) == 42001

    token = grant(wechat_sandbox, demo.COFFEE_APPID)
    world.expire_authorizer_token(demo.COFFEE_APPID)
    assert errcode(getidlist(wechat_sandbox, token, openid)) == 42001

    token = grant(wechat_sandbox, demo.COFFEE_APPID)
    world.revoke(demo.COFFEE_APPID)  # the merchant cancelled: its tokens die
    assert errcode(getidlist(wechat_sandbox, token, openid)) == 40001


def test_bad_bodies(wechat_sandbox):
    token = grant(wechat_sandbox, demo.COFFEE_APPID)
    assert errcode(wechat_call(wechat_sandbox, GETIDLIST, data=b"", access_token=token)) == 44002
    bad = wechat_call(wechat_sandbox, GETIDLIST, data=b"openid=x", access_token=token)
    assert errcode(bad) == 47001
    assert errcode(wechat_call(wechat_sandbox, GETIDLIST, {}, access_token=token)) == 47001
    assert errcode(wechat_call(wechat_sandbox, GETIDLIST, {"openid": 5}, access_token=token)) == (
        47001
    )
    get = wechat_call(wechat_sandbox, GETIDLIST, method="GET", access_token=token)
    assert errcode(get) == 43002


def test_unknown_paths_answer_json(wechat_sandbox):
    for path in ("/", "/cgi-bin/nope", "/cgi-bin/tags/create", "/favicon.ico"):
        assert errcode(wechat_call(wechat_sandbox, path, method="GET")) == 40066
    assert wechat_sandbox.state.calls("/cgi-bin/nope") == 1
