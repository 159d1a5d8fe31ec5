"""An authorizer as WeChat knows it: account profile, grant, users and tags, credentials."""

from dataclasses import dataclass, field

from .tokens import RefreshSlot, TokenSlot

SERVICE_TYPE_NAMES = {0: "订阅号", 1: "由历史老帐号升级后的订阅号", 2: "服务号"}
VERIFY_TYPE_NAMES = {-1: "未认证", 0: "微信认证"}
# The permission sets any one of which lets a platform call the user-tag APIs (protocol §3.2).
TAG_API_FUNCSCOPES = frozenset({2, 100})


@dataclass
class Authorizer:
    appid: str
    nick_name: str
    service_type: int = 2
    verify_type: int = 0
    func_info: list[int] = field(default_factory=lambda: [1, 2, 3])
    principal_name: str = ""
    user_name: str = ""
    alias: str = ""
    head_img: str = ""
    qrcode_url: str = ""
    account_status: int = 1
    business_info: dict[str, int] = field(default_factory=dict)
    # openid -> tagid_list, and tag id -> name
    users: dict[str, list[int]] = field(default_factory=dict)
    tags: dict[int, str] = field(default_factory=dict)
    # The account's users who unfollowed: still its openids, but no longer followers.
    unsubscribed: set[str] = field(default_factory=set)
    authorized: bool = False
    # WeChat lists an authorizer with an empty refresh_token until its auth code is exchanged.
    exchanged: bool = False
    auth_time: int = 0
    refresh: RefreshSlot = field(default_factory=RefreshSlot)
    access: TokenSlot = field(default_factory=TokenSlot)

    @property
    def may_call_tag_apis(self) -> bool:
        return bool(TAG_API_FUNCSCOPES.intersection(self.func_info))

    @property
    def is_verified_service_account(self) -> bool:
        return self.service_type == 2 and self.verify_type != -1

    def func_info_json(self) -> list[dict[str, object]]:
        return [{"funcscope_category": {"id": i}} for i in self.func_info]

    def authorizer_info_json(self) -> dict[str, object]:
        return {
            "nick_name": self.nick_name,
            "head_img": self.head_img,
            "service_type_info": {
                "id": self.service_type,
                "name": SERVICE_TYPE_NAMES.get(self.service_type, ""),
            },
            "verify_type_info": {
                "id": self.verify_type,
                "name": VERIFY_TYPE_NAMES.get(self.verify_type, "资质认证"),
            },
            "user_name": self.user_name,
            "principal_name": self.principal_name,
            "alias": self.alias,
            "business_info": dict(self.business_info),
            "qrcode_url": self.qrcode_url,
            "account_status": self.account_status,
            "idc": 1,
            "signature": "",
        }

    def tags_json(self) -> list[dict[str, object]]:
        counts = dict.fromkeys(self.tags, 0)
        for openid, tagids in self.users.items():
            if openid in self.unsubscribed:
                continue  # count = followers carrying the tag
            for tagid in tagids:
                if tagid in counts:
                    counts[tagid] += 1
        return [{"id": i, "name": n, "count": counts[i]} for i, n in sorted(self.tags.items())]

    def summary(self) -> dict[str, object]:
        """What the control endpoint shows (secrets included: this is a test double)."""
        return {
            "authorizer_appid": self.appid,
            "nick_name": self.nick_name,
            "service_type": self.service_type,
            "verify_type": self.verify_type,
            "func_info": list(self.func_info),
            "authorized": self.authorized,
            "exchanged": self.exchanged,
            "refresh_token": self.refresh.current,
            "access_token": self.access.current,
            "access_token_expires_at": self.access.expires_at,
            "openids": list(self.users),
            "unsubscribed": sorted(self.unsubscribed),
            "tags": self.tags_json(),
        }
