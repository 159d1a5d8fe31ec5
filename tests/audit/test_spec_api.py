"""SPEC 4.3 audit: the bulk body is validated as strictly as the single openid."""

import pytest
from rest_framework.test import APIClient

from tests.api.support import COFFEE_APPID, bulk_url, error_of, getidlist_calls, tags_url

OPENID = "o" + "a" * 27


@pytest.mark.parametrize(
    "item",
    [
        12345678901234567890123,  # a JSON number, not a string
        OPENID + " ",
        " " + OPENID,
        OPENID + "\n",
        "\t" + OPENID,
    ],
)
def test_bulk_refuses_non_string_and_padded_openids(coffee, tenant, wechat_api, item):
    response = tenant.client.post(bulk_url(COFFEE_APPID), {"openids": [item]}, format="json")
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "invalid_request"
    assert error["message"].startswith("openids[0]:")
    assert set(error) == {"code", "message"}
    assert getidlist_calls(wechat_api) == 0


@pytest.mark.parametrize("size", [1, 1000])
def test_bulk_bounds_are_inclusive(coffee, tenant, wechat_api, size):
    openids = [f"o{index:027d}" for index in range(size)]
    response = tenant.client.post(bulk_url(COFFEE_APPID), {"openids": openids}, format="json")
    assert response.status_code == 200
    assert [item["openid"] for item in response.json()["results"]] == openids


def test_no_retry_after_outside_429_and_503(coffee, tenant, other_tenant, wechat_api):
    answers = [
        tenant.client.get(tags_url(COFFEE_APPID, "short")),  # 400
        other_tenant.client.get(tags_url(COFFEE_APPID, OPENID)),  # 404
        tenant.client.get(tags_url(COFFEE_APPID, OPENID)),  # 422: WeChat 40003
        tenant.client.post(bulk_url(COFFEE_APPID), {"openids": []}, format="json"),  # 400
    ]
    assert [r.status_code for r in answers] == [400, 404, 422, 400]
    for response in answers:
        assert "Retry-After" not in response
    anonymous = APIClient()
    unauthenticated = anonymous.get(tags_url(COFFEE_APPID, OPENID))
    assert unauthenticated.status_code == 401 and "Retry-After" not in unauthenticated
    assert set(error_of(answers[2])) == {"code", "message", "wechat_errcode", "rid"}
    assert set(error_of(answers[1])) == {"code", "message"}
