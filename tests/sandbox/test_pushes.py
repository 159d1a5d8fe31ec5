"""Encrypted pushes to the receive URL, decrypted by our crypto and by wechatpy's."""

import time

import requests
import xmltodict
from wechatpy.crypto import WeChatCrypto

from sandbox import demo
from tests.plugins.sandbox import fetch_component_token
from wechat.crypto import MessageCrypto, parse_xml_fields

PRODUCT_CRYPTO = MessageCrypto(demo.COMPONENT_TOKEN, demo.ENCODING_AES_KEY, demo.COMPONENT_APPID)
WECHATPY_CRYPTO = WeChatCrypto(demo.COMPONENT_TOKEN, demo.ENCODING_AES_KEY, demo.COMPONENT_APPID)


def decrypt_both(push):
    """Decrypt a received push with both implementations; they must agree."""
    q = push.query
    assert q["encrypt_type"] == "aes"
    ours = PRODUCT_CRYPTO.decrypt_push(
        body=push.body, msg_signature=q["msg_signature"], timestamp=q["timestamp"], nonce=q["nonce"]
    )
    theirs = WECHATPY_CRYPTO.decrypt_message(
        push.body, q["msg_signature"], q["timestamp"], q["nonce"]
    )
    assert ours == theirs
    return parse_xml_fields(ours)


def test_ticket_is_pushed_at_start_and_then_periodically(start_wechat_sandbox, push_receiver):
    sandbox = start_wechat_sandbox(callback_url=push_receiver.url, ticket_interval=0.2)
    pushes = push_receiver.wait_for(3)
    fields = [decrypt_both(p) for p in pushes[:3]]
    assert all(f["InfoType"] == "component_verify_ticket" for f in fields)
    assert all(f["AppId"] == demo.COMPONENT_APPID for f in fields)
    assert all(f["ComponentVerifyTicket"].startswith("ticket@@@") for f in fields)
    assert len({f["ComponentVerifyTicket"] for f in fields}) == 3
    envelope = xmltodict.parse(pushes[0].body)["xml"]
    assert envelope["AppId"] == demo.COMPONENT_APPID
    record = sandbox.pushes[0]
    assert (record["status"], record["body"], record["error"]) == (200, "success", None)


def test_pushed_ticket_buys_a_component_token(start_wechat_sandbox, push_receiver):
    sandbox = start_wechat_sandbox(callback_url=push_receiver.url)
    ticket = decrypt_both(push_receiver.wait_for(1)[0])["ComponentVerifyTicket"]
    assert ticket == sandbox.state.ticket
    assert fetch_component_token(sandbox)


def test_consent_pushes_authorized_then_updateauthorized(start_wechat_sandbox, push_receiver):
    sandbox = start_wechat_sandbox(callback_url=push_receiver.url)
    push_receiver.wait_for(1)  # the ticket
    before = int(time.time())
    first = sandbox.push("authorized", demo.BOOKS_APPID)
    second = sandbox.push("updateauthorized", demo.BOOKS_APPID, func_info=[1, 2, 100])
    assert first["status"] == second["status"] == 200
    pushes = push_receiver.wait_for(3)
    authorized, updated = decrypt_both(pushes[1]), decrypt_both(pushes[2])
    assert authorized["InfoType"] == "authorized"
    assert updated["InfoType"] == "updateauthorized"
    for fields in (authorized, updated):
        assert fields["AuthorizerAppid"] == demo.BOOKS_APPID
        assert fields["AuthorizationCode"].startswith("queryauthcode@@@")
        assert fields["PreAuthCode"].startswith("preauthcode@@@")
        created = int(fields["CreateTime"])
        assert created >= before
        assert int(fields["AuthorizationCodeExpiredTime"]) == created + 600
    assert sandbox.state.authorizers[demo.BOOKS_APPID].func_info == [1, 2, 100]


def test_login_page_consent_pushes_in_background(start_wechat_sandbox, push_receiver):
    sandbox = start_wechat_sandbox(callback_url=push_receiver.url)
    push_receiver.wait_for(1)
    code = sandbox.state.create_pre_auth_code()[0]
    response = requests.get(
        sandbox.base_url + "/cgi-bin/componentloginpage",
        params={
            "component_appid": demo.COMPONENT_APPID,
            "pre_auth_code": code,
            "redirect_uri": "http://127.0.0.1:1/cb",
            "auth_type": "3",
        },
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 302
    fields = decrypt_both(push_receiver.wait_for(2)[1])
    assert fields["InfoType"] == "authorized"
    assert fields["PreAuthCode"] == code
    assert fields["AuthorizationCode"] in response.headers["Location"].replace("%40", "@")


def test_unauthorized_push_revokes(start_wechat_sandbox, push_receiver):
    sandbox = start_wechat_sandbox(callback_url=push_receiver.url)
    push_receiver.wait_for(1)  # the ticket, pushed from another thread
    sandbox.state.authorize(demo.COFFEE_APPID)
    sandbox.push("unauthorized", demo.COFFEE_APPID)
    fields = decrypt_both(push_receiver.wait_for(2)[1])
    assert set(fields) == {"AppId", "CreateTime", "InfoType", "AuthorizerAppid"}
    assert fields["InfoType"] == "unauthorized"
    assert not sandbox.state.authorizers[demo.COFFEE_APPID].authorized


def test_a_failing_receiver_does_not_break_the_sandbox(start_wechat_sandbox, push_receiver):
    push_receiver.reply_status, push_receiver.reply_body = 500, b"boom"
    sandbox = start_wechat_sandbox(callback_url=push_receiver.url)
    push_receiver.wait_for(1)
    record = sandbox.push("component_verify_ticket")
    assert (record["status"], record["body"]) == (500, "boom")

    dead = start_wechat_sandbox(callback_url="http://127.0.0.1:9/nothing-listens")
    record = dead.push("component_verify_ticket")
    assert record["status"] is None
    assert "ConnectionError" in record["error"]
    assert fetch_component_token(dead)  # still serving, with the new ticket


def test_without_callback_pushes_are_only_logged(wechat_sandbox):
    record = wechat_sandbox.push("component_verify_ticket")
    assert record["error"] == "no callback URL configured"
    assert "<InfoType><![CDATA[component_verify_ticket]]></InfoType>" in record["plaintext"]
