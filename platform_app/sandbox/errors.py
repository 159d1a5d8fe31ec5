"""WeChat's errcodes as the sandbox answers them (wechat-protocol.md sections 4, 7 and 8)."""

import random
import time

ERRMSG: dict[int, str] = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40003: "invalid openid",
    40013: "invalid appid",
    40014: "invalid access_token",
    40066: "invalid url",
    40125: "invalid appsecret",
    40170: "args count exceed count limit",
    41001: "access_token missing",
    41004: "appsecret missing",
    42001: "access_token expired",
    43002: "require POST method",
    44002: "empty post data",
    45009: "reach max api daily quota limit",
    47001: "data format error",
    48001: "api unauthorized",
    49003: "not match openid with appid",
    61003: "component is not authorized by this account",
    61005: "component ticket is expired",
    61006: "component ticket is invalid",
    61007: "api is unauthorized to component",
    61009: "code is invalid",
    61010: "code is expired",
    61011: "invalid component",
    61014: "must use component token for component api",
    61015: "must use biz account token for not component api",
    61023: "refresh_token is invalid",
}


class WeChatError(Exception):
    """An errcode answer; raised anywhere below a route and turned into JSON by the server."""

    def __init__(self, errcode: int) -> None:
        super().__init__(errcode)
        self.errcode = errcode


def new_rid() -> str:
    # Real rids start with the unix time in hex; the rest only has to be unique enough.
    return f"{int(time.time()):08x}-{random.getrandbits(32):08x}-{random.getrandbits(32):08x}"


def error_body(errcode: int) -> dict[str, object]:
    return {"errcode": errcode, "errmsg": f"{ERRMSG.get(errcode, 'system error')} rid: {new_rid()}"}
