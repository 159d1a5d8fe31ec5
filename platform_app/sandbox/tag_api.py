"""Authorizer-side user-tag APIs, called with an authorizer_access_token (protocol §1.11)."""

from typing import TYPE_CHECKING

from .accounts import Authorizer
from .errors import WeChatError
from .request import Call, Reply, require_str

if TYPE_CHECKING:
    from .server import SandboxServer


def _caller(sandbox: "SandboxServer", call: Call) -> Authorizer:
    account = sandbox.state.authorizer_for_token(call.access_token())
    # The platform's grant is checked before the account's own capability (protocol §3.2).
    if not account.may_call_tag_apis:
        raise WeChatError(61007)
    if not account.is_verified_service_account:
        raise WeChatError(48001)
    return account


def getidlist(sandbox: "SandboxServer", call: Call) -> Reply:
    account = _caller(sandbox, call)
    openid = require_str(call.json_body(), "openid")
    world = sandbox.state
    with world.lock:
        tagids = account.users.get(openid)
        if tagids is not None:
            return {"tagid_list": list(tagids)}
        raise WeChatError(49003 if openid in world.openid_index else 40003)


def tags_get(sandbox: "SandboxServer", call: Call) -> Reply:
    account = _caller(sandbox, call)
    with sandbox.state.lock:
        return {"tags": account.tags_json()}
