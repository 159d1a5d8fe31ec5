from .database import DATABASES
from .env import VAR_DIR, env

REDIS_URL = env.str("REDIS_URL", default="")
_KEY_PREFIX = env.str("CACHE_KEY_PREFIX", default="wxtags")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": _KEY_PREFIX,
        }
    }
elif DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded default runs on one machine (its database is a file there), so files are
    # a cache every process of it shares, with no server: an invalidation in one gunicorn
    # worker reaches the others, and the API's key and authorizer caches can stay on (they
    # keep the request path off SQLite, whose one write lock the workers would queue on).
    # Writes are atomic (a temporary file renamed into place); readers never lock.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": env.str("CACHE_DIR", default=str(VAR_DIR / "cache")),
            "KEY_PREFIX": _KEY_PREFIX,
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }
else:
    # PostgreSQL without Redis may span machines: this cache is one process's own.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Whether an invalidation reaches every process that serves requests (settings/api.py).
CACHE_SHARED = not CACHES["default"]["BACKEND"].endswith("LocMemCache")
