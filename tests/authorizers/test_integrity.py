"""Token and ownership integrity on the paths outside testing found broken (SPEC section 9).

Each test puts a WeChat answer "in flight" across another writer: the real call is made to the
sandbox, then, before its answer reaches our code, another rule runs to completion. That is
the interleaving that let a stale answer win.
"""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.db import OperationalError

from authorizers.models import Authorizer, Merchant, OwnershipConflict
from authorizers.services.onboarding.holding import merchant_holding_get
from authorizers.services.onboarding.invites import invite_create
from authorizers.services.onboarding.ownership import authorization_attempt_record
from authorizers.services.sync import authorizer_sync_info, authorizers_import_all
from authorizers.services.tokens import state as token_state
from authorizers.services.tokens.refresh import authorizer_refresh_access_token
from authorizers.services.tokens.sweep import authorizer_tokens_unconfirmed
from component.client import ComponentClient
from component.models import ComponentEvent
from sandbox.demo import COFFEE_APPID
from tests.component.pushes import consent_xml, deliver, push_xml

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]


def _rotating(sandbox, grace: float = 0) -> None:
    sandbox.state.settings.rotate_refresh_token = True
    sandbox.state.settings.refresh_token_grace_seconds = grace


def _current(sandbox, appid: str = COFFEE_APPID) -> str:
    return sandbox.state.authorizers[appid].refresh.current


def _in_flight(method: str, during):
    """Patch ComponentClient.`method`: make the real call, run `during`, then answer."""
    real = getattr(ComponentClient, method)

    def delayed(self, *args, **kwargs):
        answer = real(self, *args, **kwargs)
        during()
        return answer

    return mock.patch.object(ComponentClient, method, delayed)


def _callback(client, merchant, code):
    return client.get(
        f"/authorize/{invite_create(merchant=merchant)}/callback/",
        {"auth_code": code, "expires_in": 600},
    )


def _unauthorized(client, appid: str, create_time: int):
    xml = push_xml("unauthorized", create_time, AuthorizerAppid=appid)
    return deliver(client, xml)


# --- 1. a sync or an import must not write back a token WeChat has replaced -----------------
def test_info_sync_does_not_write_back_a_replaced_refresh_token(authorizer_factory, wechat_api):
    account = authorizer_factory()
    _rotating(wechat_api)

    def refresh_meanwhile():
        authorizer_refresh_access_token(authorizer_id=account.pk, force=True)

    with _in_flight("get_authorizer_info", refresh_meanwhile):
        authorizer_sync_info(authorizer_id=account.pk)

    stored = Authorizer.objects.get(pk=account.pk)
    assert stored.refresh_token == _current(wechat_api)
    # The chain is intact: the next refresh is accepted (it was 61023 → 410 before).
    authorizer_refresh_access_token(authorizer_id=account.pk, force=True)
    assert Authorizer.objects.get(pk=account.pk).status == Authorizer.Status.ACTIVE


def test_import_does_not_write_back_a_replaced_token_nor_reactivate(
    authorizer_factory, wechat_api, client
):
    account = authorizer_factory()
    _rotating(wechat_api)

    def revoke_meanwhile():
        # A refresh rotates the token the listing carries, then the merchant cancels.
        authorizer_refresh_access_token(authorizer_id=account.pk, force=True)
        assert _unauthorized(client, COFFEE_APPID, int(time.time()) + 1).content == b"success"

    # The listing left WeChat before the unauthorized push arrived.
    with _in_flight("get_authorizer_list", revoke_meanwhile):
        authorizers_import_all(sync_info=False)

    assert Authorizer.objects.get(pk=account.pk).status == Authorizer.Status.REVOKED


def test_import_with_a_rotated_token_listed_stores_the_current_one(authorizer_factory, wechat_api):
    account = authorizer_factory()
    _rotating(wechat_api)

    def refresh_meanwhile():
        authorizer_refresh_access_token(authorizer_id=account.pk, force=True)

    with _in_flight("get_authorizer_list", refresh_meanwhile):
        authorizers_import_all(sync_info=False)

    assert Authorizer.objects.get(pk=account.pk).refresh_token == _current(wechat_api)


# --- 2. ownership -----------------------------------------------------------------------------
def test_a_stopped_account_moves_to_the_merchant_that_authorizes_it(
    client, authorizer_factory, component_ready, django_capture_on_commit_callbacks
):
    old_owner = Merchant.objects.create(name="Merchant B")
    account = authorizer_factory(merchant=old_owner)
    assert _unauthorized(client, COFFEE_APPID, int(time.time())).content == b"success"
    new_owner = Merchant.objects.create(name="Merchant A")

    code = component_ready.state.consent(COFFEE_APPID).auth_code
    with django_capture_on_commit_callbacks(execute=True):
        page = _callback(client, new_owner, code)

    assert page.status_code == 200, page.content
    moved = Authorizer.objects.get(pk=account.pk)
    assert (moved.merchant, moved.status) == (new_owner, Authorizer.Status.ACTIVE)
    assert moved.refresh_token == _current(component_ready)
    assert not old_owner.authorizers.exists()


def test_an_active_account_stays_and_operators_see_the_conflict(
    client, admin_client, authorizer_factory, component_ready, settings
):
    account = authorizer_factory()
    claimant = Merchant.objects.create(name="Merchant X")
    code = component_ready.state.consent(COFFEE_APPID).auth_code

    settings.SUPPORT_CONTACT = "ops@provider.example"
    page = _callback(client, claimant, code)

    assert page.status_code == 409
    assert "operators have been told" in page.content.decode()
    assert "ops@provider.example" in page.content.decode()  # whom to contact
    kept = Authorizer.objects.get(pk=account.pk)
    assert kept.merchant_id == account.merchant_id
    assert kept.refresh_token == _current(component_ready)  # the owner keeps a working one
    conflict = OwnershipConflict.objects.get()
    assert (conflict.authorizer_id, conflict.claimant_id) == (account.pk, claimant.pk)
    dashboard = admin_client.get("/admin/dashboard/").content.decode()
    assert "Ownership conflicts" in dashboard and "Merchant X" in dashboard

    transfer = {"action": "transfer_to_claimant", "_selected_action": [conflict.pk]}
    asked = admin_client.post("/admin/authorizers/ownershipconflict/", transfer)
    assert asked.status_code == 200 and "Merchant X" in asked.content.decode()
    assert Authorizer.objects.get(pk=account.pk).merchant_id == account.merchant_id  # asks first
    response = admin_client.post(
        "/admin/authorizers/ownershipconflict/", {**transfer, "confirm": "yes"}
    )
    assert response.status_code == 302
    assert Authorizer.objects.get(pk=account.pk).merchant == claimant
    assert OwnershipConflict.objects.get().resolution == "transferred"


def test_a_conflict_is_closed_when_the_account_moves_to_a_third_merchant(
    client, admin_client, authorizer_factory, component_ready, django_capture_on_commit_callbacks
):
    """B's claim was refused while A owned the account; A revokes, C authorizes it: the
    claim says nothing about C's account, and a late "transfer" must not hand it to B."""
    owner_a = Merchant.objects.create(name="Merchant A")
    account = authorizer_factory(merchant=owner_a)
    claimant_b = Merchant.objects.create(name="Merchant B")
    code = component_ready.state.consent(COFFEE_APPID).auth_code
    assert _callback(client, claimant_b, code).status_code == 409
    conflict = OwnershipConflict.objects.get()
    assert conflict.resolved_at is None

    assert _unauthorized(client, COFFEE_APPID, int(time.time()) + 1).content == b"success"
    owner_c = Merchant.objects.create(name="Merchant C")
    code = component_ready.state.consent(COFFEE_APPID).auth_code
    with django_capture_on_commit_callbacks(execute=True):
        assert _callback(client, owner_c, code).status_code == 200
    assert Authorizer.objects.get(pk=account.pk).merchant == owner_c

    conflict.refresh_from_db()
    assert conflict.resolved_at is not None and conflict.resolution == "superseded"
    response = admin_client.post(
        "/admin/authorizers/ownershipconflict/",
        {"action": "transfer_to_claimant", "_selected_action": [conflict.pk], "confirm": "yes"},
    )
    assert response.status_code == 302
    assert Authorizer.objects.get(pk=account.pk).merchant == owner_c


def test_a_transfer_refuses_a_conflict_about_a_former_owner(authorizer_factory, component_ready):
    """However the account changed owner (any path, or a conflict left open from before),
    the transfer checks the owner the claim was refused for, and moves nothing."""
    from authorizers.services.onboarding.ownership import (
        OwnershipConflictStale,
        ownership_conflict_record,
        ownership_conflict_transfer,
    )

    owner_a = Merchant.objects.create(name="Merchant A")
    account = authorizer_factory(merchant=owner_a)
    claimant_b = Merchant.objects.create(name="Merchant B")
    ownership_conflict_record(authorizer=account, claimant=claimant_b)
    conflict = OwnershipConflict.objects.get()
    owner_c = Merchant.objects.create(name="Merchant C")
    Authorizer.objects.filter(pk=account.pk).update(merchant=owner_c)

    with pytest.raises(OwnershipConflictStale):
        ownership_conflict_transfer(conflict_id=conflict.pk)
    assert Authorizer.objects.get(pk=account.pk).merchant == owner_c
    conflict.refresh_from_db()
    assert conflict.resolution == "superseded"
    with pytest.raises(OwnershipConflictStale):  # closed: refused again, still nothing moves
        ownership_conflict_transfer(conflict_id=conflict.pk)
    assert Authorizer.objects.get(pk=account.pk).merchant == owner_c


def test_a_parked_account_is_claimed_only_by_the_invite_that_started_it(
    client, merchant, component_ready, django_capture_on_commit_callbacks
):
    consent = component_ready.state.consent(COFFEE_APPID)
    xml = consent_xml(consent)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, xml).content == b"success"
    parked = Authorizer.objects.get()
    assert parked.merchant.is_holding
    stranger = Merchant.objects.create(name="Any Merchant")

    assert _callback(client, stranger, consent.auth_code).status_code == 400
    assert Authorizer.objects.get().merchant.is_holding

    authorization_attempt_record(merchant=merchant, pre_auth_code=consent.pre_auth_code)
    assert _callback(client, merchant, consent.auth_code).status_code == 200
    assert Authorizer.objects.get().merchant == merchant


def test_the_holding_merchant_is_a_flag_not_a_name(client, component_ready):
    named_alike = Merchant.objects.create(name="Unassigned")
    # A real merchant that happens to carry the name has a working invite...
    assert client.get(f"/authorize/{invite_create(merchant=named_alike)}/").status_code == 200
    # ...and is not where unclaimed accounts go; the holding merchant has no invite at all.
    holding = merchant_holding_get()
    assert holding != named_alike and holding.is_holding
    assert client.get(f"/authorize/{invite_create(merchant=holding)}/").status_code == 400


# --- 3/4. events in order; answers WeChat gave are not lost ----------------------------------
def test_a_late_unauthorized_does_not_revoke_a_newer_authorization(
    client, authorizer_factory, component_ready
):
    account = authorizer_factory()
    before = int(account.authorized_at.timestamp()) - 60

    assert _unauthorized(client, COFFEE_APPID, before).content == b"success"

    assert Authorizer.objects.get(pk=account.pk).status == Authorizer.Status.ACTIVE
    assert ComponentEvent.objects.get(info_type="unauthorized").status == "ignored"


def test_a_failed_commit_after_a_rotating_refresh_is_retried(authorizer_factory, wechat_api):
    account = authorizer_factory()
    _rotating(wechat_api)
    real, failures = token_state._save, []

    def fail_once(row, fields):
        if "refresh_token" in fields and not failures:
            failures.append(1)
            raise OperationalError("server closed the connection unexpectedly")
        return real(row, fields)

    with mock.patch.object(token_state, "_save", fail_once):
        authorizer_refresh_access_token(authorizer_id=account.pk, force=True)

    assert failures and Authorizer.objects.get(pk=account.pk).refresh_token == _current(wechat_api)


def test_an_answer_that_never_reached_the_row_is_repaired_by_the_sweep(
    authorizer_factory, wechat_api, settings
):
    account = authorizer_factory()
    _rotating(wechat_api, grace=300)
    settings.AUTHORIZER_REFRESH_INTENT_STALE_SECONDS = 0

    def always_fail(row, fields):
        raise OperationalError("the database went away")

    with mock.patch.object(token_state, "_save", always_fail), pytest.raises(Exception):
        authorizer_refresh_access_token(authorizer_id=account.pk, force=True)
    stale = Authorizer.objects.get(pk=account.pk).refresh_token
    assert stale != _current(wechat_api)  # WeChat rotated; we kept the old one (in grace)

    batches = authorizer_tokens_unconfirmed()
    assert batches == [[account.pk]]
    authorizer_refresh_access_token(authorizer_id=account.pk, force=True)  # the sweep's job
    assert Authorizer.objects.get(pk=account.pk).refresh_token == _current(wechat_api)
    assert authorizer_tokens_unconfirmed() == []


def test_query_auth_is_not_retried_after_a_timeout(
    client, merchant, component_ready, settings, django_capture_on_commit_callbacks
):
    settings.WECHAT_READ_TIMEOUT = 0.5
    consent = component_ready.state.consent(COFFEE_APPID)
    authorization_attempt_record(merchant=merchant, pre_auth_code=consent.pre_auth_code)
    xml = consent_xml(consent)
    with mock.patch("authorizers.receivers.transaction.on_commit"):
        assert deliver(client, xml).content == b"success"  # recorded; its task not run
    component_ready.set_faults(
        timeout_rate=1.0, timeout_seconds=2, path_prefix="/cgi-bin/component/api_query_auth"
    )

    with django_capture_on_commit_callbacks(execute=True):
        page = _callback(client, merchant, consent.auth_code)

    assert page.status_code == 200, page.content
    assert component_ready.state.calls("api_query_auth") == 1
    stored = Authorizer.objects.get(appid=COFFEE_APPID)
    assert (stored.merchant, stored.refresh_token) == (merchant, _current(component_ready))


# --- the paths around them --------------------------------------------------------------------
def test_operators_can_dismiss_a_claim(client, admin_client, authorizer_factory, component_ready):
    account = authorizer_factory()
    claimant = Merchant.objects.create(name="Merchant X")
    assert _callback(client, claimant, component_ready.state.consent(COFFEE_APPID).auth_code)
    conflict = OwnershipConflict.objects.get()

    admin_client.post(
        "/admin/authorizers/ownershipconflict/",
        {"action": "dismiss", "_selected_action": [conflict.pk]},
    )

    assert OwnershipConflict.objects.get().resolution == "dismissed"
    assert Authorizer.objects.get(pk=account.pk).merchant_id == account.merchant_id
    assert "Merchant X" not in admin_client.get("/admin/dashboard/").content.decode()


def _authorized_push(client, consent, create_time: int):
    return deliver(client, consent_xml(consent, create_time))


def test_an_authorized_push_older_than_the_stored_state_is_not_exchanged(
    client, authorizer_factory, component_ready
):
    from authorizers.services.onboarding.pushes import authorizer_apply_authorization_event

    account = authorizer_factory()
    stale = component_ready.state.consent(COFFEE_APPID)
    with mock.patch("authorizers.receivers.transaction.on_commit"):
        _authorized_push(client, stale, int(account.authorized_at.timestamp()) - 120)
    calls = component_ready.state.calls("api_query_auth")

    event = ComponentEvent.objects.get(info_type="authorized")
    assert authorizer_apply_authorization_event(event_id=event.pk) == "outdated"
    assert component_ready.state.calls("api_query_auth") == calls
    assert Authorizer.objects.get(pk=account.pk).refresh_token == account.refresh_token


def test_a_push_whose_exchange_timed_out_recovers_the_grant(
    client, merchant, component_ready, settings
):
    from authorizers.services.onboarding.pushes import authorizer_apply_authorization_event

    settings.WECHAT_READ_TIMEOUT = 0.5
    consent = component_ready.state.consent(COFFEE_APPID)
    authorization_attempt_record(merchant=merchant, pre_auth_code=consent.pre_auth_code)
    with mock.patch("authorizers.receivers.transaction.on_commit"):
        _authorized_push(client, consent, int(time.time()))
    component_ready.set_faults(
        timeout_rate=1.0, timeout_seconds=2, path_prefix="/cgi-bin/component/api_query_auth"
    )

    event = ComponentEvent.objects.get(info_type="authorized")
    assert authorizer_apply_authorization_event(event_id=event.pk) == "recovered"

    assert component_ready.state.calls("api_query_auth") == 1
    stored = Authorizer.objects.get(appid=COFFEE_APPID)
    assert (stored.merchant, stored.refresh_token) == (merchant, _current(component_ready))


def test_import_parks_a_stopped_account_it_finds_authorized_again(
    client, authorizer_factory, component_ready
):
    old_owner = Merchant.objects.create(name="Merchant B")
    account = authorizer_factory(merchant=old_owner)
    component_ready.state.revoke(COFFEE_APPID)
    assert _unauthorized(client, COFFEE_APPID, int(time.time()) + 1).content == b"success"
    assert Authorizer.objects.get(pk=account.pk).status == Authorizer.Status.REVOKED
    # Authorized again later, outside our invites, and exchanged: only the list shows it.
    component_ready.state.advance_clock(60)
    component_ready.state.authorize(COFFEE_APPID)

    authorizers_import_all(sync_info=False)

    found = Authorizer.objects.get(pk=account.pk)
    assert found.status == Authorizer.Status.ACTIVE
    assert found.merchant.is_holding  # nobody chose to give it back to Merchant B
    assert found.refresh_token == _current(component_ready)
