"""Build and post authorization-event pushes the way WeChat (and the sandbox) sends them."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings

from sandbox.pusher import event_xml
from wechat.crypto import MessageCrypto

EVENTS_URL = "/wechat/component/events/"


def push_xml(info_type: str, create_time: int, **fields: str | int) -> str:
    return event_xml(settings.WECHAT_COMPONENT_APPID, info_type, create_time, fields)


def consent_xml(consent, create_time: int | None = None, info_type: str = "authorized") -> str:
    """The push WeChat sends for a sandbox consent (sandbox.state.Consent)."""
    return push_xml(
        info_type,
        int(time.time()) if create_time is None else create_time,
        AuthorizerAppid=consent.authorizer_appid,
        AuthorizationCode=consent.auth_code,
        PreAuthCode=consent.pre_auth_code,
    )


def encrypt(xml: str, *, appid: str | None = None, token: str | None = None):
    crypto = MessageCrypto(
        token or settings.WECHAT_COMPONENT_TOKEN,
        settings.WECHAT_COMPONENT_ENCODING_AES_KEY,
        appid or settings.WECHAT_COMPONENT_APPID,
    )
    return crypto.encrypt_push(xml)


def post(client, params: dict[str, str], body: bytes):
    return client.post(f"{EVENTS_URL}?{urlencode(params)}", data=body, content_type="text/xml")


def deliver(client, xml: str):
    """Encrypt and post: a fresh IV each time, as WeChat's retries are."""
    return post(client, *encrypt(xml))
