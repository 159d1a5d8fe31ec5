"""openapi/rid/get: the request behind an error answer's rid, for the account that made it."""

import json

from sandbox import demo
from sandbox.rids import rid_of
from tests.plugins.sandbox import errcode, fetch_component_token, wechat_call

GETIDLIST = "/cgi-bin/tags/getidlist"
RID_GET = "/cgi-bin/openapi/rid/get"


def grant(sandbox, appid):
    return sandbox.state.authorize(appid)["authorizer_access_token"]


def rid_get(sandbox, token, rid):
    return wechat_call(sandbox, RID_GET, {"rid": rid}, access_token=token)


def test_an_error_answers_rid_looks_up_its_request(wechat_sandbox):
    world = wechat_sandbox.state
    token = grant(wechat_sandbox, demo.COFFEE_APPID)
    body = {"openid": "o" + "x" * 27}
    failed = wechat_call(wechat_sandbox, GETIDLIST, body, access_token=token)
    assert errcode(failed) == 40003
    rid = rid_of(failed["errmsg"])
    assert int(rid.split("-")[0], 16) == int(world.now())  # the sandbox clock's unix time

    found = rid_get(wechat_sandbox, token, rid)
    assert found["errcode"] == 0 and found["errmsg"] == "ok"
    request = found["request"]
    assert set(request) == {
        "invoke_time",
        "cost_in_ms",
        "request_url",
        "request_body",
        "response_body",
        "client_ip",
    }
    assert abs(request["invoke_time"] - world.now()) < 5
    assert isinstance(request["cost_in_ms"], int) and request["cost_in_ms"] >= 0
    assert request["request_url"].startswith(GETIDLIST + "?access_token=")
    assert token not in request["request_url"]
    assert request["request_url"].endswith(token[:6] + "***")
    assert json.loads(request["request_body"]) == body
    assert json.loads(request["response_body"]) == failed
    assert request["client_ip"] == "127.0.0.1"


def test_only_the_calling_account_sees_its_rid(wechat_sandbox):
    coffee = grant(wechat_sandbox, demo.COFFEE_APPID)
    books = grant(wechat_sandbox, demo.BOOKS_APPID)
    failed = wechat_call(wechat_sandbox, GETIDLIST, {"openid": "nobody"}, access_token=coffee)
    rid = rid_of(failed["errmsg"])
    assert errcode(rid_get(wechat_sandbox, books, rid)) == 76001
    assert errcode(rid_get(wechat_sandbox, fetch_component_token(wechat_sandbox), rid)) == 76001
    assert rid_get(wechat_sandbox, coffee, rid)["errcode"] == 0


def test_component_calls_belong_to_the_component(wechat_sandbox):
    component = fetch_component_token(wechat_sandbox)
    body = {
        "component_appid": demo.COMPONENT_APPID,
        "authorizer_appid": demo.COFFEE_APPID,
        "authorizer_refresh_token": "refreshtoken@@@wrong",
    }
    failed = wechat_call(
        wechat_sandbox,
        "/cgi-bin/component/api_authorizer_token",
        body,
        component_access_token=component,
    )
    assert errcode(failed) == 61003
    found = rid_get(wechat_sandbox, component, rid_of(failed["errmsg"]))
    assert found["request"]["request_url"].startswith(
        "/cgi-bin/component/api_authorizer_token?component_access_token="
    )
    # A tokenless call that names the component; its secret is masked in the record.
    wrong_secret = {
        "component_appid": demo.COMPONENT_APPID,
        "component_appsecret": "not-the-secret",
        "component_verify_ticket": wechat_sandbox.state.ticket,
    }
    refused = wechat_call(wechat_sandbox, "/cgi-bin/component/api_component_token", wrong_secret)
    assert errcode(refused) == 40125
    request = rid_get(wechat_sandbox, component, rid_of(refused["errmsg"]))["request"]
    assert "not-the-secret" not in request["request_body"]
    assert json.loads(request["request_body"])["component_appsecret"] == "***"


def test_injected_faults_are_recorded_too(wechat_sandbox):
    token = grant(wechat_sandbox, demo.COFFEE_APPID)
    wechat_sandbox.set_faults(quota_rate=1, path_prefix=GETIDLIST, count=1)
    failed = wechat_call(wechat_sandbox, GETIDLIST, {"openid": "x"}, access_token=token)
    assert errcode(failed) == 45009
    request = rid_get(wechat_sandbox, token, rid_of(failed["errmsg"]))["request"]
    assert json.loads(request["response_body"])["errcode"] == 45009


def test_unknown_old_and_malformed_rids(wechat_sandbox):
    world = wechat_sandbox.state
    token = grant(wechat_sandbox, demo.COFFEE_APPID)
    assert errcode(rid_get(wechat_sandbox, token, "61725984-6126f6f9-040f19c4")) == 76001
    assert errcode(rid_get(wechat_sandbox, token, "not-a-rid")) == 76002
    assert errcode(rid_get(wechat_sandbox, token, "61725984-6126F6F9-040f19c4")) == 76002
    assert errcode(wechat_call(wechat_sandbox, RID_GET, {}, access_token=token)) == 47001
    assert errcode(wechat_call(wechat_sandbox, RID_GET, {"rid": "x"})) == 41001
    assert errcode(rid_get(wechat_sandbox, "forged", "61725984-6126f6f9-040f19c4")) == 40001

    failed = wechat_call(wechat_sandbox, GETIDLIST, {"openid": "x"}, access_token=token)
    rid = rid_of(failed["errmsg"])
    world.advance_clock(6 * 86400)
    token = grant(wechat_sandbox, demo.COFFEE_APPID)
    assert rid_get(wechat_sandbox, token, rid)["errcode"] == 0
    world.advance_clock(86400 + 1)  # over 7 days
    token = grant(wechat_sandbox, demo.COFFEE_APPID)
    assert errcode(rid_get(wechat_sandbox, token, rid)) == 76001


def test_successful_answers_carry_no_rid(wechat_sandbox):
    token = grant(wechat_sandbox, demo.COFFEE_APPID)
    openid = demo.demo_openids(demo.COFFEE_APPID)[0]
    assert wechat_call(wechat_sandbox, GETIDLIST, {"openid": openid}, access_token=token) == {
        "tagid_list": [2, 100]
    }
    assert len(wechat_sandbox.state.rids) == 0
