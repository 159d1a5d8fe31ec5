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
    40032: "invalid openid list size",
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
    48006: "forbid to clear quota because of reaching the limit",
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
    76001: "rid not found",
    76002: "rid is error",
    76003: "cgi_path is error",  # the docs name the code, not its errmsg
    76021: "cgi_path not found, please check",
}


class WeChatError(Exception):
    """An errcode answer; raised anywhere below a route and turned into JSON by the server."""

    def __init__(self, errcode: int) -> None:
        super().__init__(errcode)
        self.errcode = errcode


def new_rid(now: float | None = None) -> str:
    # Real rids start with the unix time in hex; the rest only has to be unique enough.
    at = int(time.time() if now is None else now)
    return f"{at:08x}-{random.getrandbits(32):08x}-{random.getrandbits(32):08x}"


def error_body(errcode: int, now: float | None = None) -> dict[str, object]:
    """`now` is the sandbox clock, so a rid's time matches the call's recorded invoke_time."""
    message = ERRMSG.get(errcode, "system error")
    return {"errcode": errcode, "errmsg": f"{message} rid: {new_rid(now)}"}
