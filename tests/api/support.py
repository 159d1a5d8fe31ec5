"""Shared by tests/api and tests/tags: merchants with API keys, onboarded demo accounts,
an API client, and what the sandbox counted."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from sandbox.demo import (
    BAKERY_APPID,
    BOOKS_APPID,
    COFFEE_APPID,
    SUBSCRIPTION_APPID,
    UNVERIFIED_APPID,
    demo_openid,
)

__all__ = [
    "BAKERY_APPID",
    "BOOKS_APPID",
    "COFFEE_APPID",
    "SUBSCRIPTION_APPID",
    "UNVERIFIED_APPID",
    "Tenant",
    "batchget_calls",
    "demo_openid",
    "getidlist_calls",
    "tags_url",
]

# Demo users' tags (sandbox/demo.py): user index -> tagid_list.
UNKNOWN_OPENID = "oUNKNOWNuser0000000000000000"


@dataclass
class Tenant:
    merchant: object
    api_key: object
    raw_key: str
    client: APIClient


def make_tenant(name: str) -> Tenant:
    from authorizers.models import Merchant
    from authorizers.services.api_keys import api_key_create

    merchant = Merchant.objects.create(name=name)
    api_key, raw_key = api_key_create(merchant=merchant, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return Tenant(merchant, api_key, raw_key, client)


def tags_url(appid: str, openid: str, query: str = "") -> str:
    return f"/api/v1/authorizers/{appid}/users/{openid}/tags" + (f"?{query}" if query else "")


def bulk_url(appid: str) -> str:
    return f"/api/v1/authorizers/{appid}/users/tags"


def getidlist_calls(sandbox, appid: str | None = None) -> int:
    return sandbox.state.calls("/cgi-bin/tags/getidlist", appid)


def batchget_calls(sandbox, appid: str | None = None) -> int:
    return sandbox.state.calls("/cgi-bin/user/info/batchget", appid)


def wechat_calls(sandbox) -> int:
    """Every call the sandbox served, of any endpoint."""
    return sum(sandbox.state.counters.snapshot()["by_endpoint"].values())


@pytest.fixture(autouse=True)
def _call_log_in_request(settings):
    """Call-log rows written in the request, so a test reads them back at once."""
    settings.API_CALL_LOG_FLUSH_SECONDS = 0


@pytest.fixture
def tenant(merchant) -> Tenant:
    from authorizers.services.api_keys import api_key_create

    api_key, raw_key = api_key_create(merchant=merchant, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return Tenant(merchant, api_key, raw_key, client)


@pytest.fixture
def other_tenant(db) -> Tenant:
    return make_tenant("Other Merchant")


@pytest.fixture
def onboard(authorizer_factory, tenant):
    """onboard(appid) -> Authorizer under `tenant`'s merchant, via the real flow."""

    def make(appid: str = COFFEE_APPID, **kwargs):
        return authorizer_factory(appid=appid, merchant=tenant.merchant, **kwargs)

    return make


@pytest.fixture
def coffee(onboard):
    return onboard(COFFEE_APPID)


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]
