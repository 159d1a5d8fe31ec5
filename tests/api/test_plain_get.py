"""The single lookup's plain view (merchant_api.plain_get): one pipeline, Django's.

It skips DRF's request wrapping for a GET with a Bearer key, and is still an ordinary Django
view: middleware, request signals and Django's error hooks see it. Everything else it hands
to the DRF view, which answers as every other endpoint does.
"""

from __future__ import annotations

import pytest
from django.core.signals import got_request_exception, request_finished, request_started
from rest_framework.views import APIView

from authorizers.models import ApiCall
from tests.api.support import COFFEE_APPID, demo_openid, error_of, tags_url

SEEN: list[str] = []


class RecordingMiddleware:
    """A middleware an operator might add (tracing, logging): it must see every lookup."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        SEEN.append(request.path)
        return self.get_response(request)


@pytest.fixture
def drf_initials(monkeypatch) -> list[str]:
    """The requests DRF's view machinery handled (APIView.initial runs for each)."""
    handled: list[str] = []
    original = APIView.initial

    def counting(self, request, *args, **kwargs):
        handled.append(request.path)
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(APIView, "initial", counting)
    return handled


def test_a_lookup_is_served_without_drf_inside_django_s_cycle(
    coffee, tenant, wechat_api, settings, drf_initials
):
    settings.MIDDLEWARE = ["tests.api.test_plain_get.RecordingMiddleware", *settings.MIDDLEWARE]
    SEEN.clear()
    started, finished = [], []
    request_started.connect(
        lambda **kw: started.append(1), weak=False, dispatch_uid="plain-get-started"
    )
    request_finished.connect(
        lambda **kw: finished.append(1), weak=False, dispatch_uid="plain-get-finished"
    )
    try:
        url = tags_url(COFFEE_APPID, demo_openid(COFFEE_APPID, 0))
        for query in ("", "expand=names"):
            response = tenant.client.get(url + (f"?{query}" if query else ""))
            assert response.status_code == 200, response.content
            assert response["Content-Type"] == "application/json"
            assert response["Allow"] == "GET, HEAD, OPTIONS"
            assert response["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware ran
            assert response["X-Request-ID"]
    finally:
        request_started.disconnect(dispatch_uid="plain-get-started")
        request_finished.disconnect(dispatch_uid="plain-get-finished")
    assert response.json()["tags"]
    assert drf_initials == []
    assert [url, url] == SEEN
    assert len(started) == len(finished) == 2
    rows = list(ApiCall.objects.order_by("id").values_list("endpoint", "result", "status_code"))
    assert rows == [("user_tags", "ok", 200)] * 2


@pytest.mark.parametrize(
    ("method", "headers", "status", "code"),
    [
        ("post", {}, 405, "invalid_request"),
        ("get", {"HTTP_ACCEPT": "text/html"}, 406, "invalid_request"),
        ("get", {"HTTP_AUTHORIZATION": ""}, 401, "unauthenticated"),
        ("get", {"HTTP_AUTHORIZATION": "Basic abc"}, 401, "unauthenticated"),
    ],
)
def test_what_the_plain_view_does_not_serve_drf_answers(
    coffee, tenant, wechat_api, client, drf_initials, method, headers, status, code
):
    url = tags_url(COFFEE_APPID, demo_openid(COFFEE_APPID, 0))
    headers = {"HTTP_AUTHORIZATION": f"Bearer {tenant.raw_key}", **headers}
    response = getattr(client, method)(url, **headers)
    assert response.status_code == status
    if status != 406:  # DRF answers a 406 before it runs initial()
        assert drf_initials == [url]
    assert error_of(response)["code"] == code
    assert wechat_api.state.calls("/cgi-bin/tags/getidlist") == 0


def test_an_unknown_key_is_401_from_the_plain_view(db, client, drf_initials):
    url = tags_url(COFFEE_APPID, demo_openid(COFFEE_APPID, 0))
    response = client.get(url, HTTP_AUTHORIZATION="Bearer wxk_not_a_key")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert error_of(response)["code"] == "unauthenticated"
    assert drf_initials == []


def test_an_unexpected_error_reaches_django_s_error_hooks_as_a_json_500(
    coffee, tenant, wechat_api, monkeypatch
):
    """An error tracker hooks got_request_exception or the logging of django.request; the
    plain view answers in the API's shape and logs it like every view."""
    from tags.api import views

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "user_tagids_get", broken)
    url = tags_url(COFFEE_APPID, demo_openid(COFFEE_APPID, 0))
    response = tenant.client.get(url)
    assert response.status_code == 500
    assert error_of(response)["code"] == "internal_error"
    row = ApiCall.objects.get()
    assert (row.result, row.status_code) == ("internal_error", 500)


def test_a_middleware_exception_still_reaches_django_s_handler(
    coffee, tenant, wechat_api, settings
):
    """The plain view is called inside Django's middleware chain: an exception raised around
    it is Django's to handle (got_request_exception, the 500 page), as for any view."""
    settings.MIDDLEWARE = ["tests.api.test_plain_get.FailingMiddleware", *settings.MIDDLEWARE]
    fired = []
    got_request_exception.connect(
        lambda **kw: fired.append(1), weak=False, dispatch_uid="plain-get-exc"
    )
    tenant.client.raise_request_exception = False
    try:
        response = tenant.client.get(tags_url(COFFEE_APPID, demo_openid(COFFEE_APPID, 0)))
    finally:
        got_request_exception.disconnect(dispatch_uid="plain-get-exc")
    assert response.status_code == 500
    assert len(fired) == 1


class FailingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 200 and "/users/" in request.path:
            raise RuntimeError("a middleware failed after the view")
        return response


def test_no_operation_shows_merchants_an_internal_docstring(db):
    from rest_framework.test import APIClient

    from merchant_api.views import MerchantApiView

    internal = {" ".join((MerchantApiView.__doc__ or "").split())}
    schema = APIClient().get("/api/schema/?format=json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            description = " ".join(operation.get("description", "").split())
            assert description, f"{method} {path} has no description"
            assert description not in internal, f"{method} {path}"
            assert "lean" not in description.lower()
