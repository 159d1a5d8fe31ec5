"""The operators' call log: one masked row per authenticated call."""

import pytest

from authorizers.models import ApiCall
from merchant_api.call_log import mask_openid
from tests.api.support import COFFEE_APPID, UNKNOWN_OPENID, bulk_url, demo_openid, tags_url


def test_mask_openid():
    assert mask_openid("oAbcdefghijklmnopqrstuvwxyz9") == "oAbc…xyz9"
    assert mask_openid("") == ""


def test_rows_for_success_and_wechat_error(coffee, tenant, wechat_api):
    openid = demo_openid(COFFEE_APPID, 0)
    tenant.client.get(tags_url(COFFEE_APPID, openid))
    tenant.client.get(tags_url(COFFEE_APPID, UNKNOWN_OPENID))
    tenant.client.post(bulk_url(COFFEE_APPID), {"openids": [openid] * 3}, format="json")
    bulk, failed, ok = ApiCall.objects.order_by("-id")[:3]
    assert (ok.endpoint, ok.result, ok.status_code) == ("user_tags", "ok", 200)
    assert ok.merchant_id == tenant.merchant.pk and ok.api_key_id == tenant.api_key.pk
    assert ok.authorizer_id == coffee.pk and ok.authorizer_appid == COFFEE_APPID
    assert ok.openid_masked == mask_openid(openid) and openid not in ok.openid_masked
    assert (failed.result, failed.status_code, failed.wechat_errcode) == (
        "invalid_openid",
        422,
        40003,
    )
    assert len(failed.rid) == 26
    assert (bulk.endpoint, bulk.item_count, bulk.result) == ("user_tags_bulk", 3, "ok")


def test_unauthenticated_and_own_rate_limit_are_not_rows(coffee, tenant, wechat_api):
    from rest_framework.test import APIClient

    APIClient().get("/api/v1/authorizers/")
    tenant.api_key.rate_limit_burst = 1
    tenant.api_key.save()
    tenant.client.get("/api/v1/authorizers/")
    assert tenant.client.get("/api/v1/authorizers/").status_code == 429
    assert ApiCall.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_buffered_log_runs_no_sql_in_the_request(coffee, tenant, wechat_api, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from merchant_api.call_log import api_call_log_flush

    url = tags_url(COFFEE_APPID, demo_openid(COFFEE_APPID, 0))
    tenant.client.get(url)  # warm caches
    api_call_log_flush()
    settings.API_CALL_LOG_FLUSH_SECONDS = 60  # the thread will not flush during the test
    rows = ApiCall.objects.count()
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert tenant.client.get(url).status_code == 200
    assert len(queries) == 0
    api_call_log_flush()
    assert ApiCall.objects.count() == rows + 5
