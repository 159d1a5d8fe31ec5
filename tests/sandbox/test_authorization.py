"""The authorization page, api_query_auth, api_authorizer_token, authorizer info and list."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sandbox import demo
from sandbox.errors import WeChatError
from tests.plugins.sandbox import component_call, errcode, fetch_component_token

LOGIN = "/cgi-bin/componentloginpage"
REDIRECT = "https://platform.example.com/authorize/abc/callback/"


@pytest.fixture
def token(wechat_sandbox):
    return fetch_component_token(wechat_sandbox)


def pre_auth_code(sandbox, token):
    return component_call(sandbox, "api_create_preauthcode", token)["pre_auth_code"]


def open_login_page(sandbox, token, **params):
    query = {
        "component_appid": demo.COMPONENT_APPID,
        "pre_auth_code": pre_auth_code(sandbox, token),
        "redirect_uri": REDIRECT,
        "auth_type": "1",
    } | params
    return requests.get(sandbox.base_url + LOGIN, params=query, allow_redirects=False, timeout=5)


def consent(sandbox, token, **params):
    """Run the page; return the auth_code it redirected back with."""
    response = open_login_page(sandbox, token, **params)
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["Location"]).query)["auth_code"][0]


def test_create_preauthcode(wechat_sandbox, token):
    result = component_call(wechat_sandbox, "api_create_preauthcode", token)
    assert result["expires_in"] == 600
    assert result["pre_auth_code"].startswith("preauthcode@@@")


def test_login_page_consents_and_redirects(wechat_sandbox, token):
    response = open_login_page(wechat_sandbox, token)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location._replace(query="").geturl() == REDIRECT
    query = parse_qs(location.query)
    assert query["expires_in"] == ["600"]
    assert query["auth_code"][0].startswith("queryauthcode@@@")
    info = component_call(
        wechat_sandbox, "api_query_auth", token, authorization_code=query["auth_code"][0]
    )["authorization_info"]
    assert info["authorizer_appid"] == demo.DEFAULT_CONSENT_APPID


def test_login_page_keeps_an_existing_query_and_honours_biz_appid(wechat_sandbox, token):
    response = open_login_page(
        wechat_sandbox, token, redirect_uri=REDIRECT + "?state=xyz#top", biz_appid=demo.BOOKS_APPID
    )
    location = urlsplit(response.headers["Location"])
    assert location.fragment == "top"
    assert location.query.startswith("state=xyz&auth_code=")
    code = parse_qs(location.query)["auth_code"][0]
    info = component_call(wechat_sandbox, "api_query_auth", token, authorization_code=code)
    assert info["authorization_info"]["authorizer_appid"] == demo.BOOKS_APPID


def test_consenting_account_is_selectable(wechat_sandbox, token):
    wechat_sandbox.state.consent_appid = demo.BAKERY_APPID
    code = consent(wechat_sandbox, token)
    info = component_call(wechat_sandbox, "api_query_auth", token, authorization_code=code)
    assert info["authorization_info"]["authorizer_appid"] == demo.BAKERY_APPID


@pytest.mark.parametrize(
    "params",
    [
        {"pre_auth_code": "preauthcode@@@forged"},
        {"component_appid": "wx0000000000000bad"},
        {"redirect_uri": "not a url"},
        {"auth_type": "9"},
        {"biz_appid": "wx0000000000000bad"},
    ],
)
def test_login_page_refusals_are_html_pages(wechat_sandbox, token, params):
    response = open_login_page(wechat_sandbox, token, **params)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "授权失败" in response.text


def test_pre_auth_code_is_single_use_and_expires(wechat_sandbox, token):
    code = pre_auth_code(wechat_sandbox, token)
    query = {"component_appid": demo.COMPONENT_APPID, "pre_auth_code": code}
    query["redirect_uri"] = REDIRECT
    url = wechat_sandbox.base_url + LOGIN
    assert requests.get(url, params=query, allow_redirects=False).status_code == 302
    again = requests.get(url, params=query, allow_redirects=False)
    assert again.status_code == 200
    assert "invalid" in again.text

    query["pre_auth_code"] = pre_auth_code(wechat_sandbox, token)
    wechat_sandbox.state.advance_clock(601)
    assert "expired" in requests.get(url, params=query, allow_redirects=False).text


def test_query_auth(wechat_sandbox, token):
    code = consent(wechat_sandbox, token)
    info = component_call(wechat_sandbox, "api_query_auth", token, authorization_code=code)
    info = info["authorization_info"]
    assert info["authorizer_appid"] == demo.COFFEE_APPID
    assert info["expires_in"] == 7200
    assert info["authorizer_refresh_token"].startswith("refreshtoken@@@")
    assert info["func_info"] == [{"funcscope_category": {"id": i}} for i in (1, 2, 3)]
    # Used codes and unknown codes are both invalid.
    used = component_call(wechat_sandbox, "api_query_auth", token, authorization_code=code)
    assert errcode(used) == 61009
    bogus = component_call(wechat_sandbox, "api_query_auth", token, authorization_code="x")
    assert errcode(bogus) == 61009
    assert errcode(component_call(wechat_sandbox, "api_query_auth", token)) == 47001


def test_auth_code_expires(wechat_sandbox, token):
    code = consent(wechat_sandbox, token)
    wechat_sandbox.state.advance_clock(601)
    result = component_call(wechat_sandbox, "api_query_auth", token, authorization_code=code)
    assert errcode(result) == 61010


def refresh(sandbox, token, appid, refresh_token):
    return component_call(
        sandbox,
        "api_authorizer_token",
        token,
        authorizer_appid=appid,
        authorizer_refresh_token=refresh_token,
    )


def test_refresh_echoes_the_refresh_token_and_kills_the_old_access_token(wechat_sandbox, token):
    grant = wechat_sandbox.state.authorize(demo.COFFEE_APPID)
    rt = grant["authorizer_refresh_token"]
    result = refresh(wechat_sandbox, token, demo.COFFEE_APPID, rt)
    assert set(result) == {"authorizer_access_token", "expires_in", "authorizer_refresh_token"}
    assert result["authorizer_refresh_token"] == rt
    assert result["authorizer_access_token"] != grant["authorizer_access_token"]
    world = wechat_sandbox.state
    with pytest.raises(WeChatError) as dead:
        world.authorizer_for_token(grant["authorizer_access_token"])
    assert dead.value.errcode == 40001
    assert world.authorizer_for_token(result["authorizer_access_token"]).appid == demo.COFFEE_APPID
    assert world.calls("api_authorizer_token", appid=demo.COFFEE_APPID) == 1
    assert world.calls("api_authorizer_token", appid=demo.BOOKS_APPID) == 0


def test_old_access_token_survives_within_grace(start_wechat_sandbox):
    sandbox = start_wechat_sandbox(token_grace_seconds=300)
    token = fetch_component_token(sandbox)
    grant = sandbox.state.authorize(demo.COFFEE_APPID)
    refresh(sandbox, token, demo.COFFEE_APPID, grant["authorizer_refresh_token"])
    old = grant["authorizer_access_token"]
    assert sandbox.state.authorizer_for_token(old).appid == demo.COFFEE_APPID
    sandbox.state.advance_clock(301)
    with pytest.raises(WeChatError) as dead:
        sandbox.state.authorizer_for_token(old)
    assert dead.value.errcode == 40001


def test_refresh_token_rotation(start_wechat_sandbox):
    sandbox = start_wechat_sandbox(rotate_refresh_token=True, refresh_token_grace_seconds=60)
    token = fetch_component_token(sandbox)
    first = sandbox.state.authorize(demo.COFFEE_APPID)["authorizer_refresh_token"]
    second = refresh(sandbox, token, demo.COFFEE_APPID, first)["authorizer_refresh_token"]
    assert second != first
    assert "authorizer_access_token" in refresh(sandbox, token, demo.COFFEE_APPID, second)
    sandbox.state.advance_clock(61)
    assert errcode(refresh(sandbox, token, demo.COFFEE_APPID, first)) == 61023


def test_refresh_refusals(wechat_sandbox, token):
    world = wechat_sandbox.state
    rt = world.authorize(demo.COFFEE_APPID)["authorizer_refresh_token"]
    assert errcode(refresh(wechat_sandbox, token, demo.COFFEE_APPID, "refreshtoken@@@no")) == 61023
    # Another account's refresh token is just as wrong.
    assert errcode(refresh(wechat_sandbox, token, demo.BOOKS_APPID, rt)) == 61003
    world.authorize(demo.BOOKS_APPID)
    assert errcode(refresh(wechat_sandbox, token, demo.BOOKS_APPID, rt)) == 61023
    world.revoke(demo.COFFEE_APPID)
    assert errcode(refresh(wechat_sandbox, token, demo.COFFEE_APPID, rt)) == 61003
    missing = component_call(
        wechat_sandbox, "api_authorizer_token", token, authorizer_appid=demo.COFFEE_APPID
    )
    assert errcode(missing) == 47001


def test_reauthorizing_replaces_the_refresh_token(wechat_sandbox, token):
    code = consent(wechat_sandbox, token)
    info = component_call(wechat_sandbox, "api_query_auth", token, authorization_code=code)
    old = info["authorization_info"]["authorizer_refresh_token"]
    code = consent(wechat_sandbox, token)
    info = component_call(wechat_sandbox, "api_query_auth", token, authorization_code=code)
    assert info["authorization_info"]["authorizer_refresh_token"] != old
    assert errcode(refresh(wechat_sandbox, token, demo.COFFEE_APPID, old)) == 61023


def test_get_authorizer_info(wechat_sandbox, token):
    call = {"authorizer_appid": demo.BOOKS_APPID}
    assert errcode(component_call(wechat_sandbox, "api_get_authorizer_info", token, **call)) == (
        61003
    )
    rt = wechat_sandbox.state.authorize(demo.BOOKS_APPID)["authorizer_refresh_token"]
    result = component_call(wechat_sandbox, "api_get_authorizer_info", token, **call)
    info = result["authorizer_info"]
    assert info["nick_name"] == "Demo Books"
    assert info["service_type_info"]["id"] == 2
    assert info["verify_type_info"]["id"] == 0
    assert info["user_name"].startswith("gh_")
    assert info["account_status"] == 1
    assert {"principal_name", "alias", "head_img", "qrcode_url", "business_info"} <= set(info)
    assert result["authorization_info"] == {
        "authorizer_appid": demo.BOOKS_APPID,
        "authorizer_refresh_token": rt,
        "func_info": [{"funcscope_category": {"id": 1}}, {"funcscope_category": {"id": 100}}],
    }
    wechat_sandbox.state.authorize(demo.SUBSCRIPTION_APPID)
    sub = component_call(
        wechat_sandbox, "api_get_authorizer_info", token, authorizer_appid=demo.SUBSCRIPTION_APPID
    )
    assert sub["authorizer_info"]["service_type_info"]["id"] == 0


def test_get_authorizer_list(wechat_sandbox, token):
    listing = component_call(wechat_sandbox, "api_get_authorizer_list", token, offset=0, count=10)
    assert listing == {"total_count": 0, "list": []}
    consent(wechat_sandbox, token)  # consented, code not yet exchanged
    wechat_sandbox.state.authorize(demo.BOOKS_APPID)
    listing = component_call(wechat_sandbox, "api_get_authorizer_list", token, offset=0, count=10)
    assert listing["total_count"] == 2
    by_appid = {row["authorizer_appid"]: row for row in listing["list"]}
    assert by_appid[demo.COFFEE_APPID]["refresh_token"] == ""
    assert by_appid[demo.BOOKS_APPID]["refresh_token"].startswith("refreshtoken@@@")
    assert by_appid[demo.BOOKS_APPID]["auth_time"] > 1_600_000_000
    page = component_call(wechat_sandbox, "api_get_authorizer_list", token, offset=1, count=1)
    assert page["total_count"] == 2
    assert len(page["list"]) == 1
    too_many = component_call(wechat_sandbox, "api_get_authorizer_list", token, count=501)
    assert errcode(too_many) == 40170
    bad = component_call(wechat_sandbox, "api_get_authorizer_list", token, offset="x")
    assert errcode(bad) == 47001
