"""authorizer_get_access_token / authorizer_refresh_access_token against the sandbox."""

from datetime import timedelta

import pytest
from django.utils import timezone

from authorizers.models import Authorizer
from authorizers.selectors.tokens import authorizer_list_expiring
from authorizers.services.tokens.errors import (
    AuthorizerTokenRefreshRetryable,
    AuthorizerUnavailable,
    RefreshResult,
)
from authorizers.services.tokens.refresh import (
    authorizer_get_access_token,
    authorizer_refresh_access_token,
)
from core.metrics import AUTHORIZERS_NEEDING_REAUTH, TOKEN_REFRESHES
from sandbox.demo import BOOKS_APPID, COFFEE_APPID

from .refresh_support import (
    AUTHORIZER_TOKEN_PATH,
    give_ticket,
    onboard,
    refresh_calls,
    sandbox_refresh_token,
    token_works,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox(wechat_api):
    give_ticket(wechat_api)
    return wechat_api


def _count(result: str) -> float:
    return TOKEN_REFRESHES.labels(result)._value.get()


def test_valid_token_is_returned_without_a_query(sandbox, django_assert_num_queries):
    authorizer = onboard(sandbox, expires_in=3600)
    with django_assert_num_queries(0):
        token = authorizer_get_access_token(authorizer=authorizer)
    assert token.token == authorizer.access_token
    assert token.version == 1
    assert refresh_calls(sandbox) == 0


def test_expired_token_is_refreshed_inline_and_the_instance_updated(
    sandbox, django_assert_num_queries
):
    authorizer = onboard(sandbox, expires_in=-5)
    token = authorizer_get_access_token(authorizer=authorizer)
    assert refresh_calls(sandbox, COFFEE_APPID) == 1
    assert token.version == 2
    assert token.expires_at > timezone.now() + timedelta(hours=1)
    assert token_works(sandbox, COFFEE_APPID, token.token)
    row = Authorizer.objects.get(pk=authorizer.pk)
    assert (row.access_token, row.token_version) == (token.token, 2)
    assert row.last_refreshed_at is not None
    # The caller's (cached) instance is current again: the next call costs nothing.
    with django_assert_num_queries(0):
        assert authorizer_get_access_token(authorizer=authorizer) == token


def test_token_inside_the_safety_margin_counts_as_expired(sandbox, settings):
    settings.AUTHORIZER_TOKEN_SAFETY_MARGIN_SECONDS = 60
    authorizer = onboard(sandbox, expires_in=30)
    assert authorizer_get_access_token(authorizer=authorizer).version == 2


def test_stale_version_returns_the_token_someone_else_stored(sandbox):
    authorizer = onboard(sandbox, expires_in=-5)
    first = authorizer_refresh_access_token(authorizer_id=authorizer.pk)
    again = authorizer_refresh_access_token(
        authorizer_id=authorizer.pk, stale_version=1, force=True
    )
    assert again == first
    assert refresh_calls(sandbox) == 1


def test_force_with_the_current_version_refreshes(sandbox):
    authorizer = onboard(sandbox, expires_in=3600)
    token = authorizer_refresh_access_token(
        authorizer_id=authorizer.pk, stale_version=1, force=True
    )
    assert token.version == 2
    assert refresh_calls(sandbox) == 1
    assert token_works(sandbox, COFFEE_APPID, token.token)
    # The sandbox killed the old token the moment it issued the new one (grace 0).
    assert not token_works(sandbox, COFFEE_APPID, authorizer.access_token)


def test_a_rotated_refresh_token_is_stored_with_the_access_token(sandbox):
    sandbox.state.settings.rotate_refresh_token = True
    authorizer = onboard(sandbox, expires_in=-5)
    old_refresh = authorizer.refresh_token
    authorizer_refresh_access_token(authorizer_id=authorizer.pk)
    row = Authorizer.objects.get(pk=authorizer.pk)
    assert row.refresh_token == sandbox_refresh_token(sandbox, COFFEE_APPID) != old_refresh


def test_61023_marks_reauth_required_and_stops_refreshes(sandbox):
    authorizer = onboard(sandbox, expires_in=-5)
    # Re-authorized, and that authorization's code never exchanged: our refresh token is dead
    # and WeChat holds none we could recover (api_get_authorizer_info has no refresh token).
    sandbox.state.consent(COFFEE_APPID)
    with pytest.raises(AuthorizerUnavailable) as caught:
        authorizer_get_access_token(authorizer=authorizer)
    assert caught.value.status == Authorizer.Status.REAUTH_REQUIRED
    row = Authorizer.objects.get(pk=authorizer.pk)
    assert row.status == Authorizer.Status.REAUTH_REQUIRED
    assert (row.access_token, row.access_token_expires_at) == ("", None)
    assert row.refresh_token == authorizer.refresh_token  # kept for the operator's record
    assert "61023" in row.last_refresh_error
    assert AUTHORIZERS_NEEDING_REAUTH._value.get() == 1
    assert authorizer.status == Authorizer.Status.REAUTH_REQUIRED  # the instance knows too
    # Refreshes stop: no further WeChat call, and the sweep no longer lists it.
    with pytest.raises(AuthorizerUnavailable):
        authorizer_refresh_access_token(authorizer_id=authorizer.pk, force=True)
    assert refresh_calls(sandbox) == 1
    assert not authorizer_list_expiring(within=timedelta(hours=3)).exists()


def test_61023_with_a_newer_token_at_wechat_recovers_it(sandbox):
    """An answer we lost (a crash after WeChat rotated the refresh token twice): WeChat's
    account info still says which refresh token is current, so the chain is picked up."""
    authorizer = onboard(sandbox, expires_in=-5)
    grant = sandbox.state.authorize(COFFEE_APPID)  # exchanged, but the answer never stored

    token = authorizer_get_access_token(authorizer=authorizer)

    row = Authorizer.objects.get(pk=authorizer.pk)
    assert (row.status, row.access_token) == (Authorizer.Status.ACTIVE, token.token)
    assert row.refresh_token == sandbox.state.authorizers[COFFEE_APPID].refresh.current
    assert grant["authorizer_refresh_token"] == row.refresh_token
    assert refresh_calls(sandbox) == 2  # the refused one, then the recovered one


def test_61003_marks_revoked(sandbox):
    authorizer = onboard(sandbox, expires_in=-5)
    sandbox.state.revoke(COFFEE_APPID)
    with pytest.raises(AuthorizerUnavailable) as caught:
        authorizer_refresh_access_token(authorizer_id=authorizer.pk)
    assert caught.value.status == Authorizer.Status.REVOKED
    row = Authorizer.objects.get(pk=authorizer.pk)
    assert row.status == Authorizer.Status.REVOKED and row.revoked_at is not None


def test_busy_is_retried_by_the_transport_then_raised_as_retryable(sandbox, settings):
    authorizer = onboard(sandbox, expires_in=-5)
    sandbox.set_faults(error_rate=1.0, path_prefix=AUTHORIZER_TOKEN_PATH)
    before = _count("busy")
    with pytest.raises(AuthorizerTokenRefreshRetryable) as caught:
        authorizer_refresh_access_token(authorizer_id=authorizer.pk)
    assert caught.value.result == RefreshResult.BUSY and caught.value.errcode == -1
    assert refresh_calls(sandbox) == settings.WECHAT_MAX_ATTEMPTS
    assert _count("busy") == before + 1
    row = Authorizer.objects.get(pk=authorizer.pk)
    assert row.status == Authorizer.Status.ACTIVE
    assert (row.token_version, row.refresh_token) == (1, authorizer.refresh_token)
    assert "-1" in row.last_refresh_error
    sandbox.clear_faults()
    assert authorizer_refresh_access_token(authorizer_id=authorizer.pk).version == 2
    assert Authorizer.objects.get(pk=authorizer.pk).last_refresh_error == ""


def test_quota_is_retryable_and_not_retried_in_place(sandbox):
    authorizer = onboard(sandbox, expires_in=-5)
    sandbox.set_faults(quota_rate=1.0, path_prefix=AUTHORIZER_TOKEN_PATH)
    with pytest.raises(AuthorizerTokenRefreshRetryable) as caught:
        authorizer_refresh_access_token(authorizer_id=authorizer.pk)
    assert (caught.value.result, caught.value.errcode) == (RefreshResult.QUOTA, 45009)
    assert refresh_calls(sandbox) == 1
    assert Authorizer.objects.get(pk=authorizer.pk).status == Authorizer.Status.ACTIVE


def test_connection_resets_are_retryable(sandbox, settings):
    authorizer = onboard(sandbox, expires_in=-5)
    sandbox.set_faults(reset_rate=1.0, path_prefix=AUTHORIZER_TOKEN_PATH)
    with pytest.raises(AuthorizerTokenRefreshRetryable) as caught:
        authorizer_refresh_access_token(authorizer_id=authorizer.pk)
    assert caught.value.result == RefreshResult.TRANSPORT_ERROR
    assert refresh_calls(sandbox) == settings.WECHAT_MAX_ATTEMPTS


def test_a_dead_component_token_is_refreshed_once(sandbox):
    authorizer = onboard(sandbox, expires_in=-5)
    authorizer_refresh_access_token(authorizer_id=authorizer.pk)  # caches a component token
    sandbox.state.expire_component_token()
    Authorizer.objects.filter(pk=authorizer.pk).update(access_token_expires_at=timezone.now())
    assert authorizer_refresh_access_token(authorizer_id=authorizer.pk).version == 3
    assert sandbox.state.calls("api_component_token") == 2


def test_list_expiring_skips_fresh_stopped_and_unrefreshable(sandbox):
    due = onboard(sandbox, COFFEE_APPID, expires_in=600)
    onboard(sandbox, BOOKS_APPID, expires_in=3600)
    merchant = due.merchant
    for appid, status in (("wx_revoked", "revoked"), ("wx_reauth", "reauth_required")):
        Authorizer.objects.create(merchant=merchant, appid=appid, status=status, refresh_token="r")
    Authorizer.objects.create(merchant=merchant, appid="wx_never_exchanged")
    no_token_yet = Authorizer.objects.create(merchant=merchant, appid="wx_new", refresh_token="r")
    listed = list(authorizer_list_expiring(within=timedelta(minutes=15)))
    assert listed == [no_token_yet, due]


def test_a_sweep_that_waits_out_a_write_lock_skips_the_row(sandbox):
    """A sweep finding another refresh of the row under way moves on without a call. On
    PostgreSQL the row lock's timeout ends the wait (here: patched to time out); on SQLite,
    which has no SKIP LOCKED, the refresh lease is tried once (here: held by another thread)."""
    import threading
    from unittest import mock

    from django.db import OperationalError, connection

    from authorizers.services.tokens import refresh as tokens
    from authorizers.services.tokens.lease import refresh_lease
    from authorizers.services.tokens.refresh import authorizer_refresh_if_expiring

    authorizer = onboard(sandbox, expires_in=-5)
    if connection.vendor == "sqlite":
        held, release = threading.Event(), threading.Event()

        def hold() -> None:
            with refresh_lease(authorizer_id=authorizer.pk, wait=True):
                held.set()
                release.wait(30)

        holder = threading.Thread(target=hold)
        holder.start()
        held.wait(30)
        try:
            result = authorizer_refresh_if_expiring(
                authorizer_id=authorizer.pk, within=timedelta(hours=3)
            )
        finally:
            release.set()
            holder.join(30)
    else:
        busy = OperationalError("database is locked")
        with mock.patch.object(tokens, "token_state_lock", side_effect=busy):
            result = authorizer_refresh_if_expiring(
                authorizer_id=authorizer.pk, within=timedelta(hours=3)
            )
    assert result == "locked"
    assert refresh_calls(sandbox) == 0


def test_a_refresh_lease_held_past_the_timeout_is_retryable_and_calls_nothing(sandbox, settings):
    """SQLite: a request that waits out another refresh's lease gets the retryable lock
    timeout (the API's 503), as PostgreSQL's lock_timeout gives it."""
    import threading

    from django.db import connection

    from authorizers.services.tokens.errors import AuthorizerTokenRefreshRetryable
    from authorizers.services.tokens.lease import refresh_lease
    from authorizers.services.tokens.refresh import authorizer_refresh_access_token

    if connection.vendor != "sqlite":
        pytest.skip("the lease is SQLite's stand-in for the row lock")
    settings.AUTHORIZER_TOKEN_LOCK_TIMEOUT_SECONDS = 0.2
    authorizer = onboard(sandbox, expires_in=-5)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with refresh_lease(authorizer_id=authorizer.pk, wait=True):
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(30)
    try:
        with pytest.raises(AuthorizerTokenRefreshRetryable) as refused:
            authorizer_refresh_access_token(authorizer_id=authorizer.pk)
    finally:
        release.set()
        holder.join(30)
    assert refused.value.result == "lock_timeout"
    assert refresh_calls(sandbox) == 0
    # Free again: the same refresh goes through.
    authorizer_refresh_access_token(authorizer_id=authorizer.pk)
    assert refresh_calls(sandbox) == 1
