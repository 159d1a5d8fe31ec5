"""Every row of SPEC 4.3's error table, end to end over HTTP against the sandbox.

Refusals are proven free: the sandbox's counters show no WeChat call was spent on them.
"""

import pytest

from tests.api.support import (
    BAKERY_APPID,
    BOOKS_APPID,
    COFFEE_APPID,
    SUBSCRIPTION_APPID,
    UNKNOWN_OPENID,
    UNVERIFIED_APPID,
    bulk_url,
    demo_openid,
    error_of,
    getidlist_calls,
    tags_url,
    wechat_calls,
)

OPENID = demo_openid(COFFEE_APPID, 0)


def _assert_wechat_answered(error: dict, errcode: int) -> None:
    assert error["wechat_errcode"] == errcode
    assert len(error["rid"]) == 26, error


def _assert_no_wechat_fields(error: dict) -> None:
    assert "wechat_errcode" not in error and "rid" not in error


# --- 400 invalid_request ------------------------------------------------------------------
@pytest.mark.parametrize(
    "openid",
    ["short", "o" * 19, "o" * 65, "oAbc+defghijklmnopqrstuvwxyz", "oAbc.defghijklmnopqrstuvwxyz"],
)
def test_malformed_openid_is_refused_without_a_wechat_call(coffee, tenant, wechat_api, openid):
    before = wechat_calls(wechat_api)
    response = tenant.client.get(tags_url(COFFEE_APPID, openid))
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_request" and "openid" in error["message"]
    _assert_no_wechat_fields(error)
    assert wechat_calls(wechat_api) == before


def test_openid_length_bounds_are_inclusive(coffee, tenant, wechat_api):
    for openid in ("o" * 20, "o" * 64):
        response = tenant.client.get(tags_url(COFFEE_APPID, openid))
        assert response.status_code == 422  # well-formed, so WeChat was asked: 40003
    assert getidlist_calls(wechat_api) == 2


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"openids": []},
        {"openids": "oAbcdefghijklmnopqrstuvwxyz0"},
        {"openids": [OPENID] * 1001},
        {"openids": [OPENID, "bad openid"]},
        {"openids": [OPENID, 12]},
    ],
)
def test_malformed_bulk_body_is_refused_whole(coffee, tenant, wechat_api, body):
    before = wechat_calls(wechat_api)
    response = tenant.client.post(bulk_url(COFFEE_APPID), body, format="json")
    assert response.status_code == 400, response.content
    assert error_of(response)["code"] == "invalid_request"
    assert wechat_calls(wechat_api) == before


def test_bulk_error_names_the_bad_item(coffee, tenant, wechat_api):
    response = tenant.client.post(
        bulk_url(COFFEE_APPID), {"openids": [OPENID, OPENID, "x"]}, format="json"
    )
    assert error_of(response)["message"].startswith("openids[2]:")


def test_unparseable_json_and_wrong_media_type(coffee, tenant, wechat_api):
    url = bulk_url(COFFEE_APPID)
    before = wechat_calls(wechat_api)
    response = tenant.client.post(url, b"{not json", content_type="application/json")
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_request"
    response = tenant.client.post(url, b"openids=x", content_type="text/plain")
    assert response.status_code == 415 and error_of(response)["code"] == "invalid_request"
    response = tenant.client.put(url, {"openids": [OPENID]}, format="json")
    assert response.status_code == 405 and error_of(response)["code"] == "invalid_request"
    assert wechat_calls(wechat_api) == before


def test_unknown_expand_is_invalid(coffee, tenant, wechat_api):
    response = tenant.client.get(tags_url(COFFEE_APPID, OPENID, "expand=everything"))
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_request"
    assert getidlist_calls(wechat_api) == 0


# --- 404 not_found ----------------------------------------------------------------------------
def test_unknown_appid_and_unknown_path(tenant, wechat_api):
    response = tenant.client.get(tags_url("wx0000000000000bad", OPENID))
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    response = tenant.client.get("/api/v1/nothing/here")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    assert wechat_calls(wechat_api) == 0


# --- 403 permission_not_granted / account_not_eligible (local) --------------------------------
@pytest.mark.parametrize(
    ("appid", "code", "words"),
    [
        (BAKERY_APPID, "permission_not_granted", "'User management' permission set (2 or 100)"),
        (UNVERIFIED_APPID, "account_not_eligible", "not completed WeChat verification"),
        (SUBSCRIPTION_APPID, "account_not_eligible", "this is a Subscription Account"),
    ],
)
def test_local_refusals_spend_no_wechat_call(onboard, tenant, wechat_api, appid, code, words):
    onboard(appid)
    openid = demo_openid(appid, 0)
    for response in (
        tenant.client.get(tags_url(appid, openid)),
        tenant.client.get(tags_url(appid, openid, "expand=names")),
        tenant.client.post(bulk_url(appid), {"openids": [openid]}, format="json"),
    ):
        assert response.status_code == 403
        error = error_of(response)
        assert error["code"] == code and words in error["message"]
        _assert_no_wechat_fields(error)
    assert getidlist_calls(wechat_api) == 0
    assert wechat_api.state.calls("/cgi-bin/tags/get") == 0


def test_set_100_alone_is_enough(onboard, tenant, wechat_api):
    onboard(BOOKS_APPID)
    response = tenant.client.get(tags_url(BOOKS_APPID, demo_openid(BOOKS_APPID, 1)))
    assert response.status_code == 200 and response.json()["tagid_list"] == [100]


# --- 403 from WeChat when our record was stale ------------------------------------------------
def test_wechat_61007_when_the_grant_changed_behind_our_back(coffee, tenant, wechat_api):
    wechat_api.state.update_authorizer(COFFEE_APPID, {"func_info": [1, 3]})
    response = tenant.client.get(tags_url(COFFEE_APPID, OPENID))
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "permission_not_granted"
    _assert_wechat_answered(error, 61007)
    assert getidlist_calls(wechat_api) == 1


def test_wechat_48001_when_the_account_lost_verification(coffee, tenant, wechat_api):
    wechat_api.state.update_authorizer(COFFEE_APPID, {"verify_type": -1})
    response = tenant.client.get(tags_url(COFFEE_APPID, OPENID))
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "account_not_eligible"
    _assert_wechat_answered(error, 48001)


# --- 410 authorizer_revoked -------------------------------------------------------------------
def test_revoked_by_event_is_refused_at_once(coffee, tenant, wechat_api):
    from authorizers.services.status import authorizer_apply_unauthorized

    assert tenant.client.get(tags_url(COFFEE_APPID, OPENID)).status_code == 200  # warm caches
    authorizer_apply_unauthorized(appid=COFFEE_APPID)
    before = wechat_calls(wechat_api)
    response = tenant.client.get(tags_url(COFFEE_APPID, OPENID))
    assert response.status_code == 410
    error = error_of(response)
    assert error["code"] == "authorizer_revoked" and "withdrew" in error["message"]
    assert wechat_calls(wechat_api) == before


def test_wechat_61003_marks_the_authorizer_revoked(coffee, tenant, wechat_api):
    from authorizers.models import Authorizer

    wechat_api.state.revoke(COFFEE_APPID)  # the push never reached us
    response = tenant.client.get(tags_url(COFFEE_APPID, OPENID))
    assert response.status_code == 410 and error_of(response)["code"] == "authorizer_revoked"
    assert Authorizer.objects.get(appid=COFFEE_APPID).status == "revoked"
    before = wechat_calls(wechat_api)
    assert tenant.client.get(tags_url(COFFEE_APPID, OPENID)).status_code == 410
    assert wechat_calls(wechat_api) == before


def test_wechat_61023_requires_reauthorization(coffee, tenant, wechat_api):
    from authorizers.models import Authorizer

    state = wechat_api.state
    with state.lock:
        state.authorizers[COFFEE_APPID].refresh.replace("refreshtoken@@@other", now=0, grace=0)
        state.authorizers[COFFEE_APPID].exchanged = False  # nothing WeChat could hand back
    state.issue_authorizer_token(state.authorizers[COFFEE_APPID])  # ours is now dead
    response = tenant.client.get(tags_url(COFFEE_APPID, OPENID))
    assert response.status_code == 410
    error = error_of(response)
    assert (
        error["code"] == "authorizer_revoked" and "authorize the account again" in error["message"]
    )
    assert Authorizer.objects.get(appid=COFFEE_APPID).status == "reauth_required"
    detail = tenant.client.get(f"/api/v1/authorizers/{COFFEE_APPID}/").json()
    assert detail["capabilities"]["user_tags"]["usable"] is False


# --- 422 ------------------------------------------------------------------------------------
def test_invalid_openid_40003(coffee, tenant, wechat_api):
    response = tenant.client.get(tags_url(COFFEE_APPID, UNKNOWN_OPENID))
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid_openid"
    _assert_wechat_answered(error, 40003)


def test_openid_of_another_account_49003(coffee, tenant, wechat_api):
    response = tenant.client.get(tags_url(COFFEE_APPID, demo_openid(BOOKS_APPID, 0)))
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "openid_appid_mismatch"
    _assert_wechat_answered(error, 49003)


# --- 429 rate_limited -------------------------------------------------------------------------
def test_wechat_quota_45009(coffee, tenant, wechat_api):
    wechat_api.set_faults(quota_rate=1, path_prefix="/cgi-bin/tags/")
    response = tenant.client.get(tags_url(COFFEE_APPID, OPENID))
    assert response.status_code == 429
    error = error_of(response)
    assert error["code"] == "rate_limited"
    _assert_wechat_answered(error, 45009)
    # Daily quota: resets at midnight China time.
    assert 1 <= int(response["Retry-After"]) <= 86400
    assert getidlist_calls(wechat_api) == 1  # never retried


def test_own_rate_limit(coffee, tenant, wechat_api):
    tenant.api_key.rate_limit_burst = 2
    tenant.api_key.rate_limit_per_minute = 1
    tenant.api_key.save()
    url = tags_url(COFFEE_APPID, OPENID)
    assert [tenant.client.get(url).status_code for _ in range(2)] == [200, 200]
    response = tenant.client.get(url)
    assert response.status_code == 429
    error = error_of(response)
    assert error["code"] == "rate_limited"
    _assert_no_wechat_fields(error)
    assert 1 <= int(response["Retry-After"]) <= 60
    assert getidlist_calls(wechat_api) == 2


# --- 503 upstream_unavailable -----------------------------------------------------------------
def test_persistent_system_error_after_bounded_retries(coffee, tenant, wechat_api, settings):
    wechat_api.set_faults(error_rate=1, path_prefix="/cgi-bin/tags/")
    response = tenant.client.get(tags_url(COFFEE_APPID, OPENID))
    assert response.status_code == 503
    error = error_of(response)
    assert error["code"] == "upstream_unavailable"
    _assert_wechat_answered(error, -1)
    assert int(response["Retry-After"]) >= 1
    assert getidlist_calls(wechat_api) == settings.WECHAT_MAX_ATTEMPTS


@pytest.mark.parametrize("fault", ["timeout_rate", "reset_rate"])
def test_wechat_unreachable(coffee, tenant, wechat_api, settings, fault):
    settings.WECHAT_READ_TIMEOUT = 0.2
    wechat_api.set_faults(**{fault: 1}, timeout_seconds=1, path_prefix="/cgi-bin/tags/")
    response = tenant.client.get(tags_url(COFFEE_APPID, OPENID))
    assert response.status_code == 503
    error = error_of(response)
    assert error["code"] == "upstream_unavailable"
    _assert_no_wechat_fields(error)
    assert int(response["Retry-After"]) >= 1


def test_transient_system_error_is_retried_to_success(coffee, tenant, wechat_api):
    wechat_api.set_faults(error_rate=1, path_prefix="/cgi-bin/tags/getidlist", count=1)
    response = tenant.client.get(tags_url(COFFEE_APPID, OPENID))
    assert response.status_code == 200
    assert getidlist_calls(wechat_api) == 2


# --- 502 upstream_error -----------------------------------------------------------------------
def test_other_wechat_errcode_is_passed_on(coffee, tenant, wechat_api, monkeypatch):
    # A path WeChat does not know answers 40066 "invalid url": an errcode we have no row for.
    monkeypatch.setattr("tags.client.TAGS_GETIDLIST", "/cgi-bin/tags/getidlist_v0")
    response = tenant.client.get(tags_url(COFFEE_APPID, OPENID))
    assert response.status_code == 502
    error = error_of(response)
    assert error["code"] == "upstream_error"
    _assert_wechat_answered(error, 40066)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/authorizers/wx%00/",
        f"/api/v1/authorizers/{'wx' * 60}/",
        f"/api/v1/authorizers/wx%00/users/{OPENID}/tags",
        f"/api/v1/authorizers/{COFFEE_APPID}/users/a/b/tags",
    ],
)
def test_odd_paths_are_404_never_500(tenant, wechat_api, url):
    response = tenant.client.get(url)
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


@pytest.mark.parametrize("body", [[], ["x"], "openids", 3, None])
def test_bulk_body_of_the_wrong_shape(coffee, tenant, wechat_api, body):
    response = tenant.client.post(bulk_url(COFFEE_APPID), body, format="json")
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_request"


def test_contract_quotes_the_revocation_reasons_as_sent():
    """docs/CONTRACT.md quotes the merchant-facing reasons word for word."""
    from pathlib import Path

    from authorizers.capabilities import revocation_reason
    from authorizers.models import Authorizer

    contract = Path(__file__).resolve().parents[2] / "docs" / "CONTRACT.md"
    text = " ".join(contract.read_text().split())
    for status in (Authorizer.Status.REVOKED, Authorizer.Status.REAUTH_REQUIRED):
        assert f'"{revocation_reason(status)}"' in text
