"""Which function answers which WeChat path, and which authorizer a call is about."""

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from . import component_api, openapi, tag_api
from .errors import WeChatError, error_body
from .login_page import login_page
from .request import Call, Reply

if TYPE_CHECKING:
    from .server import SandboxServer
    from .state import World

logger = logging.getLogger(__name__)

Route = Callable[["SandboxServer", Call], Reply]
POST, ANY = frozenset({"POST"}), frozenset({"GET", "POST", "HEAD"})

_C = "/cgi-bin/component/"
ROUTES: dict[str, tuple[frozenset[str], Route]] = {
    _C + "api_component_token": (POST, component_api.api_component_token),
    _C + "api_start_push_ticket": (POST, component_api.api_start_push_ticket),
    _C + "api_create_preauthcode": (POST, component_api.api_create_preauthcode),
    _C + "api_query_auth": (POST, component_api.api_query_auth),
    _C + "api_authorizer_token": (POST, component_api.api_authorizer_token),
    _C + "api_get_authorizer_info": (POST, component_api.api_get_authorizer_info),
    _C + "api_get_authorizer_list": (POST, component_api.api_get_authorizer_list),
    _C + "clear_quota/v2": (POST, component_api.clear_quota_v2),
    "/cgi-bin/tags/getidlist": (POST, tag_api.getidlist),
    "/cgi-bin/tags/get": (ANY, tag_api.tags_get),
    "/cgi-bin/user/info/batchget": (POST, tag_api.batchget),
    "/cgi-bin/openapi/quota/get": (POST, openapi.quota_get),
    "/cgi-bin/openapi/rid/get": (POST, openapi.rid_get),
}
# Browser pages: the PC page and the legacy H5 one wechatpy's get_pre_auth_url_m builds.
PAGES: dict[str, Route] = {
    "/cgi-bin/componentloginpage": login_page,
    "/safe/bindcomponent": login_page,
}


def is_page(path: str) -> bool:
    return path in PAGES


def attribute(world: "World", call: Call) -> str | None:
    """The authorizer a call concerns, for the per-authorizer counters (even if it fails)."""
    body = call.peek_json()
    # clear_quota/v2 names the account as "appid".
    appid = body.get("authorizer_appid") or (body.get("appid") if "appsecret" in body else None)
    if isinstance(appid, str) and appid:
        return appid
    with world.lock:
        token = call.query.get("access_token")
        if token and token in world.token_index:
            return world.token_index[token]
        code = call.peek_json().get("authorization_code")
        found = world.auth_codes.get(code) if isinstance(code, str) else None
        return found.appid if found else None


def caller(world: "World", call: Call) -> str | None:
    """Whose call this is (who may look its rid up): the account whose token it carries, the
    component for its own token or a tokenless call naming it, else nobody."""
    token = call.query.get("access_token") or call.query.get("component_access_token")
    with world.lock:
        if token:
            if token in world.token_index:
                return world.token_index[token]
            own = (world.component_access.current, world.component_access.previous)
            return world.component_appid if token in own else None
    named = call.peek_json().get("component_appid")
    return world.component_appid if named == world.component_appid else None


def dispatch(sandbox: "SandboxServer", call: Call) -> Reply:
    if call.path in PAGES:
        return PAGES[call.path](sandbox, call)
    route = ROUTES.get(call.path)
    try:
        if route is None:
            raise WeChatError(40066)
        methods, handler = route
        if call.method not in methods:
            raise WeChatError(43002)
        return handler(sandbox, call)
    except WeChatError as exc:
        return error_body(exc.errcode, sandbox.state.now())
    except Exception:
        # A sandbox bug still answers like WeChat does when it breaks; the log says why.
        logger.exception("sandbox route %s crashed", call.path)
        sandbox.internal_errors += 1
        return error_body(-1, sandbox.state.now())
