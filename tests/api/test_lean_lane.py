"""The lean lane (platform_app.ops.lean_lane) answers exactly as Django's lane does.

Both lanes are called as gunicorn calls them, through WSGI, in this process, against the
sandbox over HTTP. For every outcome of a single lookup, the steady-state answer of Django's
lane (its second request, once the caches are warm and the key is known to this process)
and the lean lane's next answer must agree in status, headers, body, call-log row, metrics
and django.request's log line; and the lean lane must have answered it itself. The requests
the lane must leave to Django (no key, unknown key, rate limited, a query, an odd Accept, a
POST) reach Django untouched and are answered as Django always did.
"""

from __future__ import annotations

import json
import re

import pytest
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import RequestFactory
from prometheus_client import REGISTRY

from authorizers.models import ApiCall
from platform_app.ops.lean_lane import LeanLane
from tests.api.support import BOOKS_APPID, COFFEE_APPID, UNKNOWN_OPENID, demo_openid, tags_url

OPENID = demo_openid(COFFEE_APPID, 0)
ROUTE = "api/v1/authorizers/<str:appid>/users/<str:openid>/tags"
RID = re.compile(r'"rid":"[0-9a-f-]{26}"')
TIMING = re.compile(r"[0-9]+\.[0-9]+")  # latencies, backoff jitter
VARYING_HEADERS = {"X-Request-ID"}


@pytest.fixture(autouse=True)
def _keep_the_test_transaction():
    """Django's test client does the same: a request's close_old_connections would close
    the connection holding the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


class Lanes:
    def __init__(self) -> None:
        """Built after the test's settings: middleware reads them when it is loaded."""
        self.django_calls = 0
        self.handler = WSGIHandler()  # what platform_app.wsgi wraps, loaded as it loads it

        def django(environ, start_response):
            self.django_calls += 1
            return self.handler(environ, start_response)

        self.lean = LeanLane(django)

    @staticmethod
    def call(
        app, path: str, key: str | None, method: str = "GET", secure: bool = False, **headers: str
    ) -> dict:
        extra = {f"HTTP_{k.upper()}": v for k, v in headers.items()}
        if key is not None:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {key}"
        path, _, query = path.partition("?")
        factory = RequestFactory()
        environ = factory.generic(method, path, QUERY_STRING=query, secure=secure, **extra).environ
        answer: dict = {}

        def start_response(status, headers, exc_info=None):
            answer["status"], answer["headers"] = status, dict(headers)

        iterable = app(environ, start_response)
        body = b"".join(iterable)
        if hasattr(iterable, "close"):
            iterable.close()  # as a WSGI server does: Django sends request_finished here
        answer["length"] = len(body)
        answer["body"] = RID.sub('"rid":"…"', body.decode())
        return answer

    def django(self, path: str, key: str | None, **kwargs) -> dict:
        return self.call(self.handler, path, key, **kwargs)

    def via_lean(self, path: str, key: str | None, **kwargs) -> tuple[dict, bool]:
        """The lean lane's answer, and whether it answered itself (Django never called)."""
        before = self.django_calls
        answer = self.call(self.lean, path, key, **kwargs)
        return answer, self.django_calls == before


def _comparable(answer: dict) -> dict:
    headers = {k: v for k, v in answer["headers"].items() if k not in VARYING_HEADERS}
    headers.pop("Content-Length", None)  # the lean lane sends it; Django's leaves it to the server
    return {"status": answer["status"], "headers": headers, "body": answer["body"]}


def _log_lines(caplog) -> list[tuple[str, str, str]]:
    return [(r.name, r.levelname, TIMING.sub("…", r.getMessage())) for r in caplog.records]


def _last_log_row() -> dict:
    row = ApiCall.objects.order_by("-id").values(
        "endpoint", "result", "status_code", "wechat_errcode", "openid_masked", "authorizer_id"
    )
    return row.first()


def _requests_counted(status: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "http_requests_total", {"route": ROUTE, "method": "GET", "status": status}
        )
        or 0.0
    )


def _revoke_at_wechat(sandbox, tenant):
    sandbox.state.revoke(COFFEE_APPID)


def _small_bucket(sandbox, tenant):
    tenant.api_key.rate_limit_burst, tenant.api_key.rate_limit_per_minute = 1, 1
    tenant.api_key.save()


SCENARIOS = {
    "ok": (OPENID, None, "200 OK"),
    "malformed openid": ("short", None, "400 Bad Request"),
    "not a follower (40003)": (UNKNOWN_OPENID, None, "422 Unprocessable Entity"),
    "another account's openid (49003)": (
        demo_openid(BOOKS_APPID, 0),
        None,
        "422 Unprocessable Entity",
    ),
    "quota used up (45009, then the local stop)": (
        OPENID,
        lambda sandbox, tenant: sandbox.set_faults(quota_rate=1, path_prefix="/cgi-bin/tags/"),
        "429 Too Many Requests",
    ),
    "WeChat busy (-1, retried)": (
        OPENID,
        lambda sandbox, tenant: sandbox.set_faults(error_rate=1, path_prefix="/cgi-bin/tags/"),
        "503 Service Unavailable",
    ),
    "permission set withdrawn (61007)": (
        OPENID,
        lambda sandbox, tenant: sandbox.state.update_authorizer(
            COFFEE_APPID, {"func_info": [1, 3]}
        ),
        "403 Forbidden",
    ),
    "revoked at WeChat (61003, then refused locally)": (OPENID, _revoke_at_wechat, "410 Gone"),
    "the key's bucket empty": (OPENID, _small_bucket, "429 Too Many Requests"),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_the_lean_lane_answers_as_django_does(scenario, coffee, tenant, wechat_api, caplog):
    openid, arrange, status = SCENARIOS[scenario]
    lanes, url = Lanes(), tags_url(COFFEE_APPID, openid)
    assert lanes.django(tags_url(COFFEE_APPID, OPENID), tenant.raw_key)["status"] == "200 OK"
    if arrange:
        arrange(wechat_api, tenant)
    lanes.django(url, tenant.raw_key)  # the first answer may differ (a stop being recorded)

    caplog.clear()
    counted = _requests_counted(status[:3])
    django = lanes.django(url, tenant.raw_key)
    django_row, django_log = _last_log_row(), _log_lines(caplog)
    caplog.clear()
    lean, answered_itself = lanes.via_lean(url, tenant.raw_key)
    lean_row, lean_log = _last_log_row(), _log_lines(caplog)

    assert django["status"] == status, django
    assert answered_itself
    assert _comparable(lean) == _comparable(django)
    assert int(lean["headers"]["Content-Length"]) == lean["length"]
    assert lean["headers"]["X-Request-ID"] != django["headers"]["X-Request-ID"]
    assert lean_row == django_row
    assert lean_log == django_log
    assert _requests_counted(status[:3]) == counted + 2


def test_the_callers_request_id_is_kept(coffee, tenant, wechat_api):
    lanes = Lanes()
    lanes.django(tags_url(COFFEE_APPID, OPENID), tenant.raw_key)
    lean, answered_itself = lanes.via_lean(
        tags_url(COFFEE_APPID, OPENID), tenant.raw_key, X_REQUEST_ID="trace-42"
    )
    assert answered_itself and lean["headers"]["X-Request-ID"] == "trace-42"


def test_a_lean_answer_is_one_request_to_django_s_signals(coffee, tenant, wechat_api):
    """Database connections are aged and health-checked on these signals (CONN_MAX_AGE)."""
    lanes, seen = Lanes(), []

    def started(**kwargs):
        seen.append("started")

    def finished(**kwargs):
        seen.append("finished")

    lanes.django(tags_url(COFFEE_APPID, OPENID), tenant.raw_key)
    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:
        _, answered_itself = lanes.via_lean(tags_url(COFFEE_APPID, OPENID), tenant.raw_key)
        assert answered_itself and seen == ["started", "finished"]
        seen.clear()
        lanes.via_lean(tags_url(COFFEE_APPID, OPENID), None)  # Django's: its own signals only
        assert seen == ["started", "finished"]
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)


@pytest.mark.parametrize(
    "case",
    [
        "no key",
        "unknown key",
        "query",
        "accept",
        "post",
        "first request of the key",
    ],
)
def test_what_the_lane_leaves_to_django_is_answered_as_before(
    case, coffee, tenant, wechat_api, settings
):
    lanes, url, key, kwargs = Lanes(), tags_url(COFFEE_APPID, OPENID), tenant.raw_key, {}
    if case == "first request of the key":
        lean, answered_itself = lanes.via_lean(url, key)
        assert lean["status"] == "200 OK" and not answered_itself
        _, answered_itself = lanes.via_lean(url, key)  # known to this process now
        assert answered_itself
        return
    lanes.django(url, key)  # warm: the key is known to this process
    if case == "no key":
        key = None
    elif case == "unknown key":
        key = "tk_live_" + "x" * 40
    elif case == "query":
        url += "?expand=names"
    elif case == "accept":
        kwargs["ACCEPT"] = "text/html"
    elif case == "post":
        kwargs["method"] = "POST"
    django = lanes.django(url, key, **kwargs)
    lean, answered_itself = lanes.via_lean(url, key, **kwargs)
    assert not answered_itself
    assert _comparable(lean) == _comparable(django), case


def test_a_request_handed_to_django_spends_one_rate_limit_token(coffee, tenant, wechat_api):
    """The lane takes the token ahead; when it then hands the request to Django (here: the
    key's cache entry is gone, so only Django may authenticate it), Django uses that token
    instead of taking another."""
    from django.core.cache import cache

    from platform_app.api.authentication import api_key_cache_keys

    tenant.api_key.rate_limit_burst, tenant.api_key.rate_limit_per_minute = 3, 1
    tenant.api_key.save()
    lanes, url = Lanes(), tags_url(COFFEE_APPID, OPENID)
    assert lanes.django(url, tenant.raw_key)["status"] == "200 OK"  # 1 of 3 tokens
    statuses = []
    for _ in range(3):
        cache.delete(api_key_cache_keys(tenant.raw_key)[0])
        answer, answered_itself = lanes.via_lean(url, tenant.raw_key)
        assert not answered_itself
        statuses.append(answer["status"])
    assert statuses == ["200 OK", "200 OK", "429 Too Many Requests"]


def test_lean_lane_off_sends_everything_to_django(coffee, tenant, wechat_api, settings):
    settings.API_LEAN_LANE = False
    lanes, url = Lanes(), tags_url(COFFEE_APPID, OPENID)
    lanes.django(url, tenant.raw_key)
    lean, answered_itself = lanes.via_lean(url, tenant.raw_key)
    assert lean["status"] == "200 OK" and not answered_itself
    assert json.loads(lean["body"])["tagid_list"] == [2, 100]


def test_behind_https_settings_the_lanes_agree(coffee, tenant, settings, wechat_api):
    """Production may have Django redirect to HTTPS and send HSTS: a plain-HTTP lookup is
    redirected by Django (the lane leaves it), a secure one gets the same HSTS header."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    lanes, url = Lanes(), tags_url(COFFEE_APPID, OPENID)
    lanes.django(url, tenant.raw_key, secure=True)  # warm

    plain = lanes.django(url, tenant.raw_key)
    lean, answered_itself = lanes.via_lean(url, tenant.raw_key)
    assert plain["status"].startswith("301") and not answered_itself
    assert _comparable(lean) == _comparable(plain)

    django = lanes.django(url, tenant.raw_key, secure=True)
    lean, answered_itself = lanes.via_lean(url, tenant.raw_key, secure=True)
    assert answered_itself and lean["status"] == "200 OK"
    assert lean["headers"]["Strict-Transport-Security"] == "max-age=3600; includeSubDomains"
    assert _comparable(lean) == _comparable(django)
