"""The fixed demo world other engineers code against."""

import re

from sandbox import demo
from sandbox.state import World

OPENID = re.compile(r"^o[A-Za-z0-9_-]{27}$")


def test_component_values():
    assert demo.COMPONENT_APPID == "wx0demo0component01"
    assert demo.COMPONENT_APPSECRET == "demo-component-secret-0123456789ab"
    assert demo.COMPONENT_TOKEN == "demotoken"
    assert demo.ENCODING_AES_KEY == "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def test_demo_authorizers():
    expected = {
        "wx1000000000000002": ("Demo Coffee", 2, 0, (1, 2, 3)),
        "wx1000000000000100": ("Demo Books", 2, 0, (1, 100)),
        "wx1000000000000000": ("Demo Bakery", 2, 0, (1, 3, 7)),
        "wx10000000000000a1": ("Demo Unverified", 2, -1, (1, 2)),
        "wx10000000000000b0": ("Demo Subscription", 0, 0, (1, 2)),
    }
    actual = {
        a.appid: (a.nick_name, a.service_type, a.verify_type, a.func_info)
        for a in demo.DEMO_AUTHORIZERS.values()
    }
    assert actual == expected


def test_each_demo_account_has_users_tags_and_a_profile():
    world = World()
    seen: set[str] = set()
    for appid in demo.DEMO_AUTHORIZERS:
        account = world.authorizers[appid]
        openids = demo.demo_openids(appid)
        assert openids == demo.demo_openids(appid)  # deterministic
        assert list(account.users) == openids
        assert all(OPENID.match(o) for o in openids)
        assert not seen & set(openids)
        seen |= set(openids)
        assert account.tags[2] == "星标组"
        assert account.tags[100] == "VIP"
        assert account.tags[101] == "Newcomer"
        assert any(account.users.values())
        assert account.user_name.startswith("gh_")
        assert account.principal_name
        assert account.alias
        assert account.head_img.startswith("http")
        assert account.qrcode_url.startswith("http")
        assert account.account_status == 1
        assert not account.authorized  # merchants authorize through the flow
