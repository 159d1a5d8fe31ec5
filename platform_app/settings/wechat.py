import os

from .env import env

# Sandbox demo values: the sandbox (sandbox/) knows the same ones. They are
# public, so a production process refuses them (platform_app/production.py).
SANDBOX_DEMO_WECHAT_CREDENTIALS = {
    "WECHAT_COMPONENT_APPID": "wx0demo0component01",
    "WECHAT_COMPONENT_APPSECRET": "demo-component-secret-0123456789ab",
    "WECHAT_COMPONENT_TOKEN": "demotoken",
    "WECHAT_COMPONENT_ENCODING_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
}
_demo = SANDBOX_DEMO_WECHAT_CREDENTIALS
WECHAT_COMPONENT_APPID = env.str("WECHAT_COMPONENT_APPID", default=_demo["WECHAT_COMPONENT_APPID"])
WECHAT_COMPONENT_APPSECRET = env.str(
    "WECHAT_COMPONENT_APPSECRET", default=_demo["WECHAT_COMPONENT_APPSECRET"]
)
WECHAT_COMPONENT_TOKEN = env.str("WECHAT_COMPONENT_TOKEN", default=_demo["WECHAT_COMPONENT_TOKEN"])
WECHAT_COMPONENT_ENCODING_AES_KEY = env.str(
    "WECHAT_COMPONENT_ENCODING_AES_KEY", default=_demo["WECHAT_COMPONENT_ENCODING_AES_KEY"]
)
# With DJANGO_DEBUG off, only against a sandbox (the test suite: DEBUG off, sandbox WeChat).
ALLOW_DEMO_WECHAT_CREDENTIALS = env.bool("ALLOW_DEMO_WECHAT_CREDENTIALS", default=False)
WECHAT_API_BASE = env.str("WECHAT_API_BASE", default="https://api.weixin.qq.com").rstrip("/")
WECHAT_MP_BASE = env.str("WECHAT_MP_BASE", default="https://mp.weixin.qq.com").rstrip("/")

WECHAT_CONNECT_TIMEOUT = env.float("WECHAT_CONNECT_TIMEOUT", default=3.0)
WECHAT_READ_TIMEOUT = env.float("WECHAT_READ_TIMEOUT", default=5.0)
# Attempts for -1, timeouts and connection errors (never for 4xxxx answers).
WECHAT_MAX_ATTEMPTS = env.int("WECHAT_MAX_ATTEMPTS", default=3)
WECHAT_BACKOFF_BASE = env.float("WECHAT_BACKOFF_BASE", default=0.2)
WECHAT_BACKOFF_MAX = env.float("WECHAT_BACKOFF_MAX", default=2.0)
WECHAT_POOL_SIZE = env.int("WECHAT_POOL_SIZE", default=64)
# Outbound proxy for WeChat calls (many providers must egress through a whitelisted IP).
WECHAT_PROXY = env.str("WECHAT_PROXY", default="") or os.environ.get("HTTPS_PROXY", "")
