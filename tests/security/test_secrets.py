"""No secret in clear anywhere an outsider or an operator could read it.

One real flow over HTTP (ticket push, merchant onboarding through WeChat's page, lookups,
token refreshes with rotating refresh tokens, a revocation), collecting every secret it
produces: tickets, component and authorizer access tokens, refresh tokens, the pre_auth_code
and authorization code, the API key, the component secret. Then none of them may appear in
the logs (captured at DEBUG), the API's answers, any admin page, any database column, or the
cache.
"""

from __future__ import annotations

import contextlib
import logging
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings
from django.contrib import admin
from django.db import connection
from django.urls import NoReverseMatch, reverse

from authorizers.models import Authorizer
from authorizers.services.api_keys import api_key_create
from authorizers.services.onboarding.invites import invite_create, invite_url
from authorizers.services.tokens.refresh import authorizer_refresh_access_token
from component.models import ComponentState
from sandbox.demo import BOOKS_APPID, COFFEE_APPID, demo_openid
from tests.plugins.celery_worker import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_eager")]


class Secrets:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def add(self, name: str, value: object) -> None:
        if value and isinstance(value, str) and len(value) >= 8:
            self.values.setdefault(value, name)

    def found_in(self, text: str) -> list[str]:
        return sorted({name for value, name in self.values.items() if value in text})


def canary(value: str) -> Secrets:
    """A value known to be there: proves the scan reads what it claims to read."""
    known = Secrets()
    known.add("canary", value)
    return known


def _collect_wechat(secrets: Secrets, sandbox) -> None:
    world = sandbox.state
    with world.lock:
        secrets.add("ticket", world.ticket)
        secrets.add("component_access_token", world.component_access.current)
        for appid, account in world.authorizers.items():
            secrets.add(f"access_token {appid}", account.access.current)
            secrets.add(f"access_token {appid} (previous)", account.access.previous)
            secrets.add(f"refresh_token {appid}", account.refresh.current)
            secrets.add(f"refresh_token {appid} (previous)", account.refresh.previous)


@pytest.fixture
def flow(wechat_api, live_server, settings, merchant, caplog):
    """Runs the flow; returns (secrets, API answers, the staff client)."""
    caplog.set_level(logging.DEBUG)
    settings.PUBLIC_BASE_URL = live_server.url
    wechat_api.state.settings.rotate_refresh_token = True
    wechat_api.pusher.callback_url = f"{live_server.url}/wechat/component/events/"
    secrets = Secrets()
    secrets.add("component secret", settings.WECHAT_COMPONENT_APPSECRET)
    secrets.add("encoding AES key", settings.WECHAT_COMPONENT_ENCODING_AES_KEY)
    answers: list[str] = []

    assert wechat_api.push("component_verify_ticket")["body"] == "success"
    _collect_wechat(secrets, wechat_api)

    # Onboarding as a browser does it; the sandbox also pushes "authorized" with the code.
    for appid in (COFFEE_APPID, BOOKS_APPID):
        wechat_api.state.consent_appid = appid
        browser = requests.Session()
        landing = browser.get(invite_url(invite=invite_create(merchant=merchant)), timeout=10)
        start = re.search(r'<a class="button" href="([^"]+)"', landing.text).group(1)
        result = browser.get(settings.PUBLIC_BASE_URL + start, timeout=10)
        assert result.status_code == 200, result.text
        for hop in result.history:
            query = parse_qs(urlsplit(hop.headers.get("Location", "")).query)
            secrets.add("pre_auth_code", (query.get("pre_auth_code") or [""])[0])
            secrets.add("auth_code", (query.get("auth_code") or [""])[0])
        answers.append(result.text)
        wait_until(lambda a=appid: Authorizer.objects.filter(appid=a, nickname__gt="").exists())
    _collect_wechat(secrets, wechat_api)

    _, raw_key = api_key_create(merchant=merchant, name="backend")
    secrets.add("API key", raw_key)
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {raw_key}"
    base = f"{live_server.url}/api/v1/authorizers"
    openid = demo_openid(COFFEE_APPID, 0)

    def call(method: str, url: str, **kwargs) -> None:
        response = api.request(method, url, timeout=10, **kwargs)
        answers.append(f"{response.status_code} {response.headers} {response.text}")

    def lookups() -> None:
        call("GET", f"{base}/")
        call("GET", f"{base}/{COFFEE_APPID}/")
        call("GET", f"{base}/{COFFEE_APPID}/users/{openid}/tags?expand=names")
        call("POST", f"{base}/{COFFEE_APPID}/users/tags", json={"openids": [openid, "x" * 30]})
        call("GET", f"{base}/{BOOKS_APPID}/users/{openid}/tags")  # WeChat says 49003/40003
        call("GET", f"{base}/{COFFEE_APPID}/users/bad/tags")

    lookups()
    # A token WeChat expired under us (refresh on the request path), then forced refreshes.
    wechat_api.state.expire_authorizer_token(COFFEE_APPID)
    lookups()
    _collect_wechat(secrets, wechat_api)
    for row in Authorizer.objects.all():
        authorizer_refresh_access_token(authorizer_id=row.pk, force=True)
    _collect_wechat(secrets, wechat_api)
    wechat_api.state.expire_component_token()
    wechat_api.state.expire_authorizer_token(COFFEE_APPID)
    lookups()
    _collect_wechat(secrets, wechat_api)
    assert wechat_api.push("component_verify_ticket")["body"] == "success"
    _collect_wechat(secrets, wechat_api)
    # Nothing on the way may have put the account out of service.
    assert set(Authorizer.objects.values_list("status", flat=True)) == {"active"}
    state = ComponentState.objects.get()
    secrets.add("ticket (stored)", state.verify_ticket)
    secrets.add("component_access_token (stored)", state.access_token)
    for row in Authorizer.objects.all():
        secrets.add("access_token (stored)", row.access_token)
        secrets.add("refresh_token (stored)", row.refresh_token)
    assert len(secrets.values) >= 12, secrets.values.values()
    return secrets, answers


def test_no_secret_in_the_logs(flow, caplog):
    secrets, _ = flow
    leaks = []
    records = caplog.get_records("setup") + caplog.get_records("call")
    for record in records:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        found = secrets.found_in(text)
        if found:
            leaks.append(f"{record.name} {record.levelname}: {found}")
    assert len(records) > 20  # the flow did log (at DEBUG)
    assert any(canary("component push").found_in(r.getMessage()) for r in records)
    assert leaks == []


def test_no_secret_in_api_answers_or_onboarding_pages(flow):
    secrets, answers = flow
    assert sum(bool(canary(COFFEE_APPID).found_in(answer)) for answer in answers) > 5
    assert [secrets.found_in(answer) for answer in answers if secrets.found_in(answer)] == []


def _admin_urls() -> list[str]:
    urls = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        urls.append(reverse("admin:{}_{}_changelist".format(*info)))
        if model_admin.has_add_permission(_superuser_request()):
            urls.append(reverse("admin:{}_{}_add".format(*info)))
        for pk in model.objects.values_list("pk", flat=True)[:25]:
            urls.append(reverse("admin:{}_{}_change".format(*info), args=[pk]))
            with contextlib.suppress(NoReverseMatch):
                urls.append(reverse("admin:{}_{}_history".format(*info), args=[pk]))
    return urls


def _superuser_request():
    from django.contrib.auth.models import User
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = User(is_staff=True, is_superuser=True, is_active=True)
    return request


def test_no_secret_on_any_admin_page(flow, admin_client):
    secrets, _ = flow
    leaks = {}
    pages = seen = 0
    for url in _admin_urls():
        response = admin_client.get(url)
        assert response.status_code == 200, url
        pages += 1
        html = response.content.decode()
        seen += bool(canary("Demo Coffee").found_in(html))
        found = secrets.found_in(html)
        if found:
            leaks[url] = found
    assert pages >= 10 and seen >= 2
    assert leaks == {}


def test_no_secret_in_clear_in_the_database_or_the_cache(flow):
    secrets, _ = flow
    leaks = {}
    rows = seen = 0
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')  # table names from introspection
            columns = [c.name for c in cursor.description]
            for row in cursor.fetchall():
                rows += 1
                for column, value in zip(columns, row, strict=True):
                    if value is None or isinstance(value, int | float | bool):
                        continue
                    seen += bool(canary("Test Merchant").found_in(str(value)))
                    found = secrets.found_in(str(value))
                    if found:
                        leaks[f"{table}.{column}"] = found
    assert rows > 20 and seen >= 1
    assert leaks == {}
    if not settings.REDIS_URL:
        return
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    cached = {}
    for key in client.scan_iter(count=500):
        kind = client.type(key)
        value = client.get(key) if kind == b"string" else repr(client.dump(key))
        text = key.decode(errors="replace") + " " + repr(value)
        found = secrets.found_in(text)
        if found:
            cached[key.decode(errors="replace")] = found
    assert cached == {}
