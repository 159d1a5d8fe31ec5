"""Admin pages at scale: a page's query count does not grow with the rows behind it, the
merchant page counts its accounts instead of listing them, and searches use indexes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone


@pytest.fixture
def world(db):
    from authorizers.models import Merchant

    merchants = [Merchant.objects.create(name=f"Merchant {i}") for i in range(3)]
    return merchants


def _seed(merchants, n: int, start: int) -> None:
    """n accounts per merchant, each with two calls (one unlinked) and an event."""
    from authorizers.models import ApiCall, Authorizer
    from component.models import ComponentEvent

    now = timezone.now()
    statuses = list(Authorizer.Status.values)
    for m, merchant in enumerate(merchants):
        accounts = Authorizer.objects.bulk_create(
            Authorizer(
                merchant=merchant,
                appid=f"wxscale{m}{start + i:010d}",
                nickname=f"Shop {m}-{start + i}",
                status=statuses[i % len(statuses)],
                service_type=2,
                verify_type=0,
                permission_sets=[1, 2],
                access_token=f"ACCESS-{m}-{start + i}",
                access_token_expires_at=now + timedelta(minutes=i),
                refresh_token=f"REFRESH-{m}-{start + i}",
            )
            for i in range(n)
        )
        ApiCall.objects.bulk_create(
            ApiCall(
                merchant=merchant,
                authorizer=a if k == 0 else None,
                authorizer_appid=a.appid,
                endpoint=["users.tags", "authorizer_list"][k],
                result=["ok", "invalid_openid"][k],
                status_code=200,
                rid="" if k == 0 else f"rid-{a.appid}",
            )
            for a in accounts
            for k in range(2)
        )
        ComponentEvent.objects.bulk_create(
            ComponentEvent(dedup_key=f"{a.appid:x<64}", info_type="authorized",
                           authorizer_appid=a.appid)
            for a in accounts
        )  # fmt: skip


def _queries(client, url: str) -> int:
    client.get(url)  # caches (sessions, content types, permissions) warm
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def _urls(merchants) -> list[str]:
    from authorizers.models import Authorizer

    account = Authorizer.objects.filter(merchant=merchants[0]).order_by("id").first()
    return [
        reverse("admin:dashboard"),
        reverse("admin:authorizers_merchant_changelist"),
        reverse("admin:authorizers_merchant_change", args=[merchants[0].pk]),
        reverse("admin:authorizers_authorizer_changelist"),
        reverse("admin:authorizers_authorizer_changelist") + "?q=Shop",
        reverse("admin:authorizers_authorizer_changelist")
        + f"?merchant__id__exact={merchants[0].pk}",
        reverse("admin:authorizers_authorizer_change", args=[account.pk]),
        reverse("admin:authorizers_apicall_changelist"),
        reverse("admin:authorizers_apicall_changelist") + "?result=invalid_openid",
        reverse("admin:authorizers_apicall_changelist") + f"?q={account.appid}",
        reverse("admin:component_componentevent_changelist"),
    ]


def test_query_counts_do_not_grow_with_the_rows(admin_client, world):
    _seed(world, 4, start=0)
    small = {url: _queries(admin_client, url) for url in _urls(world)}
    _seed(world, 8, start=100)  # three times the rows
    large = {url: _queries(admin_client, url) for url in _urls(world)}
    assert large == small


def test_merchant_page_counts_and_links_instead_of_listing(admin_client, world):
    _seed(world, 6, start=0)
    merchant = world[0]
    html = admin_client.get(
        reverse("admin:authorizers_merchant_change", args=[merchant.pk])
    ).content.decode()
    assert "wxscale0" not in html  # no account rendered
    changelist = reverse("admin:authorizers_authorizer_changelist")
    assert f'href="{changelist}?merchant__id__exact={merchant.pk}">6 accounts</a>' in html
    assert "2 active" in html and "2 revoked" in html
    listed = admin_client.get(f"{changelist}?merchant__id__exact={merchant.pk}")
    assert listed.status_code == 200 and listed.content.decode().count("wxscale0") >= 6
    assert "wxscale1" not in listed.content.decode()


def test_merchant_list_counts_each_merchants_accounts(admin_client, world):
    _seed(world[:1], 5, start=0)
    html = admin_client.get(reverse("admin:authorizers_merchant_changelist")).content.decode()
    assert '<td class="field-accounts">5</td>' in html
    assert html.count('<td class="field-accounts">0</td>') == 2


@pytest.mark.parametrize(
    ("term", "expected"),
    [("wxscale10000000001", {"wxscale10000000001"}),  # appid exact
     ("wxscale2", {f"wxscale2{i:010d}" for i in range(3)}),  # appid prefix
     ("shop 0-2", {"wxscale00000000002"}),  # nickname part, any case
     ("scale0000", set())],  # inside an appid: not a prefix
)  # fmt: skip
def test_account_search(admin_client, world, term, expected):
    from authorizers.models import Authorizer
    from authorizers.selectors.dashboard import authorizer_search_q

    _seed(world, 3, start=0)
    found = set(
        Authorizer.objects.filter(authorizer_search_q(term)).values_list("appid", flat=True)
    )
    assert found == expected
    url = reverse("admin:authorizers_authorizer_changelist")
    assert admin_client.get(url, {"q": term}).status_code == 200


def test_call_log_search_finds_linked_and_unlinked_calls_and_rids(world):
    from authorizers.models import ApiCall
    from authorizers.selectors.dashboard import api_call_search_q

    _seed(world[:1], 2, start=0)
    appid = "wxscale00000000001"
    assert ApiCall.objects.filter(api_call_search_q(appid)).count() == 2
    assert ApiCall.objects.filter(api_call_search_q(f"rid-{appid}")).count() == 1


def test_account_page_recent_calls_linked_and_unlinked_newest_first(world):
    from authorizers.models import ApiCall, Authorizer
    from authorizers.selectors.dashboard import authorizer_recent_api_calls

    _seed(world[:1], 2, start=0)
    account = Authorizer.objects.get(appid="wxscale00000000001")
    calls = authorizer_recent_api_calls(authorizer=account)
    assert {c.endpoint for c in calls} == {"users.tags", "authorizer_list"}
    ApiCall.objects.filter(authorizer=account).update(created_at=timezone.now() + timedelta(1))
    assert [c.endpoint for c in authorizer_recent_api_calls(authorizer=account, limit=1)] == [
        "users.tags"
    ]


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="reads PostgreSQL's plans")
def test_searches_and_filters_are_index_reads(world):
    """With scans priced out, each read still has an index to use (no Seq Scan left)."""
    from authorizers.models import ApiCall, Authorizer
    from authorizers.selectors.dashboard import api_call_search_q, authorizer_search_q

    _seed(world[:1], 2, start=0)
    reads = [
        Authorizer.objects.filter(authorizer_search_q("wxscale0")),
        Authorizer.objects.filter(authorizer_search_q("Shop 0")),
        ApiCall.objects.filter(result="invalid_openid").order_by("-created_at")[:100],
        ApiCall.objects.filter(endpoint="users.tags").order_by("-created_at")[:100],
        ApiCall.objects.filter(api_call_search_q("rid-x")),
        ApiCall.objects.filter(authorizer__isnull=True, authorizer_appid="wx1").order_by(
            "-created_at", "-id"
        )[:20],
    ]
    for read in reads:
        plan = _plan(read)
        assert "Seq Scan" not in plan, plan
