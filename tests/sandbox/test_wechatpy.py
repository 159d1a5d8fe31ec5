"""A client that is not ours (wechatpy) talks to the sandbox unchanged, only pointed at it."""

import warnings
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from wechatpy.client import WeChatComponentClient
from wechatpy.component import WeChatComponent
from wechatpy.exceptions import WeChatClientException

from sandbox import demo


def wechatpy_component(sandbox, cgi_bin: str = "/cgi-bin"):
    """wechatpy's component client with its API origin moved to the sandbox (nothing patched).

    `cgi_bin` "/cgi-bin/": the base as wechatpy releases that spell it with a trailing slash
    (and its authorizer client) do, joined to "/component/...": every component call then
    goes to /cgi-bin//component/..., which WeChat serves."""

    class SandboxComponent(WeChatComponent):
        API_BASE_URL = sandbox.base_url + cgi_bin
        PRE_AUTH_URL = sandbox.base_url + "/cgi-bin/componentloginpage"

    return SandboxComponent(
        demo.COMPONENT_APPID, demo.COMPONENT_APPSECRET, demo.COMPONENT_TOKEN, demo.ENCODING_AES_KEY
    )


def authorizer_client(component, appid, sandbox):
    client = component.get_client_by_appid(appid)
    # WeChatComponentClient reads its origin from the instance, so this is configuration.
    client.API_BASE_URL = sandbox.base_url + "/cgi-bin/"
    assert isinstance(client, WeChatComponentClient)
    return client


@pytest.mark.parametrize("cgi_bin", ["/cgi-bin", "/cgi-bin/"], ids=["base", "double-slash"])
def test_wechatpy_end_to_end(start_wechat_sandbox, push_receiver, cgi_bin):
    sandbox = start_wechat_sandbox(callback_url=push_receiver.url)
    component = wechatpy_component(sandbox, cgi_bin)

    # 1. The pushed ticket, decrypted and cached by wechatpy itself.
    ticket_push = push_receiver.wait_for(1)[0]
    q = ticket_push.query
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        component.cache_component_verify_ticket(
            ticket_push.body, q["msg_signature"], q["timestamp"], q["nonce"]
        )
    assert component.component_verify_ticket == sandbox.state.ticket

    # 2. Component token (fetched lazily), pre-auth code, the authorization page.
    login_url = component.get_pre_auth_url("https://platform.example.com/callback?m=1")
    assert sandbox.state.calls("api_component_token") == 1
    assert sandbox.state.calls("api_create_preauthcode") == 1
    redirect = requests.get(login_url + "&auth_type=1", allow_redirects=False, timeout=5)
    assert redirect.status_code == 302
    auth_code = parse_qs(urlsplit(redirect.headers["Location"]).query)["auth_code"][0]

    # 3. The authorized event: wechatpy's parse_message exchanges the code itself.
    event = push_receiver.wait_for(2)[1]
    q = event.query
    message = component.parse_message(event.body, q["msg_signature"], q["timestamp"], q["nonce"])
    assert message.type == "authorized"
    assert message.authorization_code == auth_code
    info = message.query_auth_result["authorization_info"]
    assert info["authorizer_appid"] == demo.COFFEE_APPID
    refresh_token = info["authorizer_refresh_token"]

    # 4. Refresh the authorizer token: same refresh token back, a new access token.
    refreshed = component.refresh_authorizer_token(demo.COFFEE_APPID, refresh_token)
    assert refreshed["authorizer_refresh_token"] == refresh_token
    assert refreshed["authorizer_access_token"] != info["authorizer_access_token"]
    component.session.set(
        f"{demo.COFFEE_APPID}_access_token", refreshed["authorizer_access_token"], 7200
    )

    # 5. getidlist and tags/get through wechatpy's authorizer client.
    client = authorizer_client(component, demo.COFFEE_APPID, sandbox)
    openid = demo.demo_openids(demo.COFFEE_APPID)[0]
    assert client.tag.get_user_tag(openid) == [2, 100]
    assert {t["name"] for t in client.tag.get()} >= {"星标组", "VIP"}
    assert sandbox.state.calls("getidlist", appid=demo.COFFEE_APPID) == 1

    with pytest.raises(WeChatClientException) as refused:
        client.tag.get_user_tag(demo.demo_openids(demo.BOOKS_APPID)[0])
    assert refused.value.errcode == 49003

    # 6. Authorizer info and list, as wechatpy reads them.
    assert component.get_authorizer_info(demo.COFFEE_APPID)["authorizer_info"]["nick_name"] == (
        "Demo Coffee"
    )
    assert component.get_authorizer_list()["total_count"] == 1


def test_wechatpy_retries_after_the_component_token_expires(wechat_sandbox):
    component = wechatpy_component(wechat_sandbox)
    component.session.set("component_verify_ticket", wechat_sandbox.state.ticket)
    component.create_preauthcode()
    wechat_sandbox.state.expire_component_token()
    # wechatpy re-fetches its token on 42001 and retries once: the sandbox must say 42001.
    assert component.create_preauthcode()["expires_in"] == 600
    assert wechat_sandbox.state.calls("api_component_token") == 2


def test_wechatpy_refreshes_an_expired_authorizer_token(wechat_sandbox):
    component = wechatpy_component(wechat_sandbox)
    component.session.set("component_verify_ticket", wechat_sandbox.state.ticket)
    grant = wechat_sandbox.state.authorize(demo.COFFEE_APPID)
    component.session.set(f"{demo.COFFEE_APPID}_refresh_token", grant["authorizer_refresh_token"])
    component.session.set(f"{demo.COFFEE_APPID}_access_token", grant["authorizer_access_token"])
    client = authorizer_client(component, demo.COFFEE_APPID, wechat_sandbox)
    wechat_sandbox.state.expire_authorizer_token(demo.COFFEE_APPID)
    openid = demo.demo_openids(demo.COFFEE_APPID)[1]
    assert client.tag.get_user_tag(openid) == [100]
    assert wechat_sandbox.state.calls("api_authorizer_token", appid=demo.COFFEE_APPID) == 1
