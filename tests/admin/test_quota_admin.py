"""Operators and WeChat quota: readings as bars, the reset (and WeChat's 48006 in words), the
local stop shown on the account, accounts above 80% on the dashboard, and rid lookups from
the call log. Against the sandbox."""

from __future__ import annotations

import pytest
from django.urls import reverse

from authorizers.models import ApiCall, QuotaReading
from sandbox.demo import COFFEE_APPID, demo_openid
from tests.api.support import make_tenant, tags_url

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:authorizers_authorizer_changelist"
GETIDLIST = "/cgi-bin/tags/getidlist"


@pytest.fixture
def coffee(authorizer_factory):
    return authorizer_factory(appid=COFFEE_APPID)


def _act(client, action, *objects, changelist=CHANGELIST, **extra):
    data = {"action": action, "_selected_action": [o.pk for o in objects], **extra}
    return client.post(reverse(changelist), data, follow=True)


def _reset(client, *objects):
    """The reset as confirmed on its page (the first POST only asks)."""
    return _act(client, "reset_quota", *objects, confirm="yes")


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_quota_check_shows_bars_and_the_dashboard_lists_accounts_above_80_percent(
    admin_client, coffee, wechat_api
):
    wechat_api.state.settings.update({"daily_quota": {GETIDLIST: 10}})
    tenant = make_tenant("Quota Merchant")
    coffee.merchant = tenant.merchant
    coffee.save(update_fields=["merchant"])
    for _ in range(9):
        response = tenant.client.get(tags_url(COFFEE_APPID, demo_openid(COFFEE_APPID, 0)))
        assert response.status_code == 200

    [message] = _messages(_act(admin_client, "check_quota", coffee))

    assert f"{GETIDLIST}: 9 of 10 used" in message
    page = admin_client.get(reverse("admin:authorizers_authorizer_change", args=[coffee.pk]))
    html = page.content.decode()
    assert 'id="wechat-quota"' in html and "9 of 10" in html
    assert "Quota resets used this month: 0 of 10" in html
    dashboard = admin_client.get("/admin/dashboard/").content.decode()
    assert "Accounts above 80% of a WeChat quota" in dashboard and GETIDLIST in dashboard
    assert QuotaReading.objects.get(api=GETIDLIST).used == 9


def test_reset_lifts_the_stop_and_48006_is_a_sentence(admin_client, coffee, wechat_api):
    for _ in range(10):
        [message] = _messages(_reset(admin_client, coffee))
    assert "10 of 10 resets used this month" in message

    [refused] = _messages(_reset(admin_client, coffee))

    assert "used all 10 quota resets of this month" in refused
    assert "48006" in refused


def test_reset_asks_first_then_shows_fresh_readings(admin_client, coffee, wechat_api):
    wechat_api.state.settings.update({"daily_quota": {GETIDLIST: 10}})
    tenant = make_tenant("Quota Merchant")
    coffee.merchant = tenant.merchant
    coffee.save(update_fields=["merchant"])
    for _ in range(4):
        response = tenant.client.get(tags_url(COFFEE_APPID, demo_openid(COFFEE_APPID, 0)))
        assert response.status_code == 200
    _act(admin_client, "check_quota", coffee)
    assert QuotaReading.objects.get(api=GETIDLIST).used == 4

    asked = _act(admin_client, "reset_quota", coffee).content.decode()

    assert 'id="confirm-reset-quota"' in asked and "0 of 10 resets used this month" in asked
    assert wechat_api.state.calls("clear_quota/v2") == 0  # nothing spent before the answer
    [message] = _messages(_reset(admin_client, coffee))
    assert "quota reset" in message and "1 of 10 resets used this month" in message
    assert wechat_api.state.calls("clear_quota/v2") == 1
    assert QuotaReading.objects.get(api=GETIDLIST).used == 0  # read again, not the old 4


def test_reset_of_a_stopped_account_is_refused_here(admin_client, coffee, wechat_api):
    from authorizers.services.status import authorizer_mark_revoked

    authorizer_mark_revoked(authorizer_id=coffee.pk)

    [message] = _messages(_reset(admin_client, coffee))

    assert "quota reset: not possible: the account is 'Revoked by the merchant'" in message
    assert wechat_api.state.calls("clear_quota/v2") == 0


def test_a_rid_in_the_call_log_is_explained_by_wechat(admin_client, coffee, settings):
    settings.API_CALL_LOG_FLUSH_SECONDS = 0
    tenant = make_tenant("Rid Merchant")
    coffee.merchant = tenant.merchant
    coffee.save(update_fields=["merchant"])
    assert tenant.client.get(tags_url(COFFEE_APPID, "o" + "y" * 27)).status_code == 422
    call = ApiCall.objects.exclude(rid="").get()

    response = _act(
        admin_client, "explain_rid", call, changelist="admin:authorizers_apicall_changelist"
    )

    html = response.content.decode()
    assert "What WeChat recorded" in html and call.rid in html
    assert GETIDLIST in html and coffee.access_token not in html
