"""POST .../users/tags: order kept, duplicates looked up once, one openid's failure is its own;
fetched with user/info/batchget, 100 followers a call (SPEC section 10)."""

import pytest

from tests.api.support import (
    BOOKS_APPID,
    COFFEE_APPID,
    UNKNOWN_OPENID,
    batchget_calls,
    bulk_url,
    demo_openid,
    getidlist_calls,
)

# Demo Coffee's users carry these tags (sandbox/demo.py).
EXPECTED = [[2, 100], [100], [], [101], [2], [100, 101, 102]]


def _post(tenant, openids):
    response = tenant.client.post(bulk_url(COFFEE_APPID), {"openids": openids}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_order_kept_and_per_item_errors(coffee, tenant, wechat_api):
    mine = [demo_openid(COFFEE_APPID, i) for i in range(6)]
    foreign = demo_openid(BOOKS_APPID, 0)
    openids = [mine[5], UNKNOWN_OPENID, mine[0], foreign, mine[2], mine[1], mine[3], mine[4]]
    results = _post(tenant, openids)
    assert [r["openid"] for r in results] == openids
    assert results[0] == {"openid": mine[5], "tagid_list": EXPECTED[5]}
    assert results[1]["error"]["code"] == "invalid_openid"
    assert results[1]["error"]["wechat_errcode"] == 40003
    assert results[3]["error"]["code"] == "openid_appid_mismatch"
    assert [r["tagid_list"] for r in results[4:]] == [EXPECTED[2], EXPECTED[1], EXPECTED[3], [2]]


def test_duplicates_are_looked_up_once(coffee, tenant, wechat_api):
    openid = demo_openid(COFFEE_APPID, 0)
    results = _post(tenant, [openid] * 50)
    assert len(results) == 50 and all(r["tagid_list"] == [2, 100] for r in results)
    assert (batchget_calls(wechat_api), getidlist_calls(wechat_api)) == (1, 0)


def test_a_thousand_openids(coffee, tenant, wechat_api):
    openids = [f"oBulk{i:023d}" for i in range(994)] + [
        demo_openid(COFFEE_APPID, i) for i in range(6)
    ]
    results = _post(tenant, openids)
    assert len(results) == 1000
    assert [r["openid"] for r in results] == openids
    assert all(r["error"]["code"] == "invalid_openid" for r in results[:994])
    assert [r["tagid_list"] for r in results[994:]] == EXPECTED
    # Every batch holds strangers: each is split in halves, then, both refused, asked openid
    # by openid with getidlist (one call per openid, as single lookups would cost).
    assert getidlist_calls(wechat_api) == 1000
    assert batchget_calls(wechat_api) <= 3 * 10


def test_transient_failures_are_per_batch(coffee, tenant, wechat_api, settings):
    settings.WECHAT_MAX_ATTEMPTS = 1
    wechat_api.set_faults(error_rate=1, path_prefix="/cgi-bin/user/info/batchget", count=1)
    openids = [demo_openid(COFFEE_APPID, i) for i in range(3)]
    results = _post(tenant, openids)  # one batch, and it gets the fault
    assert {r["error"]["code"] for r in results} == {"upstream_unavailable"}
    assert {r["error"]["wechat_errcode"] for r in results} == {-1}
    assert [r["tagid_list"] for r in _post(tenant, openids)] == EXPECTED[:3]


@pytest.mark.django_db(transaction=True)  # the 45009's local stop is written from a pool thread
def test_an_account_level_answer_stops_the_rest(coffee, tenant, wechat_api, settings):
    settings.TAGS_BULK_CONCURRENCY = 1
    settings.TAGS_BULK_CONCURRENCY = 1
    wechat_api.set_faults(quota_rate=1, path_prefix="/cgi-bin/user/info/batchget")
    openids = [f"oBulk{i:023d}" for i in range(194)] + [
        demo_openid(COFFEE_APPID, i) for i in range(6)
    ]
    response = tenant.client.post(bulk_url(COFFEE_APPID), {"openids": openids}, format="json")
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert all(r["error"]["code"] == "rate_limited" for r in results)
    assert batchget_calls(wechat_api) == 1  # quota gone: the second batch was not spent
    # The merchant learns when to come back, per item and for the request.
    assert all(r["error"]["retry_after"] >= 1 for r in results)
    assert int(response["Retry-After"]) == max(r["error"]["retry_after"] for r in results)


@pytest.mark.django_db(transaction=True)
def test_stale_grant_in_bulk_is_per_item_and_stops(coffee, tenant, wechat_api, settings):
    settings.TAGS_BULK_CONCURRENCY = 1
    wechat_api.state.update_authorizer(COFFEE_APPID, {"func_info": [1]})
    results = _post(tenant, [demo_openid(COFFEE_APPID, i) for i in range(4)])
    assert {r["error"]["code"] for r in results} == {"permission_not_granted"}
    assert batchget_calls(wechat_api) == 1


def test_expand_names_on_bulk_is_refused_not_silently_dropped(coffee, tenant, wechat_api):
    response = tenant.client.post(
        bulk_url(COFFEE_APPID) + "?expand=names",
        {"openids": [demo_openid(COFFEE_APPID, 0)]},
        format="json",
    )
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and error["message"].startswith("expand:")
    assert batchget_calls(wechat_api) == 0 and getidlist_calls(wechat_api) == 0
