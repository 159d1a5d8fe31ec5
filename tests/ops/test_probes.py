import pytest


@pytest.mark.django_db
def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response["X-Request-ID"]


@pytest.mark.django_db
def test_readyz_checks_database_cache_and_broker(client):
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert set(body["checks"]) == {"database", "cache", "broker"}
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.django_db
def test_readyz_reports_an_unreachable_broker(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False


@pytest.mark.django_db
def test_metrics_exposes_prometheus_text(client):
    client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")
    response = client.get("/metrics")
    assert response.status_code == 200
    text = response.content.decode()
    assert 'http_requests_total{method="GET",route="healthz",status="200"}' in text
    assert "wechat_calls_total" in text or "# HELP wechat_calls_total" in text
