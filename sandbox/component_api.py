"""The component endpoints under /cgi-bin/component/ (wechat-protocol.md section 1)."""

from typing import TYPE_CHECKING

from .errors import WeChatError
from .request import Call, Reply, optional_int, require_str
from .tokens import new_marked

if TYPE_CHECKING:
    from .server import SandboxServer

# The legacy docs and SDKs name it component_access_token; newer docs write access_token.
TOKEN_PARAMS = ("component_access_token", "access_token")
MAX_LIST_COUNT = 500


def _check_secret(body: dict[str, object], name: str, expected: str) -> None:
    secret = body.get(name)
    if not isinstance(secret, str) or not secret:
        raise WeChatError(41004)
    if secret != expected:
        raise WeChatError(40125)


def _authenticated_body(sandbox: "SandboxServer", call: Call) -> dict[str, object]:
    """Token first, then body, then component_appid: the order WeChat appears to check in."""
    sandbox.state.check_component_token(call.access_token(*TOKEN_PARAMS))
    body = call.json_body()
    sandbox.state.check_component_appid(require_str(body, "component_appid"))
    return body


def api_component_token(sandbox: "SandboxServer", call: Call) -> Reply:
    world = sandbox.state
    body = call.json_body()
    world.check_component_appid(require_str(body, "component_appid"))
    _check_secret(body, "component_appsecret", world.component_appsecret)
    world.check_ticket(require_str(body, "component_verify_ticket"))
    token, expires_in = world.issue_component_token()
    return {"component_access_token": token, "expires_in": expires_in}


def api_start_push_ticket(sandbox: "SandboxServer", call: Call) -> Reply:
    world = sandbox.state
    body = call.json_body()
    world.check_component_appid(require_str(body, "component_appid"))
    _check_secret(body, "component_secret", world.component_appsecret)
    sandbox.pusher.in_background("component_verify_ticket")
    return {"errcode": 0, "errmsg": "ok"}


def api_create_preauthcode(sandbox: "SandboxServer", call: Call) -> Reply:
    _authenticated_body(sandbox, call)
    code, expires_in = sandbox.state.create_pre_auth_code()
    return {"pre_auth_code": code, "expires_in": expires_in}


def api_query_auth(sandbox: "SandboxServer", call: Call) -> Reply:
    world = sandbox.state
    body = _authenticated_body(sandbox, call)
    account = world.redeem_auth_code(require_str(body, "authorization_code"))
    token = world.issue_authorizer_token(account)
    with world.lock:
        info = {
            "authorizer_appid": account.appid,
            "authorizer_access_token": token,
            "expires_in": int(world.settings.token_ttl),
            "authorizer_refresh_token": account.refresh.current,
            "func_info": account.func_info_json(),
        }
    return {"authorization_info": info}


def api_authorizer_token(sandbox: "SandboxServer", call: Call) -> Reply:
    world = sandbox.state
    body = _authenticated_body(sandbox, call)
    appid = require_str(body, "authorizer_appid")
    refresh_token = require_str(body, "authorizer_refresh_token")
    with world.lock:
        account = world.authorizers.get(appid)
        if account is None or not account.authorized:
            raise WeChatError(61003)
        if not account.refresh.accepts(refresh_token, world.now()):
            raise WeChatError(61023)
        if world.settings.rotate_refresh_token:
            account.refresh.replace(
                new_marked("refreshtoken"),
                now=world.now(),
                grace=world.settings.refresh_token_grace_seconds,
            )
        return {
            "authorizer_access_token": world.issue_authorizer_token(account),
            "expires_in": int(world.settings.token_ttl),
            "authorizer_refresh_token": account.refresh.current,
        }


def api_get_authorizer_info(sandbox: "SandboxServer", call: Call) -> Reply:
    world = sandbox.state
    body = _authenticated_body(sandbox, call)
    appid = require_str(body, "authorizer_appid")
    with world.lock:
        account = world.authorizers.get(appid)
        if account is None or not account.authorized:
            raise WeChatError(61003)
        return {
            "authorizer_info": account.authorizer_info_json(),
            "authorization_info": {
                "authorizer_appid": account.appid,
                "authorizer_refresh_token": account.refresh.current if account.exchanged else "",
                "func_info": account.func_info_json(),
            },
        }


def api_get_authorizer_list(sandbox: "SandboxServer", call: Call) -> Reply:
    world = sandbox.state
    body = _authenticated_body(sandbox, call)
    offset = optional_int(body, "offset", 0)
    count = optional_int(body, "count", MAX_LIST_COUNT)
    if count > MAX_LIST_COUNT:
        raise WeChatError(40170)
    with world.lock:
        authorized = [a for a in world.authorizers.values() if a.authorized]
        page = [
            {
                "authorizer_appid": a.appid,
                # Empty until the platform exchanges the auth code (protocol §1.8).
                "refresh_token": a.refresh.current if a.exchanged else "",
                "auth_time": a.auth_time,
            }
            for a in authorized[offset : offset + count]
        ]
    return {"total_count": len(authorized), "list": page}


def clear_quota_v2(sandbox: "SandboxServer", call: Call) -> Reply:
    """Zero an account's daily counters (or, without appid, the component's): no token needed,
    10 times a month per account (protocol §1.10)."""
    world = sandbox.state
    body = call.json_body()
    world.check_component_appid(require_str(body, "component_appid"))
    _check_secret(body, "appsecret", world.component_appsecret)
    appid = body.get("appid", world.component_appid)
    if not isinstance(appid, str) or not appid:
        raise WeChatError(47001)
    if appid != world.component_appid:
        with world.lock:
            account = world.authorizers.get(appid)
            if account is None:
                raise WeChatError(40013)
            if not account.authorized:
                raise WeChatError(61003)  # not this platform's to clear
    world.quotas.clear(appid, world.now())
    return {"errcode": 0, "errmsg": "ok"}
