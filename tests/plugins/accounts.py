"""Fixtures for tests that need the component ready, merchants, and onboarded authorizers.

def test_lookup(authorizer_factory):
    coffee = authorizer_factory()                        # Demo Coffee, under a new merchant
    books = authorizer_factory(appid=BOOKS_APPID, merchant=coffee.merchant)

Everything goes through the product's own services against the sandbox (`wechat_api`):
the ticket is stored as the receiver would store it, the account is onboarded with an
authorization code the sandbox issued, and its info is synced with api_get_authorizer_info.
Works with `db` and with `transactional_db` / `live_server`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.utils import timezone

from sandbox.demo import COFFEE_APPID


@pytest.fixture
def celery_eager() -> Iterator[None]:
    """Celery tasks run inline (and raise) for this test: no broker, no worker."""
    from platform_app.celery import app

    saved = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def component_ready(wechat_api, db):
    """The sandbox's current component_verify_ticket, stored as a push would store it.

    After this, `component_access_token_get()` works (the first call fetches a token from the
    sandbox). Returns the sandbox (the same object as `wechat_api`).
    """
    from component.services.token import component_ticket_store

    ticket = wechat_api.state.ticket or wechat_api.state.issue_ticket()
    component_ticket_store(ticket=ticket, received_at=timezone.now())
    return wechat_api


@pytest.fixture
def merchant(db):
    """A plain active merchant named "Test Merchant" (no API key)."""
    from authorizers.models import Merchant

    return Merchant.objects.create(name="Test Merchant")


@pytest.fixture
def authorizer_factory(
    component_ready, merchant, celery_eager, django_capture_on_commit_callbacks
) -> Callable[..., object]:
    """authorizer_factory(appid=COFFEE_APPID, merchant=None, func_info=None) -> Authorizer.

    Onboards a sandbox account the way the browser callback does: the sandbox's admin
    consents (optionally granting `func_info` permission-set ids instead of the account's
    demo grant), the product exchanges the code with api_query_auth and stores the account
    under `merchant` (default: the `merchant` fixture), then the info sync runs inline. The
    returned Authorizer is fresh from the database: active, with access and refresh tokens,
    permission sets, nickname, service and verify types. Demo appids: sandbox.demo.
    """
    from authorizers.models import Authorizer
    from authorizers.services.onboarding.authorization import authorization_complete

    default_merchant = merchant

    def make(appid: str = COFFEE_APPID, merchant=None, func_info: list[int] | None = None):
        consent = component_ready.state.consent(appid, func_info=func_info)
        with django_capture_on_commit_callbacks(execute=True):
            authorizer = authorization_complete(
                merchant=merchant or default_merchant, authorization_code=consent.auth_code
            )
        return Authorizer.objects.get(pk=authorizer.pk)

    return make
