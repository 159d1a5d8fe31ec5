"""The authorization page's form for a person in a browser (settings.interactive_login)."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sandbox import demo
from tests.plugins.sandbox import component_call, fetch_component_token

LOGIN = "/cgi-bin/componentloginpage"
REDIRECT = "https://platform.example.com/authorize/abc/callback/?state=s1"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def sandbox(start_wechat_sandbox):
    return start_wechat_sandbox(interactive_login=True)


def link(sandbox, **params):
    token = fetch_component_token(sandbox)
    code = component_call(sandbox, "api_create_preauthcode", token)["pre_auth_code"]
    query = {
        "component_appid": demo.COMPONENT_APPID,
        "pre_auth_code": code,
        "redirect_uri": REDIRECT,
        "auth_type": "1",
    } | params
    return sandbox.base_url + LOGIN, query, token


def open_page(url, query, accept=BROWSER_ACCEPT):
    return requests.get(
        url, params=query, headers={"Accept": accept}, allow_redirects=False, timeout=5
    )


def submit(url, query, appid, func_info):
    return requests.post(
        url,
        params=query,
        data={"authorizer_appid": appid, "func_info": [str(i) for i in func_info]},
        allow_redirects=False,
        timeout=5,
    )


def checked_sets(page):
    return sorted(int(v) for v in re.findall(r"name='func_info' value='(\d+)' checked", page))


def test_a_browser_gets_a_form_with_the_demo_accounts(sandbox):
    url, query, _ = link(sandbox)
    page = open_page(url, query)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    text = page.text
    assert "<form method='post'" in text
    for account in demo.DEMO_AUTHORIZERS.values():
        assert account.nick_name in text and account.appid in text
    # The selected account (the default consent account) is chosen, its demo grant ticked.
    assert f"value='{demo.DEFAULT_CONSENT_APPID}' data-grant='1,2,3' checked" in text
    assert checked_sets(text) == [1, 2, 3]
    assert "value='100'" in text
    # Showing the form used up nothing and authorized nobody.
    assert query["pre_auth_code"] in sandbox.state.pre_auth_codes
    assert not sandbox.state.authorizers[demo.DEFAULT_CONSENT_APPID].authorized


def test_submitting_consents_as_the_chosen_account_with_the_chosen_grant(sandbox):
    url, query, token = link(sandbox)
    open_page(url, query)
    answer = submit(url, query, demo.BAKERY_APPID, [1, 2, 100])
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["Location"])
    assert location._replace(query="").geturl() == REDIRECT.split("?")[0]
    params = parse_qs(location.query)
    assert params["state"] == ["s1"]
    assert params["expires_in"] == ["600"]
    info = component_call(
        sandbox, "api_query_auth", token, authorization_code=params["auth_code"][0]
    )["authorization_info"]
    assert info["authorizer_appid"] == demo.BAKERY_APPID
    assert info["func_info"] == [{"funcscope_category": {"id": i}} for i in (1, 2, 100)]
    assert sandbox.state.authorizers[demo.BAKERY_APPID].func_info == [1, 2, 100]
    # The pre_auth_code is used up now.
    again = submit(url, query, demo.BAKERY_APPID, [1])
    assert again.status_code == 200 and "invalid" in again.text


def test_biz_appid_narrows_the_form_to_that_account(sandbox):
    url, query, _ = link(sandbox, biz_appid=demo.BOOKS_APPID)
    text = open_page(url, query).text
    assert demo.BOOKS_APPID in text and demo.COFFEE_APPID not in text
    assert checked_sets(text) == [1, 100]
    refused = submit(url, query, demo.COFFEE_APPID, [1, 2])
    assert refused.status_code == 200 and "授权失败" in refused.text
    assert submit(url, query, demo.BOOKS_APPID, [2]).status_code == 302


def test_form_refusals(sandbox):
    url, query, _ = link(sandbox)
    assert "授权失败" in submit(url, query, demo.COFFEE_APPID, []).text  # nothing granted
    assert "授权失败" in submit(url, query, "wx0000000000000bad", [1]).text
    bad = requests.post(
        url, params=query, data={"authorizer_appid": demo.COFFEE_APPID, "func_info": "x"}, timeout=5
    )
    assert "授权失败" in bad.text
    # A broken link is refused before any form is shown.
    assert "授权失败" in open_page(url, query | {"component_appid": "wxbad"}).text
    assert "授权失败" in open_page(url, query | {"pre_auth_code": "preauthcode@@@x"}).text
    # The refusals above used nothing up: the link still works.
    assert submit(url, query, demo.COFFEE_APPID, [1, 2]).status_code == 302


def test_scripts_still_consent_at_once(sandbox):
    """requests sends Accept: */*; demo_onboard.py and the product's tests rely on that."""
    url, query, _ = link(sandbox)
    assert open_page(url, query, accept="*/*").status_code == 302
    url, query, _ = link(sandbox)
    assert open_page(url, query, accept="application/json").status_code == 302
    url, query, _ = link(sandbox)
    assert open_page(url, query, accept="text/html;q=0").status_code == 302
    url, query, _ = link(sandbox)
    plain = requests.get(url, params=query, allow_redirects=False, timeout=5)  # its own Accept
    assert plain.status_code == 302


def test_without_interactive_login_a_browser_consents_at_once(wechat_sandbox):
    assert wechat_sandbox.state.settings.interactive_login is False
    url, query, _ = link(wechat_sandbox)
    assert open_page(url, query).status_code == 302
    # It can be switched on at run time.
    requests.post(
        wechat_sandbox.base_url + "/sandbox/settings", json={"interactive_login": True}, timeout=5
    )
    url, query, _ = link(wechat_sandbox)
    assert "<form" in open_page(url, query).text
