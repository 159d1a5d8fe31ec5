"""WeChat quota is the merchants' money (SPEC section 10), end to end against the sandbox:
the quota endpoint, the local stop after a 45009, the reset, and rid lookups."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from authorizers.models import Authorizer
from authorizers.services.quota.readings import authorizer_quota_resets_used
from sandbox.demo import COFFEE_APPID, demo_openid

from .support import error_of, getidlist_calls, tags_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]

GETIDLIST = "/cgi-bin/tags/getidlist"
OPENID = demo_openid(COFFEE_APPID, 0)


def _quota(tenant):
    response = tenant.client.get(f"/api/v1/authorizers/{COFFEE_APPID}/quota")
    assert response.status_code == 200, response.content
    return {row["api"]: row for row in response.json()["apis"]}


def test_the_quota_of_every_api_the_capabilities_use(coffee, tenant, wechat_api):
    for _ in range(3):
        assert tenant.client.get(tags_url(COFFEE_APPID, OPENID)).status_code == 200

    apis = _quota(tenant)

    assert set(apis) == {GETIDLIST, "/cgi-bin/tags/get", "/cgi-bin/user/info/batchget"}
    getidlist = apis[GETIDLIST]
    assert (getidlist["used"], getidlist["remain"]) == (3, getidlist["daily_limit"] - 3)
    assert getidlist["checked_at"]
    calls = wechat_api.state.calls("/cgi-bin/openapi/quota/get")
    _quota(tenant)  # cached: WeChat is not asked again
    assert wechat_api.state.calls("/cgi-bin/openapi/quota/get") == calls


def test_another_merchants_quota_is_a_404(coffee, other_tenant, wechat_api):
    response = other_tenant.client.get(f"/api/v1/authorizers/{COFFEE_APPID}/quota")
    assert response.status_code == 404
    assert wechat_api.state.calls("/cgi-bin/openapi/quota/get") == 0


def test_after_45009_the_api_is_refused_locally_until_a_reset(coffee, tenant, wechat_api):
    wechat_api.state.settings.update({"daily_quota": {GETIDLIST: 1}})
    assert tenant.client.get(tags_url(COFFEE_APPID, OPENID)).status_code == 200
    refused = tenant.client.get(tags_url(COFFEE_APPID, OPENID))  # WeChat: 45009
    assert refused.status_code == 429
    assert error_of(refused)["wechat_errcode"] == 45009
    calls = getidlist_calls(wechat_api, COFFEE_APPID)

    again = tenant.client.get(tags_url(COFFEE_APPID, OPENID))

    assert again.status_code == 429
    error = error_of(again)
    assert (error["code"], error["wechat_errcode"]) == ("rate_limited", 45009)
    assert 0 < int(again["Retry-After"]) <= 24 * 3600  # WeChat's midnight, China time
    assert getidlist_calls(wechat_api, COFFEE_APPID) == calls  # no call after the 45009
    assert _quota(tenant)[GETIDLIST]["remain"] == 0  # the 45009 dropped the cached reading
    metrics = Client().get("/metrics").content.decode()
    assert f'wechat_quota_stopped_accounts{{api="{GETIDLIST}"}} 1.0' in metrics

    call_command("clear_authorizer_quota", COFFEE_APPID)

    assert tenant.client.get(tags_url(COFFEE_APPID, OPENID)).status_code == 200
    assert authorizer_quota_resets_used(Authorizer.objects.get(appid=COFFEE_APPID)) == 1


def test_the_eleventh_reset_of_a_month_is_refused_in_words(coffee, wechat_api):
    for _ in range(10):
        call_command("clear_authorizer_quota", COFFEE_APPID)
    with pytest.raises(CommandError, match="used all 10 quota resets of this month"):
        call_command("clear_authorizer_quota", COFFEE_APPID)
    assert authorizer_quota_resets_used(Authorizer.objects.get(appid=COFFEE_APPID)) == 10


def test_explain_rid_prints_what_wechat_recorded_secrets_masked(coffee, tenant, capsys):
    response = tenant.client.get(tags_url(COFFEE_APPID, "o" + "x" * 27))  # not a follower
    rid = error_of(response)["rid"]
    assert rid

    call_command("explain_rid", COFFEE_APPID, rid)

    request = json.loads(capsys.readouterr().out)
    assert GETIDLIST in request["request_url"]
    assert coffee.access_token not in json.dumps(request)
    with pytest.raises(CommandError, match="rids are kept 7 days"):
        call_command("explain_rid", COFFEE_APPID, "00000000-00000000-00000000")
