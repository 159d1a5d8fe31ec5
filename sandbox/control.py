"""The control endpoint under /sandbox/: read counters and pushes, set faults and settings, act."""

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from . import demo
from .pusher import INFO_TYPES
from .registry import check_changes
from .request import Call, Reply, Response

if TYPE_CHECKING:
    from .server import SandboxServer

Handler = Callable[["SandboxServer", dict[str, object]], Reply]


class ControlError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _appid(body: dict[str, object], sandbox: "SandboxServer") -> str:
    appid = body.get("authorizer_appid")
    if not isinstance(appid, str) or appid not in sandbox.state.authorizers:
        raise ControlError(f"unknown authorizer_appid {appid!r}", 404)
    return appid


def _func_info(body: dict[str, object]) -> list[int] | None:
    value = body.get("func_info")
    if value is not None and not (
        isinstance(value, list)
        and all(isinstance(i, int) and not isinstance(i, bool) for i in value)
    ):
        raise ControlError("func_info must be a list of permission-set ids")
    return value


def state(sandbox: "SandboxServer", _: dict[str, object]) -> Reply:
    return sandbox.snapshot()


def faults(sandbox: "SandboxServer", body: dict[str, object]) -> Reply:
    if body.get("clear"):
        sandbox.faults.clear()
    else:
        sandbox.set_faults(**body)
    return sandbox.faults.snapshot()


def settings(sandbox: "SandboxServer", body: dict[str, object]) -> Reply:
    with sandbox.state.lock:
        sandbox.state.settings.update(body)
        return sandbox.state.settings.as_dict()


def reset(sandbox: "SandboxServer", body: dict[str, object]) -> Reply:
    sandbox.state.counters.reset()
    sandbox.state.quotas.reset()
    sandbox.state.rids.clear()
    sandbox.pusher.clear()
    if body.get("faults"):
        sandbox.faults.clear()
    return {"ok": True}


def consent(sandbox: "SandboxServer", body: dict[str, object]) -> Reply:
    appid, func_info = _appid(body, sandbox), _func_info(body)
    with sandbox.state.lock:
        sandbox.state.consent_appid = appid
        sandbox.state.consent_func_info = func_info
    return {"consent_appid": appid, "func_info": func_info}


def push(sandbox: "SandboxServer", body: dict[str, object]) -> Reply:
    info_type = body.get("info_type")
    if info_type not in INFO_TYPES:
        raise ControlError(f"info_type must be one of {list(INFO_TYPES)}")
    appid = None if info_type == "component_verify_ticket" else _appid(body, sandbox)
    return sandbox.push(str(info_type), appid, func_info=_func_info(body))


def authorizers(sandbox: "SandboxServer", body: dict[str, object]) -> Reply:
    world = sandbox.state
    if "bulk" in body:
        n = body["bulk"]
        if isinstance(n, bool) or not isinstance(n, int) or not 0 < n <= 100_000:
            raise ControlError("bulk must be an integer between 1 and 100000")
        appids = world.add_synthetic(n, authorized=body.get("authorized", True) is not False)
        return {"added": len(appids), "first": appids[0], "last": appids[-1]}
    appid = body.get("authorizer_appid")
    if not isinstance(appid, str) or not appid.startswith("wx") or len(appid) != 18:
        raise ControlError("authorizer_appid must be an 18-character wx... appid")
    changes = {k: v for k, v in body.items() if k not in ("authorizer_appid", "authorized")}
    try:
        check_changes(changes)
    except ValueError as exc:
        raise ControlError(str(exc)) from None
    if appid not in world.authorizers:
        world.add_authorizer(demo.build_authorizer(appid, str(changes.get("nick_name", appid))))
    try:
        account = world.update_authorizer(appid, changes)
    except ValueError as exc:
        raise ControlError(str(exc)) from None
    result: dict[str, object] = {}
    if body.get("authorized") is True:
        result["grant"] = world.authorize(appid)
    elif body.get("authorized") is False:
        world.revoke(appid)
    with world.lock:
        result["authorizer"] = account.summary()
    return result


def expire(sandbox: "SandboxServer", body: dict[str, object]) -> Reply:
    if body.get("component"):
        sandbox.state.expire_component_token()
        return {"expired": "component_access_token"}
    appid = _appid(body, sandbox)
    sandbox.state.expire_authorizer_token(appid)
    return {"expired": appid}


def clock(sandbox: "SandboxServer", body: dict[str, object]) -> Reply:
    seconds = body.get("advance")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise ControlError("advance must be a number of seconds")
    sandbox.state.advance_clock(seconds)
    return {"now": sandbox.state.now()}


POST_ROUTES: dict[str, Handler] = {
    "/sandbox/faults": faults,
    "/sandbox/settings": settings,
    "/sandbox/reset": reset,
    "/sandbox/consent": consent,
    "/sandbox/push": push,
    "/sandbox/authorizers": authorizers,
    "/sandbox/expire": expire,
    "/sandbox/clock": clock,
}


def _get(sandbox: "SandboxServer", call: Call) -> Reply:
    world = sandbox.state
    if call.path in ("/sandbox", "/sandbox/"):
        get = ["/sandbox/state", "/sandbox/authorizers", "/sandbox/authorizers/<appid>"]
        return {"sandbox": "WeChat sandbox", "get": get, "post": sorted(POST_ROUTES)}
    if call.path == "/sandbox/state":
        return state(sandbox, {})
    if call.path == "/sandbox/authorizers":
        offset, limit = int(call.query.get("offset", 0)), int(call.query.get("limit", 100))
        with world.lock:
            page = list(world.authorizers.values())[offset : offset + limit]
            return {"total_count": len(world.authorizers), "list": [a.summary() for a in page]}
    if call.path.startswith("/sandbox/authorizers/"):
        appid = call.path.rsplit("/", 1)[1]
        with world.lock:
            if appid in world.authorizers:
                return world.authorizers[appid].summary()
        raise ControlError(f"unknown authorizer {appid}", 404)
    raise ControlError(f"no such control endpoint {call.path}", 404)


def dispatch(sandbox: "SandboxServer", call: Call) -> Reply:
    try:
        if call.method in ("GET", "HEAD"):
            return _get(sandbox, call)
        handler = POST_ROUTES.get(call.path.rstrip("/"))
        if handler is None:
            raise ControlError(f"no such control endpoint {call.method} {call.path}", 404)
        try:
            body = json.loads(call.body) if call.body.strip() else {}
        except ValueError:
            raise ControlError("body must be JSON") from None
        if not isinstance(body, dict):
            raise ControlError("body must be a JSON object")
        return handler(sandbox, body)
    except ControlError as exc:
        return _error(exc.status, str(exc))
    except (ValueError, TypeError, KeyError) as exc:
        return _error(400, f"{type(exc).__name__}: {exc}")


def _error(status: int, message: str) -> Response:
    body = json.dumps({"error": message}, ensure_ascii=False).encode("utf-8")
    return Response(status, body, "application/json; charset=utf-8")
