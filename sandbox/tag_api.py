"""Authorizer-side user APIs, called with an authorizer_access_token (protocol §1.11, §1.12)."""

from typing import TYPE_CHECKING

from . import demo
from .accounts import Authorizer
from .errors import WeChatError
from .request import Call, Reply, require_str

if TYPE_CHECKING:
    from .server import SandboxServer
    from .state import World

MAX_BATCHGET = 100
LANGS = frozenset({"zh_CN", "zh_TW", "en"})


def _caller(sandbox: "SandboxServer", call: Call) -> Authorizer:
    world = sandbox.state
    account = world.authorizer_for_token(call.access_token())
    # Every call with a live token spends the account's quota, refused or not (harsher).
    world.quotas.spend(account.appid, call.path, world.now())
    # The platform's grant is checked before the account's own capability (protocol §3.2).
    if not account.may_call_tag_apis:
        raise WeChatError(61007)
    if not account.is_verified_service_account:
        raise WeChatError(48001)
    return account


def _user_tags(world: "World", account: Authorizer, openid: str) -> list[int] | None:
    """The user's tag ids; None for the account's user who unfollowed. Someone else's openid
    is 49003, an unknown one 40003. Call with the world's lock held."""
    tagids = account.users.get(openid)
    if tagids is None:
        raise WeChatError(49003 if openid in world.openid_index else 40003)
    return None if openid in account.unsubscribed else tagids


def getidlist(sandbox: "SandboxServer", call: Call) -> Reply:
    account = _caller(sandbox, call)
    openid = require_str(call.json_body(), "openid")
    with sandbox.state.lock:
        tagids = _user_tags(sandbox.state, account, openid)
        if tagids is None:
            raise WeChatError(40003)  # WeChat's answer for a non-follower
        return {"tagid_list": list(tagids)}


def tags_get(sandbox: "SandboxServer", call: Call) -> Reply:
    account = _caller(sandbox, call)
    with sandbox.state.lock:
        return {"tags": account.tags_json()}


def _batch_openids(body: dict[str, object]) -> list[str]:
    items = body.get("user_list")
    if not isinstance(items, list):
        raise WeChatError(47001)
    if not 0 < len(items) <= MAX_BATCHGET:
        raise WeChatError(40032)
    openids = []
    for item in items:
        if not isinstance(item, dict):
            raise WeChatError(47001)
        lang = item.get("lang", "zh_CN")
        if not isinstance(lang, str) or lang not in LANGS:
            raise WeChatError(47001)
        openids.append(require_str(item, "openid"))
    return openids


def batchget(sandbox: "SandboxServer", call: Call) -> Reply:
    """All or nothing: the first openid that is not the account's fails the whole call, with
    40003 whether it is unknown or another account's. WeChat does not document which code
    batchget gives for which case; this is the harsher reading (getidlist says 49003 for
    another account's openid), so a client cannot come to depend on the kinder one."""
    account = _caller(sandbox, call)
    openids = _batch_openids(call.json_body())
    world = sandbox.state
    with world.lock:
        try:
            found = [(openid, _user_tags(world, account, openid)) for openid in openids]
        except WeChatError as exc:
            if exc.errcode == 49003:
                raise WeChatError(40003) from None
            raise
    return {"user_info_list": [_user_info(o, tagids) for o, tagids in found]}


def _user_info(openid: str, tagids: list[int] | None) -> dict[str, object]:
    if tagids is None:
        return {"subscribe": 0, "openid": openid}
    return {
        "subscribe": 1,
        "openid": openid,
        "language": "zh_CN",
        "subscribe_time": demo.demo_subscribe_time(openid),
        "unionid": demo.demo_unionid(openid),
        "remark": "",
        "groupid": 0,
        "tagid_list": list(tagids),
        "subscribe_scene": "ADD_SCENE_QR_CODE",
        "qr_scene": 0,
        "qr_scene_str": "",
    }
