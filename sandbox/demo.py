"""The sandbox's fixed demo world. Settings, the demo script and tests rely on these values."""

import base64
import hashlib
from dataclasses import dataclass

from .accounts import Authorizer

COMPONENT_APPID = "wx0demo0component01"
COMPONENT_APPSECRET = "demo-component-secret-0123456789ab"
COMPONENT_TOKEN = "demotoken"
ENCODING_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"

COFFEE_APPID = "wx1000000000000002"  # verified Service Account, granted set 2
BOOKS_APPID = "wx1000000000000100"  # verified Service Account, granted set 100 (not 2)
BAKERY_APPID = "wx1000000000000000"  # verified Service Account, granted neither 2 nor 100
UNVERIFIED_APPID = "wx10000000000000a1"  # unverified Service Account
SUBSCRIPTION_APPID = "wx10000000000000b0"  # Subscription Account
DEFAULT_CONSENT_APPID = COFFEE_APPID

STAR_TAG = (2, "星标组")
BUSINESS_INFO_KEYS = (
    "open_store",
    "open_scan",
    "open_pay",
    "open_card",
    "open_shake",
)  # system tag every account has
USERS_PER_DEMO_AUTHORIZER = 6


@dataclass(frozen=True)
class DemoAccount:
    appid: str
    nick_name: str
    principal_name: str
    alias: str
    service_type: int
    verify_type: int
    func_info: tuple[int, ...]
    custom_tags: tuple[str, ...]


DEMO_AUTHORIZERS: dict[str, DemoAccount] = {
    a.appid: a
    for a in (
        DemoAccount(COFFEE_APPID, "Demo Coffee", "演示咖啡有限公司", "democoffee",
                    service_type=2, verify_type=0, func_info=(1, 2, 3),
                    custom_tags=("VIP", "Newcomer", "Latte lovers")),
        DemoAccount(BOOKS_APPID, "Demo Books", "演示书店有限公司", "demobooks",
                    service_type=2, verify_type=0, func_info=(1, 100),
                    custom_tags=("VIP", "Newcomer", "Book club")),
        DemoAccount(BAKERY_APPID, "Demo Bakery", "演示烘焙有限公司", "demobakery",
                    service_type=2, verify_type=0, func_info=(1, 3, 7),
                    custom_tags=("VIP", "Newcomer", "Sourdough fans")),
        DemoAccount(UNVERIFIED_APPID, "Demo Unverified", "演示未认证工作室", "demounverified",
                    service_type=2, verify_type=-1, func_info=(1, 2),
                    custom_tags=("VIP", "Newcomer")),
        DemoAccount(SUBSCRIPTION_APPID, "Demo Subscription", "演示订阅号工作室", "demosub",
                    service_type=0, verify_type=0, func_info=(1, 2),
                    custom_tags=("VIP", "Newcomer")),
    )
}  # fmt: skip


# Which tags each demo user carries, by user index (tag ids: 2 = 星标组, 100+ = custom).
_USER_TAG_PATTERN: tuple[tuple[int, ...], ...] = (
    (2, 100),
    (100,),
    (),
    (101,),
    (2,),
    (100, 101, 102),
)


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def demo_openid(appid: str, index: int) -> str:
    """A deterministic 28-character openid like WeChat's: "o" + 27 URL-safe characters."""
    return "o" + base64.urlsafe_b64encode(_digest(f"{appid}:{index}")).decode()[:27]


def demo_openids(appid: str) -> list[str]:
    """The openids of a demo (or synthetic) authorizer's users, in a stable order."""
    count = USERS_PER_DEMO_AUTHORIZER if appid in DEMO_AUTHORIZERS else SYNTHETIC_USERS
    return [demo_openid(appid, i) for i in range(count)]


def demo_unionid(openid: str) -> str:
    """A stable unionid for a demo user (28 characters, like WeChat's "o6_bm..." ones)."""
    return "o" + base64.urlsafe_b64encode(_digest(f"unionid:{openid}")).decode()[:27]


def demo_subscribe_time(openid: str) -> int:
    """When a demo user followed: a stable moment in 2020-2023."""
    return 1_577_836_800 + int.from_bytes(_digest(f"subscribe:{openid}")[:4]) % (4 * 365 * 86400)


def _profile(appid: str) -> dict[str, str]:
    h = hashlib.sha256(appid.encode()).hexdigest()[:40]
    return {
        "user_name": f"gh_{h[:12]}",
        "head_img": f"http://wx.qlogo.cn/mmopen/{h}/0",
        "qrcode_url": f"http://mmbiz.qpic.cn/mmbiz_jpg/{h[::-1]}/0",
    }


def build_demo_authorizer(account: DemoAccount) -> Authorizer:
    tags = dict([STAR_TAG]) | {100 + i: name for i, name in enumerate(account.custom_tags)}
    users = {
        demo_openid(account.appid, i): [
            t for t in _USER_TAG_PATTERN[i % len(_USER_TAG_PATTERN)] if t in tags
        ]
        for i in range(USERS_PER_DEMO_AUTHORIZER)
    }
    return Authorizer(
        appid=account.appid,
        nick_name=account.nick_name,
        service_type=account.service_type,
        verify_type=account.verify_type,
        func_info=list(account.func_info),
        principal_name=account.principal_name,
        alias=account.alias,
        business_info=dict.fromkeys(BUSINESS_INFO_KEYS, 0) | {"open_pay": 1},
        users=users,
        tags=tags,
        **_profile(account.appid),
    )


SYNTHETIC_USERS = 3


def synthetic_appid(index: int) -> str:
    return f"wx9{index:015x}"


def build_authorizer(appid: str, nick_name: str) -> Authorizer:
    """A verified Service Account that granted set 2, with a few users: the default new account."""
    tags = dict([STAR_TAG, (100, "VIP")])
    users = {demo_openid(appid, i): [[2, 100], [100], []][i % 3] for i in range(SYNTHETIC_USERS)}
    return Authorizer(
        appid=appid,
        nick_name=nick_name,
        func_info=[1, 2, 3],
        principal_name=f"{nick_name} 有限公司",
        alias=nick_name.lower().replace(" ", ""),
        business_info=dict.fromkeys(BUSINESS_INFO_KEYS, 0),
        users=users,
        tags=tags,
        **_profile(appid),
    )


def build_synthetic_authorizer(index: int) -> Authorizer:
    """Benchmark filler."""
    return build_authorizer(synthetic_appid(index), f"Synthetic {index:05d}")
