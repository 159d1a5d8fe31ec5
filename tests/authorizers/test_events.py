"""What authorization events do to accounts, and the Celery tasks behind them."""

import time

import pytest

from authorizers.models import Authorizer
from authorizers.services.onboarding.pushes import authorizer_apply_authorization_event
from authorizers.services.status import authorizer_apply_unauthorized
from authorizers.services.sync import authorizer_sync_info
from authorizers.tasks.sync import authorizer_sync_info_task
from component.models import ComponentEvent
from sandbox.demo import COFFEE_APPID
from tests.component.pushes import deliver, push_xml

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]


def test_unauthorized_for_an_unknown_account_is_applied_as_a_no_op(client):
    xml = push_xml("unauthorized", int(time.time()), AuthorizerAppid="wx1999999999999999")
    assert deliver(client, xml).content == b"success"
    assert ComponentEvent.objects.get().status == ComponentEvent.Status.APPLIED
    assert Authorizer.objects.count() == 0


def test_revoke_clears_the_access_token_and_keeps_history(authorizer_factory):
    account = authorizer_factory()
    revoked = authorizer_apply_unauthorized(appid=account.appid)
    assert revoked.status == Authorizer.Status.REVOKED
    assert (revoked.access_token, revoked.access_token_expires_at) == ("", None)
    assert revoked.authorized_at == account.authorized_at


def test_a_revoked_account_is_not_synced(authorizer_factory, component_ready):
    account = authorizer_factory()
    authorizer_apply_unauthorized(appid=account.appid)
    calls = component_ready.state.calls("api_get_authorizer_info")
    assert authorizer_sync_info(authorizer_id=account.pk).status == Authorizer.Status.REVOKED
    assert component_ready.state.calls("api_get_authorizer_info") == calls


def test_an_unusable_pushed_code_is_reported_not_retried(client, component_ready):
    xml = push_xml(
        "authorized",
        int(time.time()),
        AuthorizerAppid=COFFEE_APPID,
        AuthorizationCode="queryauthcode@@@never-issued",
    )
    deliver(client, xml)  # its task is enqueued on commit, which never comes in this test
    event = ComponentEvent.objects.get()

    assert authorizer_apply_authorization_event(event_id=event.pk) == "code_invalid"
    assert authorizer_apply_authorization_event(event_id=event.pk) == "already_exchanged"
    assert component_ready.state.calls("api_query_auth") == 1  # the code was forgotten
    assert Authorizer.objects.count() == 0


def test_info_sync_revokes_when_wechat_says_authorization_is_gone(
    authorizer_factory, component_ready
):
    account = authorizer_factory()
    component_ready.state.revoke(COFFEE_APPID)  # and the push got lost

    synced = authorizer_sync_info(authorizer_id=account.pk)

    assert synced.status == Authorizer.Status.REVOKED
    assert Authorizer.objects.get(pk=account.pk).access_token == ""


def test_sync_task_retries_when_wechat_is_busy(authorizer_factory, component_ready):
    account = authorizer_factory()
    component_ready.state.update_authorizer(COFFEE_APPID, {"nick_name": "Coffee Renamed"})
    # More -1 answers than one transport call retries (3 attempts): the task itself retries.
    component_ready.set_faults(path_prefix="/cgi-bin/component/api_get_authorizer_info",
                               error_rate=1.0, count=4)  # fmt: skip

    # throw=False: eager Celery only re-runs a retried task when it does not propagate.
    result = authorizer_sync_info_task.apply(args=[account.pk], throw=False)

    assert result.successful()
    assert Authorizer.objects.get(pk=account.pk).nickname == "Coffee Renamed"
    assert component_ready.state.calls("api_get_authorizer_info") == 1 + 5
