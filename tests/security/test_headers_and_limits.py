"""Security headers on every kind of response, and the receiver's request body limit.

`manage.py check --deploy --fail-level WARNING` with the production environment of
.env.example and of the Kubernetes ConfigMap is already asserted by
tests/deploy/test_deploy_files.py::test_check_deploy_is_clean_with_the_documented_production_values
(not repeated here).
"""

from __future__ import annotations

import socket
from urllib.parse import urlencode

import pytest
import requests
from django.conf import settings
from django.test import Client

from component.models import ComponentEvent, ComponentState
from tests.component.pushes import push_xml
from wechat.crypto import MAX_BODY_LEN, MessageCrypto

HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}
# same-origin everywhere, except the onboarding page: WeChat's authorization page checks the
# Referer comes from the platform's domain, so that page sends its origin (never the path).
REFERRER_POLICIES = {"same-origin", "strict-origin-when-cross-origin", "strict-origin"}
PAGES = [
    ("get", "/healthz"),
    ("get", "/api/v1/authorizers/"),  # 401 JSON
    ("get", "/api/v1/nowhere"),  # 404 JSON
    ("get", "/api/schema/"),
    ("get", "/admin/login/"),
    ("get", "/admin/"),  # redirect
    ("get", "/authorize/not-a-valid-invite/"),
    ("post", "/wechat/component/events/"),  # 400
    ("get", "/wechat/component/events/"),  # 405
    ("get", "/no-such-page"),
]


def _assert_headers(response, where: str) -> None:
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (where, name, response.headers.get(name))
    assert response.headers.get("Referrer-Policy") in REFERRER_POLICIES, where


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url"), PAGES)
def test_security_headers(method, url):
    response = getattr(Client(raise_request_exception=False), method)(url)
    assert response.status_code < 500, (url, response.status_code)
    _assert_headers(response, url)


@pytest.mark.django_db(transaction=True)
def test_security_headers_over_http(live_server):
    for method, url in PAGES:
        response = requests.request(
            method, live_server.url + url, timeout=10, allow_redirects=False
        )
        assert response.status_code < 500, url
        _assert_headers(response, url)


def _push() -> tuple[dict[str, str], bytes]:
    crypto = MessageCrypto(
        settings.WECHAT_COMPONENT_TOKEN,
        settings.WECHAT_COMPONENT_ENCODING_AES_KEY,
        settings.WECHAT_COMPONENT_APPID,
    )
    xml = push_xml("component_verify_ticket", 1_700_000_000, ComponentVerifyTicket="ticket@@@big")
    return crypto.encrypt_push(xml)


def _nothing_stored() -> bool:
    return not ComponentEvent.objects.exists() and not ComponentState.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("size", [MAX_BODY_LEN + 1, 2 * 1024 * 1024, 20 * 1024 * 1024])
def test_oversized_push_is_refused_and_stores_nothing(size):
    params, body = _push()
    padded = body + b" " * (size - len(body))  # still a valid push, just too big
    response = Client(raise_request_exception=False).post(
        f"/wechat/component/events/?{urlencode(params)}", data=padded, content_type="text/xml"
    )
    assert response.status_code in (400, 413)
    assert _nothing_stored()


@pytest.mark.django_db(transaction=True)
def test_oversized_push_over_http(live_server):
    params, body = _push()
    url = f"{live_server.url}/wechat/component/events/?{urlencode(params)}"
    big = body + b" " * (4 * 1024 * 1024)
    response = requests.post(url, data=big, headers={"Content-Type": "text/xml"}, timeout=30)
    assert response.status_code in (400, 413)
    # A client that declares a huge body and never sends it: refused from the header alone.
    host, port = live_server.thread.host, live_server.thread.port
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(
            f"POST /wechat/component/events/?{urlencode(params)} HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: text/xml\r\nContent-Length: {10**9}\r\n\r\n".encode()
        )
        status = sock.recv(100).split(b" ", 2)[1]
    assert status == b"413"
    assert _nothing_stored()
    # The same push at its normal size is taken.
    ok = requests.post(url, data=body, headers={"Content-Type": "text/xml"}, timeout=10)
    assert (ok.status_code, ok.text) == (200, "success")
