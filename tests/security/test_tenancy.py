"""Tenant isolation on every merchant API endpoint, found from the URL resolver, so an
endpoint added later is covered (or fails here until someone says how to call it)."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from authorizers.services.api_keys import api_key_create
from sandbox.demo import BOOKS_APPID, COFFEE_APPID, demo_openid

from ..resilience.contract import check_api_response

pytestmark = pytest.mark.django_db

UNKNOWN_APPID = "wx00000000000000ff"
# Endpoints without an appid in the path, and why they cannot leak another merchant's rows.
WITHOUT_APPID = {
    "api/v1/authorizers/": "lists the caller's own accounts (checked below)",
    "api/v1/webhooks/": "lists the caller's own endpoints (tests/webhooks, per merchant)",
}
# Endpoints keyed by a webhook endpoint's id: another merchant's id is 404 on each of them,
# proven by tests/webhooks/test_delivery.py::test_endpoints_api_is_per_merchant.
BY_ENDPOINT_ID = {
    "api/v1/webhooks/<int:endpoint_id>/",
    "api/v1/webhooks/<int:endpoint_id>/rotate-secret",
    "api/v1/webhooks/<int:endpoint_id>/test",
    "api/v1/webhooks/<int:endpoint_id>/deliveries",
    "api/v1/webhooks/<int:endpoint_id>/deliveries/<str:msg_id>/replay",
}
PARAMETERS = {"appid", "openid"}
METHODS = ("get", "post", "put", "patch", "delete")


def api_v1_endpoints() -> list[tuple[str, URLPattern]]:
    found = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif route.startswith("api/v1/"):
                found.append((route, pattern))

    walk(get_resolver().url_patterns, "")
    return found


def _methods(pattern: URLPattern) -> list[str]:
    view = getattr(pattern.callback, "cls", None) or getattr(pattern.callback, "view_class", None)
    assert view is not None, f"{pattern}: not a class-based view; say how to call it here"
    return [m for m in METHODS if hasattr(view, m)]


def _url(route: str, appid: str) -> str:
    params = set(re.findall(r"<(?:\w+:)?(\w+)>", route))
    assert params <= PARAMETERS, f"{route}: new path parameter(s) {params - PARAMETERS}"
    url = re.sub(r"<(?:\w+:)?appid>", appid, route)
    return "/" + re.sub(r"<(?:\w+:)?openid>", demo_openid(appid, 0), url)


def test_the_resolver_finds_the_documented_endpoints():
    routes = {route for route, _ in api_v1_endpoints()}
    assert {
        "api/v1/authorizers/",
        "api/v1/authorizers/<str:appid>/",
        "api/v1/authorizers/<str:appid>/users/<str:openid>/tags",
        "api/v1/authorizers/<str:appid>/users/tags",
    } <= routes


def test_another_merchants_key_gets_404_on_every_endpoint(authorizer_factory, merchant, wechat_api):
    from authorizers.models import Merchant

    other = Merchant.objects.create(name="Merchant B")
    for appid in (COFFEE_APPID, BOOKS_APPID):
        authorizer_factory(appid=appid, merchant=merchant)
    owner, intruder = APIClient(), APIClient()
    owner.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(merchant=merchant)[1]}")
    intruder.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(merchant=other)[1]}")
    checked = 0
    for route, pattern in api_v1_endpoints():
        if "<" not in route:
            assert route in WITHOUT_APPID, f"{route}: a new endpoint without an appid; cover it"
            continue
        if "endpoint_id>" in route:
            assert route in BY_ENDPOINT_ID, f"{route}: a new webhook endpoint route; cover it"
            continue
        for method in _methods(pattern):
            body = {"openids": [demo_openid(COFFEE_APPID, 0)]} if method != "get" else None
            for appid in (COFFEE_APPID, BOOKS_APPID):
                url = _url(route, appid)
                own = getattr(owner, method)(url, body, format="json")
                assert own.status_code == 200, (url, own.content)  # and caches warmed
                calls = sum(wechat_api.state.counters.snapshot()["by_endpoint"].values())
                theirs = getattr(intruder, method)(url, body, format="json")
                unknown = getattr(intruder, method)(_url(route, UNKNOWN_APPID), body, format="json")
                assert check_api_response(theirs.status_code, theirs, theirs.content) == "not_found"
                assert theirs.json() == unknown.json(), url
                assert appid not in theirs.content.decode()
                after = sum(wechat_api.state.counters.snapshot()["by_endpoint"].values())
                assert after == calls, f"{url}: another merchant's request reached WeChat"
                checked += 1
    assert checked >= 4
    listing = intruder.get("/api/v1/authorizers/")
    assert listing.status_code == 200 and listing.json() == {"authorizers": [], "next": None}
    assert {a["appid"] for a in owner.get("/api/v1/authorizers/").json()["authorizers"]} == {
        COFFEE_APPID,
        BOOKS_APPID,
    }
