"""SPEC 4.4 audit: /readyz is 503 when any dependency is down, not only the broker."""

import pytest
from django.db import OperationalError


@pytest.mark.django_db
def test_readyz_reports_an_unreachable_cache(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"]["ok"] is False


@pytest.mark.django_db
def test_readyz_reports_an_unreachable_database(client, monkeypatch):
    from platform_app.ops import views

    def down() -> None:
        raise OperationalError("connection refused")

    monkeypatch.setitem(views.CHECKS, "database", down)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False, "error": "OperationalError"} | {
        "ms": response.json()["checks"]["database"]["ms"]
    }
