from .env import env

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "WeChat tag service: merchant API",
    "DESCRIPTION": "Look up WeChat user tags on behalf of your authorized Official Accounts.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# Per-API-key token bucket defaults (overridable per key in the admin).
API_RATE_LIMIT_BURST = env.int("API_RATE_LIMIT_BURST", default=1000)
API_RATE_LIMIT_PER_MINUTE = env.int("API_RATE_LIMIT_PER_MINUTE", default=600)
# Bulk lookups: how many getidlist calls run at once for one request.
TAGS_BULK_CONCURRENCY = env.int("TAGS_BULK_CONCURRENCY", default=16)
TAGS_NAMES_CACHE_SECONDS = env.int("TAGS_NAMES_CACHE_SECONDS", default=300)
