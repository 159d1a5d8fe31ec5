"""Per-account daily quotas, openapi/quota/get and component/clear_quota/v2."""

import requests

from sandbox import demo
from sandbox.quotas import china_day
from tests.plugins.sandbox import errcode, wechat_call

GETIDLIST = "/cgi-bin/tags/getidlist"
TAGS = "/cgi-bin/tags/get"
BATCHGET = "/cgi-bin/user/info/batchget"
QUOTA_GET = "/cgi-bin/openapi/quota/get"
CLEAR = "/cgi-bin/component/clear_quota/v2"


def grant(sandbox, appid):
    return sandbox.state.authorize(appid)["authorizer_access_token"]


def getidlist(sandbox, token, openid):
    return wechat_call(sandbox, GETIDLIST, {"openid": openid}, access_token=token)


def quota(sandbox, token, path):
    return wechat_call(sandbox, QUOTA_GET, {"cgi_path": path}, access_token=token)


def clear(sandbox, appid, secret=demo.COMPONENT_APPSECRET, component_appid=demo.COMPONENT_APPID):
    body = {"component_appid": component_appid, "appsecret": secret, "appid": appid}
    return wechat_call(sandbox, CLEAR, body)


def set_quota(sandbox, limits):
    response = requests.post(
        sandbox.base_url + "/sandbox/settings", json={"daily_quota": limits}, timeout=5
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_defaults_and_quota_get(wechat_sandbox):
    token = grant(wechat_sandbox, demo.COFFEE_APPID)
    openid = demo.demo_openids(demo.COFFEE_APPID)[0]
    fresh = quota(wechat_sandbox, token, GETIDLIST)
    assert fresh == {
        "errcode": 0,
        "errmsg": "ok",
        "quota": {"daily_limit": 1_000_000, "used": 0, "remain": 1_000_000},
    }
    assert quota(wechat_sandbox, token, BATCHGET)["quota"]["daily_limit"] == 5_000_000
    assert quota(wechat_sandbox, token, TAGS)["quota"]["daily_limit"] == 1_000
    getidlist(wechat_sandbox, token, openid)
    getidlist(wechat_sandbox, token, "o" + "x" * 27)  # a refused call spends quota too
    assert quota(wechat_sandbox, token, GETIDLIST)["quota"] == {
        "daily_limit": 1_000_000,
        "used": 2,
        "remain": 999_998,
    }
    # Each account has its own.
    books = grant(wechat_sandbox, demo.BOOKS_APPID)
    assert quota(wechat_sandbox, books, GETIDLIST)["quota"]["used"] == 0


def test_quota_get_errors(wechat_sandbox):
    token = grant(wechat_sandbox, demo.COFFEE_APPID)
    assert errcode(quota(wechat_sandbox, token, "/cgi-bin/nope")) == 76021
    assert errcode(quota(wechat_sandbox, token, "cgi-bin/tags/getidlist")) == 76003
    assert errcode(quota(wechat_sandbox, token, "https://api.weixin.qq.com/cgi-bin/tags/get")) == (
        76003
    )
    assert errcode(wechat_call(wechat_sandbox, QUOTA_GET, {}, access_token=token)) == 47001
    assert errcode(wechat_call(wechat_sandbox, QUOTA_GET, {"cgi_path": GETIDLIST})) == 41001
    assert errcode(quota(wechat_sandbox, "forged", GETIDLIST)) == 40001


def test_past_the_limit_45009_without_doing_the_work(wechat_sandbox):
    world = wechat_sandbox.state
    settings = set_quota(wechat_sandbox, {GETIDLIST: 2, BATCHGET: 1})
    assert settings["daily_quota"][TAGS] == 1_000  # an update merges
    token = grant(wechat_sandbox, demo.COFFEE_APPID)
    openid = demo.demo_openids(demo.COFFEE_APPID)[0]
    assert getidlist(wechat_sandbox, token, openid) == {"tagid_list": [2, 100]}
    assert getidlist(wechat_sandbox, token, openid) == {"tagid_list": [2, 100]}
    refused = getidlist(wechat_sandbox, token, openid)
    assert errcode(refused) == 45009
    assert refused["errmsg"].startswith("reach max api daily quota limit rid: ")
    assert quota(wechat_sandbox, token, GETIDLIST)["quota"] == {
        "daily_limit": 2,
        "used": 2,
        "remain": 0,
    }
    # Other paths and other accounts carry on.
    assert "tags" in wechat_call(wechat_sandbox, TAGS, method="GET", access_token=token)
    books = grant(wechat_sandbox, demo.BOOKS_APPID)
    assert "tagid_list" in getidlist(wechat_sandbox, books, demo.demo_openids(demo.BOOKS_APPID)[0])
    # batchget: the 45009 comes before the work (even a bad body is not looked at).
    users = {"user_list": [{"openid": openid}]}
    assert "user_info_list" in wechat_call(wechat_sandbox, BATCHGET, users, access_token=token)
    assert errcode(wechat_call(wechat_sandbox, BATCHGET, users, access_token=token)) == 45009
    assert errcode(wechat_call(wechat_sandbox, BATCHGET, {}, access_token=token)) == 45009
    assert world.calls("batchget", appid=demo.COFFEE_APPID) == 3


def test_counts_reset_at_midnight_china_time(wechat_sandbox):
    world = wechat_sandbox.state
    set_quota(wechat_sandbox, {GETIDLIST: 1})
    token = grant(wechat_sandbox, demo.COFFEE_APPID)
    openid = demo.demo_openids(demo.COFFEE_APPID)[0]
    # Move to 23:59:50 China time (15:59:50 UTC).
    now = world.now()
    midnight = (china_day(now) + 1) * 86400 - 8 * 3600
    world.advance_clock(midnight - 10 - now)
    assert china_day(world.now()) == china_day(midnight) - 1
    token = grant(wechat_sandbox, demo.COFFEE_APPID)
    assert "tagid_list" in getidlist(wechat_sandbox, token, openid)
    assert errcode(getidlist(wechat_sandbox, token, openid)) == 45009
    world.advance_clock(11)  # 00:00:01 the next day
    assert "tagid_list" in getidlist(wechat_sandbox, token, openid)
    assert quota(wechat_sandbox, token, GETIDLIST)["quota"]["used"] == 1


def test_daily_quota_setting_is_checked(wechat_sandbox):
    for bad in (
        {"tags/get": 5},
        {GETIDLIST: -1},
        {GETIDLIST: "many"},
        [GETIDLIST],
        {GETIDLIST: True},
    ):
        response = requests.post(
            wechat_sandbox.base_url + "/sandbox/settings", json={"daily_quota": bad}, timeout=5
        )
        assert response.status_code == 400, bad
    assert wechat_sandbox.state.settings.daily_quota[GETIDLIST] == 1_000_000


def test_daily_quota_as_a_start_knob(start_wechat_sandbox):
    sandbox = start_wechat_sandbox(daily_quota={TAGS: 1})
    token = grant(sandbox, demo.COFFEE_APPID)
    assert "tags" in wechat_call(sandbox, TAGS, method="GET", access_token=token)
    assert errcode(wechat_call(sandbox, TAGS, method="GET", access_token=token)) == 45009


def test_clear_quota_v2_resets_every_api_ten_times_a_month(wechat_sandbox):
    world = wechat_sandbox.state
    set_quota(wechat_sandbox, {GETIDLIST: 1, TAGS: 1})
    # Start of a China-time month, so ten clears and the month's turn stay in view.
    world.advance_clock(_next_china_month_start(world.now()) + 3600 - world.now())
    token = grant(wechat_sandbox, demo.COFFEE_APPID)
    openid = demo.demo_openids(demo.COFFEE_APPID)[0]
    for _ in range(10):
        assert "tagid_list" in getidlist(wechat_sandbox, token, openid)
        assert "tags" in wechat_call(wechat_sandbox, TAGS, method="GET", access_token=token)
        assert errcode(getidlist(wechat_sandbox, token, openid)) == 45009
        assert clear(wechat_sandbox, demo.COFFEE_APPID) == {"errcode": 0, "errmsg": "ok"}
        assert quota(wechat_sandbox, token, GETIDLIST)["quota"]["used"] == 0
        assert quota(wechat_sandbox, token, TAGS)["quota"]["used"] == 0
    refused = clear(wechat_sandbox, demo.COFFEE_APPID)
    assert errcode(refused) == 48006
    assert refused["errmsg"].startswith("forbid to clear quota because of reaching the limit")
    # Another account has its own ten; the next month (China time) gives ten more.
    grant(wechat_sandbox, demo.BOOKS_APPID)
    assert clear(wechat_sandbox, demo.BOOKS_APPID)["errcode"] == 0
    world.advance_clock(32 * 86400)
    token = grant(wechat_sandbox, demo.COFFEE_APPID)
    assert clear(wechat_sandbox, demo.COFFEE_APPID)["errcode"] == 0
    assert world.calls("clear_quota/v2", appid=demo.COFFEE_APPID) == 12


def test_clear_quota_v2_errors(wechat_sandbox):
    grant(wechat_sandbox, demo.COFFEE_APPID)
    assert errcode(clear(wechat_sandbox, demo.COFFEE_APPID, secret="wrong")) == 40125
    assert errcode(clear(wechat_sandbox, demo.COFFEE_APPID, secret="")) == 41004
    assert errcode(clear(wechat_sandbox, "wx00000000000000ff")) == 40013
    assert errcode(clear(wechat_sandbox, demo.BOOKS_APPID)) == 61003  # never authorized us
    assert errcode(clear(wechat_sandbox, demo.COFFEE_APPID, component_appid="wxnope")) == 40013
    no_appid = {"component_appid": demo.COMPONENT_APPID, "appsecret": demo.COMPONENT_APPSECRET}
    assert wechat_call(wechat_sandbox, CLEAR, no_appid) == {"errcode": 0, "errmsg": "ok"}
    assert errcode(wechat_call(wechat_sandbox, CLEAR, method="GET")) == 43002
    # None of the refused calls used up a clear.
    state = requests.get(wechat_sandbox.base_url + "/sandbox/state", timeout=5).json()
    assert state["quotas"]["clears_this_month"] == {demo.COMPONENT_APPID: 1}


def _next_china_month_start(now):
    from datetime import UTC, datetime

    from sandbox.quotas import CHINA

    moment = datetime.fromtimestamp(now, UTC).astimezone(CHINA)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return datetime(year, month, 1, tzinfo=CHINA).timestamp()
