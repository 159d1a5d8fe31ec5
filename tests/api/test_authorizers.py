"""GET /api/v1/authorizers/ and /{appid}/: what each account granted and can be used for."""

from tests.api.support import (
    BAKERY_APPID,
    BOOKS_APPID,
    COFFEE_APPID,
    SUBSCRIPTION_APPID,
    UNVERIFIED_APPID,
    error_of,
    wechat_calls,
)


def test_list_shows_capabilities_with_reasons(onboard, tenant, wechat_api):
    for appid in (COFFEE_APPID, BOOKS_APPID, BAKERY_APPID, UNVERIFIED_APPID, SUBSCRIPTION_APPID):
        onboard(appid)
    before = wechat_calls(wechat_api)
    response = tenant.client.get("/api/v1/authorizers/")
    assert response.status_code == 200
    listed = {a["appid"]: a for a in response.json()["authorizers"]}
    assert wechat_calls(wechat_api) == before  # our record only

    coffee = listed[COFFEE_APPID]
    assert coffee == {
        "appid": COFFEE_APPID,
        "nickname": "Demo Coffee",
        "account_type": "service",
        "verified": True,
        "permission_sets": [1, 2, 3],
        "status": "active",
        "capabilities": {"user_tags": {"usable": True, "reason": ""}},
    }
    assert listed[BOOKS_APPID]["capabilities"]["user_tags"]["usable"] is True
    reasons = {appid: a["capabilities"]["user_tags"]["reason"] for appid, a in listed.items()}
    assert reasons[BAKERY_APPID] == (
        "The account did not grant the 'User management' permission set (2 or 100) to our "
        "platform. Re-authorize and tick User management."
    )
    assert reasons[UNVERIFIED_APPID] == "The account has not completed WeChat verification."
    assert reasons[SUBSCRIPTION_APPID] == (
        "Only Service Accounts can look up user tags; this is a Subscription Account."
    )
    assert listed[SUBSCRIPTION_APPID]["account_type"] == "subscription"
    assert listed[UNVERIFIED_APPID]["verified"] is False


def test_detail_and_revoked(onboard, tenant, wechat_api):
    from authorizers.services.status import authorizer_apply_unauthorized

    onboard(COFFEE_APPID)
    url = f"/api/v1/authorizers/{COFFEE_APPID}/"
    assert tenant.client.get(url).json()["capabilities"]["user_tags"]["usable"] is True
    authorizer_apply_unauthorized(appid=COFFEE_APPID)
    detail = tenant.client.get(url).json()
    assert detail["status"] == "revoked"
    assert detail["capabilities"]["user_tags"] == {
        "usable": False,
        "reason": "You withdrew this account's authorization in WeChat.",
    }


def test_detail_unknown_is_404(tenant, wechat_api):
    response = tenant.client.get("/api/v1/authorizers/wx0000000000000bad/")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


def test_no_secret_in_any_answer(onboard, tenant, wechat_api):
    from authorizers.models import Authorizer

    onboard(COFFEE_APPID)
    row = Authorizer.objects.get(appid=COFFEE_APPID)
    for url in ("/api/v1/authorizers/", f"/api/v1/authorizers/{COFFEE_APPID}/"):
        body = tenant.client.get(url).content.decode()
        assert row.access_token not in body and row.refresh_token not in body
