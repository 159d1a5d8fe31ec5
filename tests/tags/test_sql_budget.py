"""With warm caches a lookup runs one SQL query: the call-log row."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.support import COFFEE_APPID, bulk_url, demo_openid, tags_url


def test_single_lookup_runs_one_query(coffee, tenant, wechat_api, django_assert_max_num_queries):
    url = tags_url(COFFEE_APPID, demo_openid(COFFEE_APPID, 0))
    assert tenant.client.get(url).status_code == 200  # warm: key, authorizer row
    for _ in range(3):
        with CaptureQueriesContext(connection) as queries:
            assert tenant.client.get(url).status_code == 200
        assert len(queries) == 1, [q["sql"] for q in queries]
        assert queries[0]["sql"].startswith('INSERT INTO "authorizers_apicall"')


def test_expanded_and_bulk_lookups_run_one_query(
    coffee, tenant, wechat_api, django_assert_max_num_queries
):
    url = tags_url(COFFEE_APPID, demo_openid(COFFEE_APPID, 0), "expand=names")
    openids = [demo_openid(COFFEE_APPID, i) for i in range(6)]
    tenant.client.get(url)
    with django_assert_max_num_queries(1):
        assert tenant.client.get(url).status_code == 200
    with django_assert_max_num_queries(1):
        response = tenant.client.post(bulk_url(COFFEE_APPID), {"openids": openids}, format="json")
        assert response.status_code == 200


def test_refusals_with_warm_caches_run_one_query(onboard, tenant, wechat_api):
    from tests.api.support import BAKERY_APPID

    onboard(BAKERY_APPID)
    url = tags_url(BAKERY_APPID, demo_openid(BAKERY_APPID, 0))
    tenant.client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert tenant.client.get(url).status_code == 403
    assert len(queries) == 1
