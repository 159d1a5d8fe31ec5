"""/api/ skips the browser-only middleware (sessions, CSRF, auth user, messages): the merchant
API authenticates its own keys, and a lookup should not pay for the admin's machinery."""

import pytest
from django.test import Client

from tests.api.support import COFFEE_APPID, demo_openid, tags_url


def test_a_lookup_touches_no_session_and_keeps_the_security_headers(coffee, tenant, wechat_api):
    response = tenant.client.get(tags_url(COFFEE_APPID, demo_openid(COFFEE_APPID, 0)))
    assert response.status_code == 200 and response.json()["tagid_list"] == [2, 100]
    request = response.wsgi_request
    assert not hasattr(request, "session") and not hasattr(request, "_messages")
    assert "csrf_processing_done" not in request.__dict__
    assert "Cookie" not in response.headers.get("Vary", "") and not response.cookies
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Request-ID"]
    assert request.resolver_match.url_name == "api-user-tags"


@pytest.mark.django_db
def test_a_post_to_an_unknown_api_path_is_the_json_404_not_a_csrf_page():
    response = Client(enforce_csrf_checks=True).post("/api/v1/nowhere", {"a": 1})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_the_admin_still_has_sessions_and_csrf():
    client = Client(enforce_csrf_checks=True)
    page = client.get("/admin/login/")
    assert page.status_code == 200 and "csrftoken" in page.cookies
    refused = client.post("/admin/login/", {"username": "x", "password": "y"})
    assert refused.status_code == 403  # no CSRF token: CsrfViewMiddleware still runs here


@pytest.mark.parametrize("path", ["/api/v1/authorizers/", "/api/v1/nowhere"])
def test_the_api_checks_allowed_hosts_as_every_other_path(tenant, path):
    """The bypass answers before CommonMiddleware, which is where Django checks the Host."""
    refused = tenant.client.get(path, HTTP_HOST="evil.example")
    assert refused.status_code == 400
    assert tenant.client.get("/api/v1/authorizers/").status_code == 200  # an allowed host
    admin = Client().get("/admin/login/", HTTP_HOST="evil.example")
    assert admin.status_code == 400  # the same answer as the admin's
