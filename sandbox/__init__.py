"""A faithful local stand-in for WeChat's third-party-platform APIs (SPEC section 8).

Run it:  python manage.py wechat_sandbox --port 8100 --callback URL [--latency-ms N ...]
In tests: the `wechat_sandbox` / `start_wechat_sandbox` fixtures (tests/plugins/sandbox.py), or
`start_sandbox(port=0, callback_url=..., token_ttl=..., latency_ms=...)` -> SandboxServer.

Serves, like api.weixin.qq.com and mp.weixin.qq.com on one origin:
  /cgi-bin/component/api_component_token, api_start_push_ticket, api_create_preauthcode,
  api_query_auth, api_authorizer_token, api_get_authorizer_info, api_get_authorizer_list,
  clear_quota/v2 (10 a month per account, China time);
  /cgi-bin/tags/getidlist, /cgi-bin/tags/get, /cgi-bin/user/info/batchget (authorizer token,
  metered by settings.daily_quota: 45009 past the day's limit, reset at midnight UTC+8);
  /cgi-bin/openapi/quota/get, /cgi-bin/openapi/rid/get (every error answer's rid is kept 7 days
  for the account, or component, whose call it was);
  /cgi-bin/componentloginpage (consents at once; a form for a browser with interactive_login).
The component's identity (appid, secret, token, EncodingAESKey) is World's ComponentIdentity
(`start_sandbox(component=...)`; the command's --component-* flags or WECHAT_COMPONENT_*).
Control (JSON) under /sandbox/: GET state, authorizers[/<appid>]; POST faults, settings
(daily_quota merges, interactive_login), reset, consent, push, authorizers (unsubscribed:
[openids] marks users who unfollowed), expire, clock.

Nothing in the product imports this package; only the `wechat_sandbox` management command and
the tests do. It must not import Django. This file imports nothing: its modules import each
other directly (`from .server import start_sandbox`), never through the package.
"""
