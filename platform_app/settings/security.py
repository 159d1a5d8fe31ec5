import base64
import hashlib
import warnings

from .base import DEBUG, DEVELOPMENT_SECRET_KEY, SECRET_KEY
from .env import env


def _derived_field_key(secret: str) -> str:
    digest = hashlib.sha256(("field-encryption:" + secret).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


# Fernet keys: the first encrypts, all decrypt (rotation).
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
FIELD_ENCRYPTION_KEYS_DERIVED = not FIELD_ENCRYPTION_KEYS
if FIELD_ENCRYPTION_KEYS_DERIVED:
    warnings.warn(
        "FIELD_ENCRYPTION_KEYS is not set: deriving one from the secret key",
        RuntimeWarning,
        stacklevel=1,
    )
    FIELD_ENCRYPTION_KEYS = [_derived_field_key(SECRET_KEY)]

# Production refuses to start on development secrets (platform_app/production.py).
INSECURE_DEFAULTS_IN_PRODUCTION = not DEBUG and (
    SECRET_KEY == DEVELOPMENT_SECRET_KEY or FIELD_ENCRYPTION_KEYS_DERIVED
)

# When set, GET /metrics needs "Authorization: Bearer <this>" (it is answered before the host
# check, so otherwise anyone reaching a pod's port reads it). Empty: open (the demo, tests).
METRICS_BEARER_TOKEN = env.str("METRICS_BEARER_TOKEN", default="")

# SQLite is the demo's database: with DJANGO_DEBUG off it is refused unless this is set.
ALLOW_SQLITE_IN_PRODUCTION = env.bool("ALLOW_SQLITE_IN_PRODUCTION", default=False)

# The merchant invite link lifetime.
INVITE_MAX_AGE_SECONDS = env.int("INVITE_MAX_AGE_SECONDS", default=7 * 24 * 3600)
# How merchants reach the provider's operators (an email address, a phone number, a URL):
# shown on the merchant pages that need a person, e.g. an account already connected elsewhere.
SUPPORT_CONTACT = env.str("SUPPORT_CONTACT", default="")

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
# Off by default: they commit every subdomain (and, for preload, browsers) to HTTPS for good.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
# Only behind a proxy that sets (and overwrites) X-Forwarded-Proto: elsewhere any client could
# send the header and be treated as HTTPS (secure-only redirects and cookies skipped).
TRUST_X_FORWARDED_PROTO = env.bool("DJANGO_TRUST_X_FORWARDED_PROTO", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUST_X_FORWARDED_PROTO else None
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# WeChat pushes are small; anything bigger is not WeChat.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)
