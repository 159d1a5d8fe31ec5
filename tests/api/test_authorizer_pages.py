"""GET /api/v1/authorizers/ a page at a time: bounded, stable, every account once, and a
query count that does not grow with the rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.support import error_of


def _seed(merchant, n: int, start: int = 0) -> list:
    from authorizers.models import Authorizer

    return Authorizer.objects.bulk_create(
        Authorizer(
            merchant=merchant,
            appid=f"wxpage{start + i:012d}",
            nickname=f"Account {start + i}",
            service_type=2,
            verify_type=0,
            permission_sets=[1, 2],
            access_token=f"ACCESS-SECRET-{start + i}",
            refresh_token=f"REFRESH-SECRET-{start + i}",
        )
        for i in range(n)
    )


def _read_all(client, url: str) -> tuple[list[str], int]:
    appids, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        appids += [a["appid"] for a in body["authorizers"]]
        url, pages = body["next"], pages + 1
    return appids, pages


def test_pages_list_every_account_once_in_a_stable_order(tenant, other_tenant):
    _seed(tenant.merchant, 25)
    _seed(other_tenant.merchant, 5, start=100)
    appids, pages = _read_all(tenant.client, "/api/v1/authorizers/?limit=10")
    assert pages == 3
    assert appids == [f"wxpage{i:012d}" for i in range(25)]  # oldest first, none repeated


def test_first_page_keeps_todays_shape_and_default_limit(tenant):
    _seed(tenant.merchant, 3)
    body = tenant.client.get("/api/v1/authorizers/").json()
    assert set(body) == {"authorizers", "next"}
    assert len(body["authorizers"]) == 3 and body["next"] is None
    assert body["authorizers"][0]["capabilities"]["user_tags"]["usable"] is True


def test_default_page_is_bounded(tenant):
    from merchant_api.accounts import PAGE_SIZE_DEFAULT

    _seed(tenant.merchant, PAGE_SIZE_DEFAULT + 1)
    body = tenant.client.get("/api/v1/authorizers/").json()
    assert len(body["authorizers"]) == PAGE_SIZE_DEFAULT
    assert body["next"].startswith("http://testserver/api/v1/authorizers/?limit=")


def test_an_account_added_while_paging_is_not_lost_nor_repeated(tenant):
    _seed(tenant.merchant, 4)
    first = tenant.client.get("/api/v1/authorizers/?limit=2").json()
    _seed(tenant.merchant, 1, start=50)
    rest, _ = _read_all(tenant.client, first["next"])
    seen = [a["appid"] for a in first["authorizers"]] + rest
    assert len(seen) == len(set(seen)) == 5


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=501", "limit=ten", "limit=-1", "cursor=%%%", "cursor=Yg", "cursor="],
)
def test_bad_paging_parameters_are_400(tenant, query):
    response = tenant.client.get(f"/api/v1/authorizers/?{query}")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_request"


def test_another_merchants_cursor_shows_only_own_accounts(tenant, other_tenant):
    _seed(tenant.merchant, 3)
    _seed(other_tenant.merchant, 3, start=100)
    first = other_tenant.client.get("/api/v1/authorizers/?limit=1").json()
    appids, _ = _read_all(tenant.client, first["next"])
    assert all(a.startswith("wxpage00000000000") for a in appids)  # its own, ids 0-2


def _page_queries(client, url: str) -> int:
    client.get(url)  # the key's cache entry filled: the second request is the steady state
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_the_rows(tenant):
    _seed(tenant.merchant, 10)
    small = _page_queries(tenant.client, "/api/v1/authorizers/?limit=500")
    _seed(tenant.merchant, 20, start=10)
    assert _page_queries(tenant.client, "/api/v1/authorizers/?limit=500") == small


def test_list_loads_no_token(tenant):
    _seed(tenant.merchant, 2)
    with CaptureQueriesContext(connection) as queries:
        tenant.client.get("/api/v1/authorizers/")
    listing = [q["sql"] for q in queries if 'FROM "authorizers_authorizer"' in q["sql"]]
    assert listing and not any("access_token" in sql or "refresh_token" in sql for sql in listing)
