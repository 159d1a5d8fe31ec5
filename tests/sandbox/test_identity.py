"""The component's identity comes from the caller (flags, the project's settings), not demo.py."""

import pytest

from sandbox import demo
from sandbox.management.commands import wechat_sandbox as command
from sandbox.state import ComponentIdentity
from tests.plugins.sandbox import errcode, wechat_call
from wechat.crypto import MessageCrypto, MessageCryptoError, parse_xml_fields

CUSTOM = ComponentIdentity(
    appid="wx0custom0component",
    appsecret="custom-secret-abcdef0123456789",
    token="customtoken",
    encoding_aes_key="ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut",
)


def decrypt(crypto, push):
    q = push.query
    return crypto.decrypt_push(
        body=push.body, msg_signature=q["msg_signature"], timestamp=q["timestamp"], nonce=q["nonce"]
    )


def test_pushes_are_signed_with_the_configured_identity(start_wechat_sandbox, push_receiver):
    sandbox = start_wechat_sandbox(callback_url=push_receiver.url, component=CUSTOM)
    push = push_receiver.wait_for(1)[0]
    ours = MessageCrypto(CUSTOM.token, CUSTOM.encoding_aes_key, CUSTOM.appid)
    fields = parse_xml_fields(decrypt(ours, push))
    assert fields["AppId"] == CUSTOM.appid
    assert fields["ComponentVerifyTicket"] == sandbox.state.ticket
    demo_crypto = MessageCrypto(demo.COMPONENT_TOKEN, demo.ENCODING_AES_KEY, demo.COMPONENT_APPID)
    with pytest.raises(MessageCryptoError):
        decrypt(demo_crypto, push)
    # The demo token with the custom key fails on the signature; the right token with the demo
    # key fails on decryption.
    with pytest.raises(MessageCryptoError):
        decrypt(MessageCrypto(demo.COMPONENT_TOKEN, CUSTOM.encoding_aes_key, CUSTOM.appid), push)
    with pytest.raises(MessageCryptoError):
        decrypt(MessageCrypto(CUSTOM.token, demo.ENCODING_AES_KEY, CUSTOM.appid), push)


def test_the_apis_check_the_configured_appid_and_secret(start_wechat_sandbox):
    sandbox = start_wechat_sandbox(component=CUSTOM)
    path = "/cgi-bin/component/api_component_token"
    body = {
        "component_appid": CUSTOM.appid,
        "component_appsecret": CUSTOM.appsecret,
        "component_verify_ticket": sandbox.state.ticket,
    }
    assert "component_access_token" in wechat_call(sandbox, path, body)
    demo_secret = body | {"component_appsecret": demo.COMPONENT_APPSECRET}
    assert errcode(wechat_call(sandbox, path, demo_secret)) == 40125
    assert errcode(
        wechat_call(sandbox, path, body | {"component_appid": demo.COMPONENT_APPID})
    ) == (40013)


def test_a_bad_identity_is_refused():
    with pytest.raises(ValueError, match="EncodingAESKey"):
        ComponentIdentity(encoding_aes_key="short")
    with pytest.raises(ValueError, match="appid"):
        ComponentIdentity(appid="")


def _parse(*argv):
    parser = command.Command().create_parser("manage.py", "wechat_sandbox")
    return vars(parser.parse_args(argv))


def test_the_command_defaults_to_the_projects_settings(settings):
    settings.WECHAT_COMPONENT_APPID = CUSTOM.appid
    settings.WECHAT_COMPONENT_APPSECRET = CUSTOM.appsecret
    settings.WECHAT_COMPONENT_TOKEN = CUSTOM.token
    settings.WECHAT_COMPONENT_ENCODING_AES_KEY = CUSTOM.encoding_aes_key
    assert command.component_identity(_parse()) == CUSTOM


def test_the_commands_flags_win(settings):
    settings.WECHAT_COMPONENT_APPID = "wx0from0settings00"
    opts = _parse(
        "--component-appid", CUSTOM.appid,
        "--component-secret", CUSTOM.appsecret,
        "--component-token", CUSTOM.token,
        "--encoding-aes-key", CUSTOM.encoding_aes_key,
        "--daily-quota", "/cgi-bin/tags/getidlist=7",
        "--daily-quota", "/cgi-bin/tags/get=3",
    )  # fmt: skip
    assert command.component_identity(opts) == CUSTOM
    assert command.daily_quota(opts["daily_quota"]) == {
        "/cgi-bin/tags/getidlist": 7,
        "/cgi-bin/tags/get": 3,
    }
    assert opts["interactive_login"] is True
    assert _parse("--no-interactive-login")["interactive_login"] is False


def test_a_bad_daily_quota_flag_is_refused():
    from django.core.management.base import CommandError

    for spec in ("/cgi-bin/tags/get", "/cgi-bin/tags/get=many", "/cgi-bin/tags/get=-1"):
        with pytest.raises(CommandError):
            command.daily_quota([spec])
