import pytest

from tests.api.support import bulk_url, demo_openid, getidlist_calls, tags_url, COFFEE_APPID


@pytest.mark.parametrize(
    "openid",
    [
        "a" * 19, "a" * 65, "a" * 27 + " ", " " + "a" * 27, "a" * 27 + "%0A", "a" * 27 + "%00", "a"*20+"\u00a0", "a" * 27 + "%20",
        "a" * 27 + "١", "a" * 27 + "é", "a" * 27 + ".", "a" * 27 + "%2E",
    ],
)
def test_single_bad(coffee, tenant, wechat_api, openid):
    r = tenant.client.get(tags_url(COFFEE_APPID, openid))
    print(repr(openid), r.status_code, r.content[:200])
    assert r.status_code == 400
    assert getidlist_calls(wechat_api) == 0


@pytest.mark.parametrize("openid", ["a" * 20, "a" * 64, "a-b_" * 6])
def test_single_ok_shape(coffee, tenant, wechat_api, openid):
    r = tenant.client.get(tags_url(COFFEE_APPID, openid))
    print(repr(openid), r.status_code, r.content[:300], r.headers)


@pytest.mark.parametrize(
    "body",
    [
        {"openids": []},
        {"openids": "a" * 28},
        {"openids": [12345678901234567890123]},
        {"openids": ["a" * 27 + " "]},
        {"openids": [" " + "a" * 27]},
        {"openids": ["a" * 27 + "\n"]},
        {"openids": ["a" * 28] * 1001},
        {"openids": [None]},
        {"openids": [True]},
        {"openids": [["a" * 28]]},
        {"openids": ["a" * 28], "extra": 1},
        ["a" * 28],
        {},
        {"openids": ["a" * 28] * 1000},
        {"openids": ["a" * 28]},
    ],
)
def test_bulk(coffee, tenant, wechat_api, body):
    r = tenant.client.post(bulk_url(COFFEE_APPID), body, format="json")
    print(str(body)[:80], r.status_code, r.content[:300], getidlist_calls(wechat_api))
