"""Merchant B's key on every one of merchant A's endpoints: 404, as for an unknown appid."""

from tests.api.support import (
    BOOKS_APPID,
    COFFEE_APPID,
    bulk_url,
    demo_openid,
    error_of,
    getidlist_calls,
    tags_url,
)

OPENID = demo_openid(COFFEE_APPID, 0)


def _requests(appid: str):
    openid = demo_openid(appid, 0)
    return [
        ("get", f"/api/v1/authorizers/{appid}/", None),
        ("get", tags_url(appid, openid), None),
        ("get", tags_url(appid, openid, "expand=names"), None),
        ("post", bulk_url(appid), {"openids": [openid]}),
    ]


def test_another_merchants_accounts_are_not_found(onboard, tenant, other_tenant, wechat_api):
    onboard(COFFEE_APPID)
    onboard(BOOKS_APPID)
    for appid in (COFFEE_APPID, BOOKS_APPID):
        for method, url, body in _requests(appid):
            # A's own key works (and warms every cache B could hit)...
            assert getattr(tenant.client, method)(url, body, format="json").status_code == 200
            calls = getidlist_calls(wechat_api)
            # ...B's gets exactly what an unknown appid gets.
            theirs = getattr(other_tenant.client, method)(url, body, format="json")
            unknown_url = url.replace(appid, "wx00000000000000ff")
            unknown = getattr(other_tenant.client, method)(unknown_url, body, format="json")
            assert theirs.status_code == unknown.status_code == 404, (url, theirs.content)
            assert error_of(theirs) == error_of(unknown)
            assert getidlist_calls(wechat_api) == calls
    listing = other_tenant.client.get("/api/v1/authorizers/")
    assert listing.status_code == 200 and listing.json() == {"authorizers": [], "next": None}
