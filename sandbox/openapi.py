"""openapi/quota/get and openapi/rid/get (protocol §1.10), called with an account's token."""

from typing import TYPE_CHECKING

from .errors import WeChatError
from .request import Call, Reply, require_str
from .settings import CGI_PREFIX

if TYPE_CHECKING:
    from .server import SandboxServer


def quota_get(sandbox: "SandboxServer", call: Call) -> Reply:
    """An account's daily limit and use of one cgi path (authorizer token: the account's own)."""
    world = sandbox.state
    account = world.authorizer_for_token(call.access_token())
    path = require_str(call.json_body(), "cgi_path")
    if not path.startswith(CGI_PREFIX):
        raise WeChatError(76003)
    quota = world.quotas.usage(account.appid, path, world.now())
    return {"errcode": 0, "errmsg": "ok", "quota": quota}


def rid_get(sandbox: "SandboxServer", call: Call) -> Reply:
    """The request behind a rid, for the account that made the call (or the component)."""
    world = sandbox.state
    token = call.access_token()
    with world.lock:
        own = token in (world.component_access.current, world.component_access.previous)
    if own:
        world.check_component_token(token)
        owner = world.component_appid
    else:
        owner = world.authorizer_for_token(token).appid
    rid = require_str(call.json_body(), "rid")
    return {"errcode": 0, "errmsg": "ok", "request": world.rids.lookup(rid, owner, world.now())}
