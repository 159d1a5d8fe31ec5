"""/metrics cannot be flooded: labels come from closed sets, and a bearer token can be
required (METRICS_BEARER_TOKEN)."""

import secrets

import pytest


def _metrics_text(client, **headers) -> str:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_unknown_methods_and_paths_are_counted_as_other(client):
    made_up = "X" + secrets.token_hex(4).upper()
    client.generic(made_up, "/healthz")
    client.get(f"/no-such-page-{secrets.token_hex(4)}")
    text = _metrics_text(client)
    assert made_up not in text
    assert 'method="other",route="healthz"' in text
    assert 'route="other"' in text
    assert "no-such-page" not in text


@pytest.mark.django_db
def test_known_methods_keep_their_name_and_routes_their_template(client):
    client.head("/healthz")
    client.get("/api/v1/authorizers/wx1234567890abcdef/")
    text = _metrics_text(client)
    assert 'method="HEAD",route="healthz"' in text
    assert 'route="api/v1/authorizers/<str:appid>/"' in text
    assert "wx1234567890abcdef" not in text


@pytest.mark.django_db
def test_metrics_need_the_bearer_token_when_one_is_set(client, settings):
    settings.METRICS_BEARER_TOKEN = "metrics-token-" + secrets.token_hex(8)
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert (
        client.get("/metrics", HTTP_AUTHORIZATION=settings.METRICS_BEARER_TOKEN).status_code == 401
    )
    ok = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {settings.METRICS_BEARER_TOKEN}")
    assert ok.status_code == 200 and b"http_requests_total" in ok.content
    # the probes stay open: the kubelet sends no token
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_refused_scrapes_say_how_to_authenticate(client, settings):
    settings.METRICS_BEARER_TOKEN = "t-" + secrets.token_hex(8)
    response = client.get("/metrics")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"http_requests_total" not in response.content


def test_metrics_are_open_without_a_token_by_default():
    from django.conf import settings

    assert settings.METRICS_BEARER_TOKEN == ""
