"""Who owns an account: re-authorization in place, refusals, and the push/callback race."""

import time

import pytest

from authorizers.models import Authorizer, Merchant
from authorizers.services.onboarding.invites import UNASSIGNED_MERCHANT_NAME, invite_create
from authorizers.services.onboarding.ownership import authorization_attempt_record
from component.models import ComponentEvent
from sandbox.demo import BOOKS_APPID, COFFEE_APPID
from tests.component.pushes import consent_xml, deliver, push_xml

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]


def _callback(client, merchant, code):
    return client.get(
        f"/authorize/{invite_create(merchant=merchant)}/callback/",
        {"auth_code": code, "expires_in": 600},
    )


def test_reauthorization_updates_the_account_in_place(
    client, authorizer_factory, component_ready, django_capture_on_commit_callbacks
):
    account = authorizer_factory()
    code = component_ready.state.consent(COFFEE_APPID, func_info=[1, 100]).auth_code
    with django_capture_on_commit_callbacks(execute=True):
        assert _callback(client, account.merchant, code).status_code == 200

    again = Authorizer.objects.get()
    assert again.pk == account.pk
    assert again.permission_sets == [1, 100]
    assert again.refresh_token == component_ready.state.authorizers[COFFEE_APPID].refresh.current
    assert again.refresh_token != account.refresh_token


def test_an_account_of_another_merchant_is_not_moved(client, authorizer_factory, component_ready):
    account = authorizer_factory()
    intruder = Merchant.objects.create(name="Other Merchant")
    code = component_ready.state.consent(COFFEE_APPID).auth_code

    page = _callback(client, intruder, code)

    assert page.status_code == 409
    assert "already connected to another merchant" in page.content.decode()
    kept = Authorizer.objects.get()
    assert kept.merchant_id == account.merchant_id
    assert intruder.authorizers.count() == 0
    # WeChat replaced the refresh token on this consent: the owner keeps a working one.
    assert kept.refresh_token == component_ready.state.authorizers[COFFEE_APPID].refresh.current


def test_push_first_then_callback_claims_the_account(
    client, merchant, component_ready, django_capture_on_commit_callbacks
):
    consent = component_ready.state.consent(BOOKS_APPID)
    # The push matches no /start/ of ours: the account waits under the holding merchant.
    xml = push_xml(
        "authorized",
        int(time.time()),
        AuthorizerAppid=BOOKS_APPID,
        AuthorizationCode=consent.auth_code,
        AuthorizationCodeExpiredTime=int(time.time()) + 600,
        PreAuthCode=consent.pre_auth_code,
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, xml).content == b"success"
    parked = Authorizer.objects.get()
    assert parked.merchant.name == UNASSIGNED_MERCHANT_NAME
    assert ComponentEvent.objects.get().authorization_code == ""  # used up, forgotten

    # Only the invite whose /start/ issued the push's pre_auth_code may claim it.
    authorization_attempt_record(merchant=merchant, pre_auth_code=consent.pre_auth_code)
    page = _callback(client, merchant, consent.auth_code)  # WeChat answers 61009 now

    assert page.status_code == 200
    claimed = Authorizer.objects.get()
    assert (claimed.pk, claimed.merchant) == (parked.pk, merchant)
    assert claimed.permission_sets == [1, 100]
    assert component_ready.state.calls("api_query_auth") == 2


def test_callback_first_then_push_is_already_done(
    client, merchant, component_ready, django_capture_on_commit_callbacks
):
    consent = component_ready.state.consent(COFFEE_APPID)
    assert _callback(client, merchant, consent.auth_code).status_code == 200
    xml = consent_xml(consent)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, xml).content == b"success"

    account = Authorizer.objects.get()
    assert account.merchant == merchant
    assert not Merchant.objects.filter(name=UNASSIGNED_MERCHANT_NAME).exists()
    assert ComponentEvent.objects.get().status == ComponentEvent.Status.APPLIED
