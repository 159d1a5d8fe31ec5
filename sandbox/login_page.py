"""The authorization page (componentloginpage / bindcomponent).

It validates the link, then consents at once as the selected account (`/sandbox/consent`, or
biz_appid). With settings.interactive_login (the management command turns it on) a browser,
which asks for text/html, gets a form instead: pick the account and the permission sets it
grants, submit, and the form's POST consents and redirects back like the scripted path.
Scripts (requests sends Accept: */*) and the tests keep consenting at once.
"""

import html
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from . import demo
from .request import Call, Reply, Response

if TYPE_CHECKING:
    from .server import SandboxServer
    from .state import World

AUTH_TYPES = frozenset({"1", "2", "3", "4", "5", "6", "8"})
# Official Account permission sets (protocol §3.1) the form offers; 100 is undocumented.
PERMISSION_SETS: dict[int, str] = {
    1: "消息管理 Message management",
    2: "用户管理 User management",
    3: "账号服务 Account service",
    4: "网页服务 Web services",
    5: "微信小店 WeChat store",
    6: "微信多客服 Customer service",
    7: "群发与通知 Mass sending and notification",
    8: "微信卡券 Cards & offers",
    9: "微信扫一扫 Scan",
    10: "微信连WIFI",
    11: "素材管理 Material management",
    12: "微信摇周边 Shake nearby",
    13: "微信门店 Stores",
    15: "菜单管理 Custom menu",
    100: "(set 100: undocumented, grants the user-tag APIs)",
}


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


def _refusal(world: "World", q: dict[str, str], *, keep_code: bool) -> Response | None:
    """The link's checks, in WeChat's order; the pre_auth_code is used up unless keep_code."""
    if q.get("component_appid") != world.component_appid:
        return error_page("component_appid 无效 (invalid component_appid)")
    if urlsplit(q.get("redirect_uri", "")).scheme not in ("http", "https"):
        return error_page("redirect_uri 无效 (invalid redirect_uri)")
    if q.get("auth_type", "3") not in AUTH_TYPES:
        return error_page("auth_type 无效 (invalid auth_type)")
    if (q.get("biz_appid") or world.consent_appid) not in world.authorizers:
        return error_page("该帐号不存在 (unknown biz_appid)")
    refused = world.take_pre_auth_code(q.get("pre_auth_code", ""), keep=keep_code)
    if refused:
        return error_page(f"预授权码无效或已过期 (pre_auth_code {refused})")
    return None


def _consent_and_redirect(
    sandbox: "SandboxServer", q: dict[str, str], appid: str, func_info: list[int] | None
) -> Response:
    consent = sandbox.state.consent(appid, pre_auth_code=q["pre_auth_code"], func_info=func_info)
    sandbox.pusher.in_background(consent.info_type, consent=consent)
    location = with_query(
        q["redirect_uri"], {"auth_code": consent.auth_code, "expires_in": consent.expires_in}
    )
    return Response(302, b"", headers={"Location": location})


def _wants_form(sandbox: "SandboxServer", call: Call) -> bool:
    if call.method != "GET" or not sandbox.state.settings.interactive_login:
        return False
    for part in call.headers.get("accept", "").split(","):
        media, _, params = part.strip().partition(";")
        if media.strip().lower() == "text/html":
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def login_page(sandbox: "SandboxServer", call: Call) -> Reply:
    world, q = sandbox.state, call.query
    if call.method == "POST":
        form = parse_qs(call.body.decode("utf-8", errors="replace"))
        if "authorizer_appid" in form:
            return _submit(sandbox, q, form)
    if _wants_form(sandbox, call):
        return _refusal(world, q, keep_code=True) or _form(sandbox, call)
    refused = _refusal(world, q, keep_code=False)
    if refused:
        return refused
    return _consent_and_redirect(sandbox, q, q.get("biz_appid") or world.consent_appid, None)


# -- the form a person sees ------------------------------------------------------------------
def _offered_appids(world: "World", q: dict[str, str]) -> list[str]:
    """biz_appid alone when the link names one, else the demo accounts and the selected one."""
    if q.get("biz_appid"):
        return [q["biz_appid"]]
    appids = [a for a in demo.DEMO_AUTHORIZERS if a in world.authorizers]
    if world.consent_appid not in appids:
        appids.insert(0, world.consent_appid)
    return appids


def _demo_grant(world: "World", appid: str) -> list[int]:
    found = demo.DEMO_AUTHORIZERS.get(appid)
    return list(found.func_info) if found else list(world.authorizers[appid].func_info)


def _form(sandbox: "SandboxServer", call: Call) -> Response:
    world, q = sandbox.state, call.query
    with world.lock:
        appids = _offered_appids(world, q)
        selected = q.get("biz_appid") or world.consent_appid
        accounts = [(a, world.authorizers[a].nick_name, _demo_grant(world, a)) for a in appids]
    sets = dict(PERMISSION_SETS)
    for _, _, grant in accounts:
        sets.update({i: f"权限集 {i}" for i in grant if i not in sets})
    checked = next(g for a, _, g in accounts if a == selected)
    esc = html.escape
    rows = "".join(
        f"<li><label><input type='radio' name='authorizer_appid' value='{esc(a)}'"
        f" data-grant='{','.join(map(str, g))}'{' checked' if a == selected else ''}>"
        f" {esc(name)} <code>{esc(a)}</code></label></li>"
        for a, name, g in accounts
    )
    boxes = "".join(
        f"<li><label><input type='checkbox' name='func_info' value='{i}'"
        f"{' checked' if i in checked else ''}> {i}. {esc(label)}</label></li>"
        for i, label in sorted(sets.items())
    )
    action = esc(f"{call.path}?{urlencode(q)}")
    body = f"""<!DOCTYPE html><html><head><meta charset='utf-8'><title>微信公众平台 · 授权</title>
<style>body{{font-family:sans-serif;max-width:40em;margin:2em auto}}ul{{list-style:none;padding:0}}
li{{margin:.3em 0}}button{{font-size:1.1em;padding:.4em 1.5em}}</style></head><body>
<h2>授权给第三方平台 <code>{esc(world.component_appid)}</code></h2>
<p>WeChat sandbox: choose the Official Account that authorizes and what it grants.</p>
<form method='post' action='{action}'>
<h3>公众号 Account</h3><ul id='accounts'>{rows}</ul>
<h3>权限集 Permission sets</h3><ul id='sets'>{boxes}</ul>
<button type='submit'>授权 Authorize</button>
</form>
<script>
for (const radio of document.querySelectorAll("input[name=authorizer_appid]")) {{
  radio.addEventListener("change", () => {{
    const grant = radio.dataset.grant.split(",");
    for (const box of document.querySelectorAll("input[name=func_info]")) {{
      box.checked = grant.includes(box.value);
    }}
  }});
}}
</script></body></html>"""
    return Response(200, body.encode("utf-8"))


def _submit(sandbox: "SandboxServer", q: dict[str, str], form: dict[str, list[str]]) -> Response:
    world = sandbox.state
    appid = form["authorizer_appid"][0]
    allowed = q.get("biz_appid")
    if appid not in world.authorizers or (allowed and appid != allowed):
        return error_page("该帐号不存在 (unknown authorizer_appid)")
    values = form.get("func_info", [])
    if not all(v.isdigit() for v in values):
        return error_page("权限集无效 (invalid func_info)")
    func_info = sorted({int(v) for v in values})
    if not func_info:
        return error_page("请至少选择一个权限集 (choose at least one permission set)")
    refused = _refusal(world, q, keep_code=False)
    if refused:
        return refused
    return _consent_and_redirect(sandbox, q, appid, func_info)
