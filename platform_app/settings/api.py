from .cache import CACHE_SHARED
from .env import VAR_DIR, env

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    # Every error, DRF's own included, in SPEC 4.3's JSON shape.
    "EXCEPTION_HANDLER": "merchant_api.exceptions.api_exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "WeChat tag service: merchant API",
    "DESCRIPTION": "Look up WeChat user tags on behalf of your authorized Official Accounts.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from drf-spectacular-sidecar, served by merchant_api.docs: no CDN.
    "SWAGGER_UI_DIST": "/api/docs/assets",
    "SWAGGER_UI_FAVICON_HREF": "/api/docs/assets/favicon-32x32.png",
}

# Per-API-key token bucket defaults (overridable per key in the admin).
API_RATE_LIMIT_BURST = env.int("API_RATE_LIMIT_BURST", default=1000)
API_RATE_LIMIT_PER_MINUTE = env.int("API_RATE_LIMIT_PER_MINUTE", default=600)
# Bulk lookups: how many getidlist calls run at once for one request.
TAGS_BULK_CONCURRENCY = env.int("TAGS_BULK_CONCURRENCY", default=32)
TAGS_NAMES_CACHE_SECONDS = env.int("TAGS_NAMES_CACHE_SECONDS", default=300)
# An account's WeChat quota readings (quota/get) are cached this long; a 45009 drops them.
QUOTA_CACHE_SECONDS = env.int("QUOTA_CACHE_SECONDS", default=60)
# Retry-After sent with 503 upstream_unavailable (WeChat busy or unreachable).
API_UPSTREAM_RETRY_AFTER_SECONDS = env.int("API_UPSTREAM_RETRY_AFTER_SECONDS", default=5)
# How long an API key lookup and an authorizer row stay cached (invalidated on change).
# Invalidation must reach every process, so without a shared cache (Redis, or the embedded
# default's files) nothing is cached: a key revoked in one gunicorn worker would otherwise
# live on in another.
API_KEY_CACHE_SECONDS = env.int("API_KEY_CACHE_SECONDS", default=300 if CACHE_SHARED else 0)
API_AUTHORIZER_CACHE_SECONDS = env.int(
    "API_AUTHORIZER_CACHE_SECONDS", default=300 if CACHE_SHARED else 0
)
# Unknown API keys: how long one is remembered as unknown (at most API_KEY_CACHE_SECONDS),
# and how many failed authentications a client IP gets a minute before it is answered 429
# without a database query.
API_KEY_UNKNOWN_CACHE_SECONDS = env.int("API_KEY_UNKNOWN_CACHE_SECONDS", default=60)
API_AUTH_FAILURES_PER_MINUTE = env.int("API_AUTH_FAILURES_PER_MINUTE", default=30)
# Proxies in front of the web processes that append to X-Forwarded-For (a load balancer: 1);
# 0 uses REMOTE_ADDR. The client IP only keys the failed-authentication budget.
API_TRUSTED_PROXY_COUNT = env.int("API_TRUSTED_PROXY_COUNT", default=0)
# Merchant API call log: buffered per process and written in batches (0: in the request).
API_CALL_LOG_FLUSH_SECONDS = env.float("API_CALL_LOG_FLUSH_SECONDS", default=1.0)
API_CALL_LOG_BATCH = env.int("API_CALL_LOG_BATCH", default=200)

# Merchant webhooks (SPEC 11). Private targets: the demo and tests only (http and private or
# loopback addresses; link-local stays refused).
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False)
WEBHOOK_MAX_ENDPOINTS = env.int("WEBHOOK_MAX_ENDPOINTS", default=10)
# Attempts in flight to one endpoint at once: a slow one holds this many worker slots at most.
WEBHOOK_ENDPOINT_CONCURRENCY = env.int("WEBHOOK_ENDPOINT_CONCURRENCY", default=2)
# Where the demo's webhook inbox (DEBUG only) keeps what arrived.
WEBHOOK_DEMO_INBOX_FILE = env.str(
    "WEBHOOK_DEMO_INBOX_FILE", default=str(VAR_DIR / "webhook-inbox.jsonl")
)
