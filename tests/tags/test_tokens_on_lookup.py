"""A dead token on the request path: one refresh, one retry, never a loop."""

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from tests.api.support import COFFEE_APPID, demo_openid, error_of, getidlist_calls, tags_url

OPENID = demo_openid(COFFEE_APPID, 0)


def _refreshes(sandbox) -> int:
    return sandbox.state.calls("api_authorizer_token")


def _kill_our_token(sandbox) -> None:
    state = sandbox.state
    state.issue_authorizer_token(state.authorizers[COFFEE_APPID])  # grace 0: ours dies now


def test_dead_token_refreshes_once_and_retries_once(coffee, tenant, wechat_api):
    assert tenant.client.get(tags_url(COFFEE_APPID, OPENID)).status_code == 200  # warm
    _kill_our_token(wechat_api)
    refreshes, calls = _refreshes(wechat_api), getidlist_calls(wechat_api)
    response = tenant.client.get(tags_url(COFFEE_APPID, OPENID))
    assert response.status_code == 200 and response.json()["tagid_list"] == [2, 100]
    assert _refreshes(wechat_api) == refreshes + 1
    assert getidlist_calls(wechat_api) == calls + 2
    # The cached row was dropped: the next request uses the new token straight away.
    assert tenant.client.get(tags_url(COFFEE_APPID, OPENID)).status_code == 200
    assert getidlist_calls(wechat_api) == calls + 3 and _refreshes(wechat_api) == refreshes + 1


def test_still_dead_after_refresh_is_not_retried_again(coffee, tenant, wechat_api, monkeypatch):
    from authorizers.services.tokens.state import AccessToken

    def useless_refresh(**kwargs):
        return AccessToken("still-dead", 10_000, timezone.now() + timedelta(hours=2))

    monkeypatch.setattr(
        "authorizers.services.tokens.call.authorizer_refresh_access_token", useless_refresh
    )
    _kill_our_token(wechat_api)
    response = tenant.client.get(tags_url(COFFEE_APPID, OPENID))
    assert response.status_code == 503 and int(response["Retry-After"]) >= 1
    error = error_of(response)
    assert error["code"] == "upstream_unavailable" and error["wechat_errcode"] == 40001
    assert getidlist_calls(wechat_api) == 2


def _sandbox(sandbox, path: str, body: dict) -> None:
    response = requests.post(sandbox.base_url + path, json=body, timeout=5)
    assert response.status_code == 200, response.text


def _tokens_born_dead(sandbox) -> None:
    """Our token dies now, and every token the sandbox issues from now on is born expired."""
    _sandbox(sandbox, "/sandbox/settings", {"token_ttl": 0})
    _sandbox(sandbox, "/sandbox/expire", {"authorizer_appid": COFFEE_APPID})


def test_token_still_dead_after_the_refresh_is_503_with_retry_after(coffee, tenant, wechat_api):
    """WeChat calls the renewed token dead too (42001): only trying later can help."""
    assert tenant.client.get(tags_url(COFFEE_APPID, OPENID)).status_code == 200  # warm
    _tokens_born_dead(wechat_api)
    refreshes, calls = _refreshes(wechat_api), getidlist_calls(wechat_api)
    response = tenant.client.get(tags_url(COFFEE_APPID, OPENID))
    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 1
    error = error_of(response)
    assert error["code"] == "upstream_unavailable"
    assert error["wechat_errcode"] == 42001 and error["rid"]
    # One refresh, one retry, no loop.
    assert _refreshes(wechat_api) == refreshes + 1
    assert getidlist_calls(wechat_api) == calls + 2


@pytest.mark.django_db(transaction=True)
def test_token_still_dead_in_a_bulk_is_upstream_unavailable_per_item(coffee, tenant, wechat_api):
    _tokens_born_dead(wechat_api)
    openids = [demo_openid(COFFEE_APPID, i) for i in range(2)]
    response = tenant.client.post(
        f"/api/v1/authorizers/{COFFEE_APPID}/users/tags", {"openids": openids}, format="json"
    )
    assert response.status_code == 200 and int(response["Retry-After"]) >= 1
    for item in response.json()["results"]:
        assert item["error"]["code"] == "upstream_unavailable"
        assert item["error"]["retry_after"] >= 1


@pytest.mark.django_db(transaction=True)
def test_token_still_dead_in_a_bulk_refreshes_once_for_the_whole_request(
    coffee, tenant, wechat_api, settings
):
    settings.TAGS_BULK_CONCURRENCY = 1  # in order: each later openid would start afresh
    _tokens_born_dead(wechat_api)
    refreshes = _refreshes(wechat_api)
    openids = [demo_openid(COFFEE_APPID, i) for i in range(6)]
    response = tenant.client.post(
        f"/api/v1/authorizers/{COFFEE_APPID}/users/tags", {"openids": openids}, format="json"
    )
    assert response.status_code == 200
    assert {r["error"]["code"] for r in response.json()["results"]} == {"upstream_unavailable"}
    assert _refreshes(wechat_api) == refreshes + 1


def test_someone_else_refreshed_first_no_second_refresh(coffee, wechat_api):
    from authorizers.services.tokens.refresh import authorizer_refresh_access_token
    from tags.services import user_tagids_get

    stale = coffee  # an instance holding the token of version N
    authorizer_refresh_access_token(authorizer_id=coffee.pk, force=True)  # a worker: N+1
    refreshes = _refreshes(wechat_api)
    assert user_tagids_get(authorizer=stale, openid=OPENID) == [2, 100]
    assert _refreshes(wechat_api) == refreshes  # took the row's token, no WeChat refresh
    assert getidlist_calls(wechat_api) == 2


def test_someone_elses_token_killed_since_is_refreshed_once(coffee, wechat_api):
    """A stale instance (version N), a worker's refresh (N+1), then WeChat kills N+1 out of
    band: taking N+1 from the row is not this call's refresh, so it refreshes once itself."""
    from authorizers.services.tokens.refresh import authorizer_refresh_access_token
    from tags.services import user_tagids_get

    stale = coffee
    authorizer_refresh_access_token(authorizer_id=coffee.pk, force=True)  # a worker: N+1
    _kill_our_token(wechat_api)  # N+1 dies
    refreshes = _refreshes(wechat_api)
    assert user_tagids_get(authorizer=stale, openid=OPENID) == [2, 100]
    assert _refreshes(wechat_api) == refreshes + 1
    assert getidlist_calls(wechat_api) == 3  # N dead, N+1 dead, N+2 answers: no loop


def test_expired_cached_token_is_refreshed_before_the_call(coffee, tenant, wechat_api):
    from authorizers.models import Authorizer

    Authorizer.objects.filter(pk=coffee.pk).update(access_token_expires_at=timezone.now())
    response = tenant.client.get(tags_url(COFFEE_APPID, OPENID))
    assert response.status_code == 200
    assert getidlist_calls(wechat_api) == 1  # no dead-token round trip


@pytest.mark.django_db(transaction=True)
def test_dead_token_in_a_bulk_refreshes_once(coffee, tenant, wechat_api, settings):
    settings.TAGS_BULK_CONCURRENCY = 8
    _kill_our_token(wechat_api)
    refreshes = _refreshes(wechat_api)
    openids = [demo_openid(COFFEE_APPID, i % 6) for i in range(6)] * 5
    response = tenant.client.post(
        f"/api/v1/authorizers/{COFFEE_APPID}/users/tags", {"openids": openids}, format="json"
    )
    assert response.status_code == 200
    assert all("tagid_list" in r for r in response.json()["results"])
    assert _refreshes(wechat_api) == refreshes + 1
