"""?expand=names: names from cgi-bin/tags/get, cached briefly, refetched for an unknown id."""

from tests.api.support import COFFEE_APPID, demo_openid, tags_url


def test_names_are_added_and_cached(coffee, tenant, wechat_api):
    url = tags_url(COFFEE_APPID, demo_openid(COFFEE_APPID, 5), "expand=names")
    body = tenant.client.get(url).json()
    assert body["tagid_list"] == [100, 101, 102]
    assert body["tags"] == [
        {"id": 100, "name": "VIP"},
        {"id": 101, "name": "Newcomer"},
        {"id": 102, "name": "Latte lovers"},
    ]
    tenant.client.get(tags_url(COFFEE_APPID, demo_openid(COFFEE_APPID, 0), "expand=names"))
    assert wechat_api.state.calls("/cgi-bin/tags/get") == 1
    assert (
        "tags" not in tenant.client.get(tags_url(COFFEE_APPID, demo_openid(COFFEE_APPID, 0))).json()
    )


def test_a_new_tag_refetches_the_names_once(coffee, tenant, wechat_api):
    openid = demo_openid(COFFEE_APPID, 2)  # no tags yet
    tenant.client.get(tags_url(COFFEE_APPID, openid, "expand=names"))
    state = wechat_api.state
    with state.lock:
        account = state.authorizers[COFFEE_APPID]
        account.tags[150] = "Brand new"
        account.users[openid] = [150, 151]  # 151: a tag WeChat does not list (deleted)
    body = tenant.client.get(tags_url(COFFEE_APPID, openid, "expand=names")).json()
    assert body["tags"] == [{"id": 150, "name": "Brand new"}, {"id": 151, "name": None}]
    assert state.calls("/cgi-bin/tags/get") == 2


def test_names_cache_expires(coffee, tenant, wechat_api, settings):
    settings.TAGS_NAMES_CACHE_SECONDS = 0  # Django: 0 means "do not cache"
    url = tags_url(COFFEE_APPID, demo_openid(COFFEE_APPID, 0), "expand=names")
    tenant.client.get(url)
    tenant.client.get(url)
    assert wechat_api.state.calls("/cgi-bin/tags/get") == 2
