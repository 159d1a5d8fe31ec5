"""Which function answers which WeChat path, and which authorizer a call is about."""

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from . import component_api, tag_api
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
    "/cgi-bin/tags/getidlist": (POST, tag_api.getidlist),
    "/cgi-bin/tags/get": (ANY, tag_api.tags_get),
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
    appid = call.peek_json().get("authorizer_appid")
    if isinstance(appid, str) and appid:
        return appid
    with world.lock:
        token = call.query.get("access_token")
        if token and token in world.token_index:
            return world.token_index[token]
        code = call.peek_json().get("authorization_code")
        found = world.auth_codes.get(code) if isinstance(code, str) else None
        return found.appid if found else None


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
        return error_body(exc.errcode)
    except Exception:
        # A sandbox bug still answers like WeChat does when it breaks; the log says why.
        logger.exception("sandbox route %s crashed", call.path)
        sandbox.internal_errors += 1
        return error_body(-1)
