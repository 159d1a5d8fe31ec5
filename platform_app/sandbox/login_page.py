"""The authorization page (componentloginpage / bindcomponent): validates, then consents at once."""

import html
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit, urlunsplit

from .request import Call, Reply, Response

if TYPE_CHECKING:
    from .server import SandboxServer

AUTH_TYPES = frozenset({"1", "2", "3", "4", "5", "6", "8"})


def error_page(message: str) -> Response:
    # WeChat shows its refusals as a 200 HTML page, not an HTTP error.
    body = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>微信公众平台</title></head>"
        f"<body><div class='weui-msg'><h2>授权失败</h2><p class='msg'>{html.escape(message)}</p>"
        "</div></body></html>"
    )
    return Response(200, body.encode("utf-8"))


def with_query(url: str, params: dict[str, object]) -> str:
    """Append params to url's query (with & when it already has one), before any fragment."""
    parts = urlsplit(url)
    extra = urlencode(params)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))


def login_page(sandbox: "SandboxServer", call: Call) -> Reply:
    world, q = sandbox.state, call.query
    if q.get("component_appid") != world.component_appid:
        return error_page("component_appid 无效 (invalid component_appid)")
    redirect_uri = q.get("redirect_uri", "")
    if urlsplit(redirect_uri).scheme not in ("http", "https"):
        return error_page("redirect_uri 无效 (invalid redirect_uri)")
    if q.get("auth_type", "3") not in AUTH_TYPES:
        return error_page("auth_type 无效 (invalid auth_type)")
    appid = q.get("biz_appid") or world.consent_appid
    if appid not in world.authorizers:
        return error_page("该帐号不存在 (unknown biz_appid)")
    refused = world.take_pre_auth_code(q.get("pre_auth_code", ""))
    if refused:
        return error_page(f"预授权码无效或已过期 (pre_auth_code {refused})")
    consent = world.consent(appid, pre_auth_code=q["pre_auth_code"])
    sandbox.pusher.in_background(consent.info_type, consent=consent)
    location = with_query(
        redirect_uri, {"auth_code": consent.auth_code, "expires_in": consent.expires_in}
    )
    return Response(302, b"", headers={"Location": location})
