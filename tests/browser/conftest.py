"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright against `live_server`.

One browser per module; each test gets a fresh context (cookies) and is logged in by a
session cookie, except the test that logs in through the form. The live server runs Django
in a thread of this process while Playwright's sync API runs an event loop in the main
thread, so Django's async-safety check must be relaxed (pytest-django's documented advice).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.utils import timezone

from sandbox.demo import (
    BAKERY_APPID,
    BOOKS_APPID,
    COFFEE_APPID,
    SUBSCRIPTION_APPID,
    UNVERIFIED_APPID,
)

from .support import OPERATOR

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is missing: install Debian's chromium package (make test does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def live_wechat(live_server, settings, component_ready, celery_eager):
    """The live server onboards against the sandbox, and builds invite links to itself."""
    settings.PUBLIC_BASE_URL = live_server.url
    return component_ready


@pytest.fixture
def operator(django_user_model):
    username, password = OPERATOR
    return django_user_model.objects.create_superuser(username, "ops@example.com", password)


@pytest.fixture
def new_page(browser, live_server):
    """new_page() -> a page in a fresh browser context (no cookies: a merchant, or logged out)."""
    contexts = []

    def make():
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1600, "height": 900}
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def admin_page(new_page, operator, live_server, settings):
    """A page whose context carries a logged-in operator's session cookie."""
    from django.test import Client

    client = Client()
    client.force_login(operator)
    page = new_page()
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    return page


@pytest.fixture
def world(live_wechat, authorizer_factory, merchant):
    """The five demo accounts onboarded for real, one gone stale, and a day of API traffic."""
    from authorizers.models import ApiCall, Authorizer
    from authorizers.services.status import authorizer_mark_reauth_required

    accounts = {
        appid: authorizer_factory(appid=appid)
        for appid in (COFFEE_APPID, BOOKS_APPID, BAKERY_APPID, UNVERIFIED_APPID, SUBSCRIPTION_APPID)
    }
    lapsed = {"authorizer_appid": "wx10000000000000e7", "nick_name": "Demo Lapsed"}
    requests.post(f"{live_wechat.base_url}/sandbox/authorizers", json=lapsed, timeout=10)
    gone = authorizer_factory(appid="wx10000000000000e7")
    authorizer_mark_reauth_required(authorizer_id=gone.pk)
    now = timezone.now()
    calls = []
    for hour in range(24):
        for i in range(3 + (hour * 7) % 11):
            error = (hour + i) % 9 == 0
            calls.append(
                ApiCall(
                    merchant=merchant,
                    authorizer=accounts[COFFEE_APPID],
                    authorizer_appid=COFFEE_APPID,
                    endpoint="users.tags",
                    result="upstream_unavailable" if error else "ok",
                    status_code=503 if error else 200,
                    wechat_errcode=-1 if error else None,
                    rid="5f2a1b3c-0d9e8f7a-6b5c4d3e" if error else "",
                    latency_ms=8 + i,
                    openid_masked="oXyZ…AbC1",
                )
            )
    created = ApiCall.objects.bulk_create(calls)
    for index, call in enumerate(created):
        when = now - timedelta(hours=index % 24, minutes=index % 50)
        ApiCall.objects.filter(pk=call.pk).update(created_at=when)
    secrets = [
        secret
        for a in Authorizer.objects.all()
        for secret in (a.access_token, a.refresh_token)
        if secret
    ]
    secrets.append(live_wechat.state.ticket)
    return {"accounts": accounts, "secrets": secrets}
