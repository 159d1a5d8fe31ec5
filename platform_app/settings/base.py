import contextlib
import warnings
from pathlib import Path

from .env import BASE_DIR, VAR_DIR, env

DEVELOPMENT_SECRET_KEY = "dev-insecure-0f6b1c2a-change-me-in-production"

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
if SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    warnings.warn(
        "DJANGO_SECRET_KEY is not set: using the development key", RuntimeWarning, stacklevel=1
    )
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

# A read-only image has no writable var/ and needs none.
with contextlib.suppress(OSError):
    VAR_DIR.mkdir(exist_ok=True)

INSTALLED_APPS = [
    "platform_app.admin_config.OperatorsAdminConfig",  # django.contrib.admin, the operators' site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    # The project first: its ready() runs the production guard before any app's ready().
    "platform_app",
    # Then the apps bottom up, as docs/ARCHITECTURE.md draws them.
    "core",
    "component",
    "authorizers",
    "merchant_api",
    "tags",
    "webhooks",
    "token_center",
    "sandbox",
]

MIDDLEWARE = [
    "platform_app.ops.middleware.RequestMetricsMiddleware",
    "platform_app.ops.middleware.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # /api/ is answered here; what follows serves the admin and the onboarding pages.
    "platform_app.ops.middleware.ApiBypassMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "platform_app.urls"
WSGI_APPLICATION = "platform_app.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "platform_app" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# "2026-12-07 13:36:27" everywhere (the locale's own format has no seconds).
FORMAT_MODULE_PATH = ["platform_app.formats"]

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # WhiteNoise serves the admin's assets from gunicorn, compressed.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# The image collects static files at build time; elsewhere an empty dir keeps WhiteNoise quiet.
with contextlib.suppress(OSError):
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
