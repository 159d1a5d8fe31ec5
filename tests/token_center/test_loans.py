"""The token center over HTTP (SPEC 12), against the sandbox: loans, reports, scope,
credentials, stopped accounts, and no secret in any answer or log line."""

from __future__ import annotations

import logging

import pytest
import requests

from sandbox.demo import BOOKS_APPID, COFFEE_APPID
from tests.authorizers.refresh_support import refresh_calls, sandbox_refresh_token, token_works

pytestmark = pytest.mark.django_db(transaction=True)


def _get(borrower, url: str, **kwargs) -> requests.Response:
    return requests.get(url, headers=borrower.headers(), timeout=30, **kwargs)


def _report(borrower, token: str, appid: str = COFFEE_APPID) -> requests.Response:
    return requests.post(
        borrower.invalid_url(appid), json={"access_token": token}, headers=borrower.headers(),
        timeout=30,
    )  # fmt: skip


def _kill(sandbox, appid: str = COFFEE_APPID) -> None:
    """WeChat kills the stored token out of band (as a second refresher would)."""
    sandbox.state.expire_authorizer_token(appid)


def test_a_lent_token_works_at_wechat_and_the_answer_holds_no_secret(
    coffee, make_borrower, wechat_api
):
    borrower = make_borrower()
    response = _get(borrower, borrower.token_url())
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"appid", "access_token", "expires_at"}
    assert body["appid"] == COFFEE_APPID and body["access_token"] == coffee.access_token
    assert token_works(wechat_api, COFFEE_APPID, body["access_token"])
    assert sandbox_refresh_token(wechat_api, COFFEE_APPID) not in response.text
    assert refresh_calls(wechat_api, COFFEE_APPID) == 0


def test_a_report_of_the_stored_token_refreshes_once_and_a_stale_one_costs_nothing(
    coffee, make_borrower, wechat_api
):
    borrower = make_borrower()
    dead = _get(borrower, borrower.token_url()).json()["access_token"]
    _kill(wechat_api)
    assert not token_works(wechat_api, COFFEE_APPID, dead)

    first = _report(borrower, dead)
    assert first.status_code == 200, first.text
    fresh = first.json()["access_token"]
    assert fresh != dead and token_works(wechat_api, COFFEE_APPID, fresh)
    assert refresh_calls(wechat_api, COFFEE_APPID) == 1

    # The same dead token again (a slower borrower), and one that was never ours: the
    # current token, no WeChat call.
    for refused in (dead, "not-a-token-of-ours"):
        again = _report(borrower, refused)
        assert again.status_code == 200 and again.json()["access_token"] == fresh
    assert refresh_calls(wechat_api, COFFEE_APPID) == 1
    # And a loan now lends the new token.
    assert _get(borrower, borrower.token_url()).json()["access_token"] == fresh


def test_a_client_sees_only_its_merchants_accounts(
    coffee, authorizer_factory, make_borrower, wechat_api
):
    from authorizers.models import Merchant

    other = Merchant.objects.create(name="Bookshop")
    authorizer_factory(appid=BOOKS_APPID, merchant=other)
    scoped = make_borrower("crm", merchants=(coffee.merchant.name,))
    assert _get(scoped, scoped.token_url(COFFEE_APPID)).status_code == 200
    outside = _get(scoped, scoped.token_url(BOOKS_APPID))
    unknown = _get(scoped, scoped.token_url("wx_no_such_account"))
    assert outside.status_code == unknown.status_code == 404
    assert outside.json() == unknown.json()
    assert _report(scoped, "anything", BOOKS_APPID).status_code == 404
    component = _get(scoped, f"{scoped.base_url}/internal/v1/component/access-token")
    assert component.status_code == 404
    everything = make_borrower("sender")
    assert _get(everything, everything.token_url(BOOKS_APPID)).status_code == 200
    # A scope narrowed in the admin wins the cached credential at once.
    from token_center.models import ServiceClient

    client = ServiceClient.objects.get(pk=everything.client_id)
    client.all_accounts = False
    client.save()
    client.merchants.set([coffee.merchant])
    assert _get(everything, everything.token_url(BOOKS_APPID)).status_code == 404
    assert _get(everything, everything.token_url(COFFEE_APPID)).status_code == 200


def test_revocation_wins_the_cache_and_credentials_are_not_interchangeable(
    coffee, make_borrower, live_server
):
    from authorizers.services.api_keys import api_key_create
    from token_center.clients import service_client_revoke
    from token_center.models import ServiceClient

    borrower = make_borrower()
    for _ in range(2):  # filled, then served from the cache
        assert _get(borrower, borrower.token_url()).status_code == 200
    _, merchant_key = api_key_create(merchant=coffee.merchant, name="merchant")
    as_merchant = requests.get(
        borrower.token_url(), headers={"Authorization": f"Bearer {merchant_key}"}, timeout=30
    )
    assert as_merchant.status_code == 401
    on_api = _get(borrower, f"{live_server.url}/api/v1/authorizers/")
    assert on_api.status_code == 401
    assert requests.get(borrower.token_url(), timeout=30).status_code == 401

    service_client_revoke(client=ServiceClient.objects.get(pk=borrower.client_id))
    revoked = _get(borrower, borrower.token_url())
    assert revoked.status_code == 401
    assert revoked.json()["error"]["code"] == "unauthenticated"


def test_a_stopped_account_is_410_without_a_wechat_call(coffee, make_borrower, wechat_api):
    from authorizers.services.status import authorizer_mark_revoked

    borrower = make_borrower()
    token = _get(borrower, borrower.token_url()).json()["access_token"]  # cached now
    authorizer_mark_revoked(authorizer_id=coffee.pk)
    _kill(wechat_api)
    before = wechat_api.state.counters.snapshot()["by_endpoint"]
    loan = _get(borrower, borrower.token_url())
    report = _report(borrower, token)
    assert loan.status_code == report.status_code == 410
    assert loan.json()["error"]["code"] == "authorizer_revoked"
    assert refresh_calls(wechat_api, COFFEE_APPID) == 0
    assert wechat_api.state.counters.snapshot()["by_endpoint"] == before


def test_a_bad_report_is_400_and_changes_nothing(coffee, make_borrower, wechat_api):
    borrower = make_borrower()
    for body in ({}, {"access_token": ""}, {"access_token": "x" * 600}, {"access_token": 7}):
        response = requests.post(
            borrower.invalid_url(), json=body, headers=borrower.headers(), timeout=30
        )
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"]["code"] == "invalid_request"
    assert refresh_calls(wechat_api, COFFEE_APPID) == 0


def test_each_client_has_its_own_rate_limit(coffee, make_borrower):
    tight = make_borrower("tight", rate_limit_burst=2, rate_limit_per_minute=1)
    free = make_borrower("free")
    statuses = [_get(tight, tight.token_url()).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert _get(free, free.token_url()).status_code == 200


def test_the_component_token_is_lent_and_reported_the_same_way(coffee, make_borrower, wechat_api):
    borrower = make_borrower()
    url = f"{borrower.base_url}/internal/v1/component/access-token"
    loan = _get(borrower, url)
    assert loan.status_code == 200, loan.text
    body = loan.json()
    assert set(body) == {"component_appid", "access_token", "expires_at"}
    fetches = wechat_api.state.calls("api_component_token")
    stale = requests.post(
        url + "/invalid", json={"access_token": "not-ours"}, headers=borrower.headers(), timeout=30
    )
    assert stale.json()["access_token"] == body["access_token"]
    assert wechat_api.state.calls("api_component_token") == fetches
    renewed = requests.post(
        url + "/invalid", json={"access_token": body["access_token"]}, headers=borrower.headers(),
        timeout=30,
    )  # fmt: skip
    assert renewed.status_code == 200 and renewed.json()["access_token"] != body["access_token"]
    assert wechat_api.state.calls("api_component_token") == fetches + 1


def test_every_loan_and_report_is_logged_without_the_token(
    coffee, make_borrower, wechat_api, admin_client, caplog
):
    from token_center.models import TokenLoan

    caplog.set_level(logging.DEBUG)
    borrower = make_borrower()
    token = _get(borrower, borrower.token_url()).json()["access_token"]
    _kill(wechat_api)
    fresh = _report(borrower, token).json()["access_token"]
    _report(borrower, token)
    _get(borrower, borrower.token_url("wx_unknown"))
    rows = list(TokenLoan.objects.order_by("pk").values_list("kind", "authorizer_appid", "outcome"))
    assert rows == [
        ("loan", COFFEE_APPID, "lent"),
        ("report", COFFEE_APPID, "refreshed"),
        ("report", COFFEE_APPID, "not_current"),
        ("loan", "wx_unknown", "not_found"),
    ]
    assert all(r.client_id == borrower.client_id for r in TokenLoan.objects.all())
    listing = admin_client.get("/admin/token_center/tokenloan/?kind=report&outcome=refreshed")
    assert listing.status_code == 200 and b"refreshed" in listing.content
    secrets = [token, fresh, sandbox_refresh_token(wechat_api, COFFEE_APPID), borrower.raw_key]
    logged = caplog.text
    assert not [s for s in secrets if s in logged]
    metrics = requests.get(f"{borrower.base_url}/metrics", timeout=30).text
    lines = [line for line in metrics.splitlines() if line.startswith("token_center_requests")]
    assert lines and not [line for line in lines if COFFEE_APPID in line or "client" in line]


def test_an_unknown_internal_path_is_a_json_404(live_server):
    response = requests.get(f"{live_server.url}/internal/v2/anything", timeout=30)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_contracts_borrower_example_works(coffee, make_borrower, wechat_api):
    from pathlib import Path

    contract = Path(__file__).resolve().parents[2] / "docs" / "CONTRACT.md"
    section = contract.read_text().split("## 7. Token center", 1)[1]
    namespace: dict = {}
    exec(section.split("```python\n", 1)[1].split("```", 1)[0], namespace)
    borrower = make_borrower()
    center = namespace["TokenCenter"](borrower.base_url, borrower.raw_key)
    token = center.token(COFFEE_APPID)
    assert token_works(wechat_api, COFFEE_APPID, token)
    assert center.token(COFFEE_APPID) == token  # from its own cache
    _kill(wechat_api)
    fresh = center.refused(COFFEE_APPID, token)
    assert fresh != token and token_works(wechat_api, COFFEE_APPID, fresh)
    assert center.token(COFFEE_APPID) == fresh
    assert refresh_calls(wechat_api, COFFEE_APPID) == 1
