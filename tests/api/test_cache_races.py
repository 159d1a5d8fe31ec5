"""Revocation wins every race with a cache fill.

Thread A misses the cache, reads the database (a valid key / an active account) and is
held, with a threading.Event, before it writes the cache. The key or the account is revoked
(which invalidates the cache) while A is held; then A writes its old, valid-looking entry.
The next request must still see the revocation.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.api.support import COFFEE_APPID, demo_openid, error_of, tags_url

OPENID = demo_openid(COFFEE_APPID, 0)
WAIT = 30  # seconds; a generous bound so a stuck thread fails the test instead of hanging it


class HeldFill:
    """Wraps `target` so the first call returns its result only once `release` is set."""

    def __init__(self, target) -> None:
        self.target = target
        self.read_done = threading.Event()
        self.release = threading.Event()
        self._first = True

    def __call__(self, *args, **kwargs):
        result = self.target(*args, **kwargs)
        if self._first:
            self._first = False
            self.read_done.set()
            assert self.release.wait(WAIT), "the test never released the fill"
        return result


def _in_thread(fn) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # reported by the test, not lost in the thread
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _race(hold: HeldFill, request, revoke) -> dict:
    thread, outcome = _in_thread(request)
    assert hold.read_done.wait(WAIT), "the fill never read the database"
    revoke()
    hold.release.set()
    thread.join(WAIT)
    assert not thread.is_alive()
    assert "error" not in outcome, outcome.get("error")
    return outcome


def _client(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


@pytest.fixture
def caching(settings):
    settings.API_KEY_CACHE_SECONDS = 300
    settings.API_AUTHORIZER_CACHE_SECONDS = 300


@pytest.mark.django_db(transaction=True)
def test_key_revoked_during_a_cache_fill_is_refused_next(tenant, caching, monkeypatch):
    from authorizers.services.api_keys import api_key_revoke
    from merchant_api import authentication

    hold = HeldFill(authentication.api_key_authenticate)
    monkeypatch.setattr(authentication, "api_key_authenticate", hold)
    outcome = _race(
        hold,
        lambda: _client(tenant.raw_key).get("/api/v1/authorizers/").status_code,
        lambda: api_key_revoke(api_key=tenant.api_key),
    )
    assert outcome["value"] == 200  # A read the key before the revocation
    response = tenant.client.get("/api/v1/authorizers/")
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"


@pytest.mark.django_db(transaction=True)
def test_merchant_deactivated_during_a_cache_fill_is_refused_next(tenant, caching, monkeypatch):
    from merchant_api import authentication

    def deactivate() -> None:
        tenant.merchant.is_active = False
        tenant.merchant.save()

    hold = HeldFill(authentication.api_key_authenticate)
    monkeypatch.setattr(authentication, "api_key_authenticate", hold)
    _race(hold, lambda: _client(tenant.raw_key).get("/api/v1/authorizers/").status_code, deactivate)
    assert tenant.client.get("/api/v1/authorizers/").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_unauthorized_push_during_an_authorizer_cache_fill_wins(
    coffee, tenant, caching, monkeypatch
):
    from authorizers.selectors import tenant as selectors
    from authorizers.services.status import authorizer_apply_unauthorized

    # The key is cached first, so the only fill in the raced request is the authorizer's.
    assert tenant.client.get("/api/v1/authorizers/").status_code == 200
    hold = HeldFill(selectors._to_cache)
    monkeypatch.setattr(selectors, "_to_cache", hold)
    outcome = _race(
        hold,
        lambda: (
            selectors.authorizer_get_for_merchant(
                merchant_id=tenant.merchant.pk, appid=COFFEE_APPID
            ).status
        ),
        lambda: authorizer_apply_unauthorized(appid=COFFEE_APPID),
    )
    assert outcome["value"] == "active"  # A read the row before the push
    again = selectors.authorizer_get_for_merchant(
        merchant_id=tenant.merchant.pk, appid=COFFEE_APPID
    )
    assert again.status == "revoked"
    response = tenant.client.get(tags_url(COFFEE_APPID, OPENID))
    assert response.status_code == 410
    assert error_of(response)["code"] == "authorizer_revoked"
