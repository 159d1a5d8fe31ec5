"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright against `live_server`.

One browser per module; each test gets a fresh context (cookies) and is logged in by a
session cookie, except the test that logs in through the form. The live server runs Django
in a thread of this process while Playwright's sync API runs an event loop in the main
thread, so Django's async-safety check must be relaxed (pytest-django's documented advice).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

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
