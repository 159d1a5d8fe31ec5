from .env import env

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_JSON = env.bool("LOG_JSON", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "mask_secrets": {"()": "core.logs.MaskSecretsFilter"},
        "request_id": {"()": "core.logs.RequestIdFilter"},
        "downgrade_to_warning": {"()": "core.logs.DowngradeToWarningFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "core.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_JSON else "plain",
            "filters": ["mask_secrets", "request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Django's defaults give these their own handlers (no masking filter), and
        # django.server's lines (runserver) hold request paths with invites and openids: drop
        # those handlers, everything goes through the console handler above.
        "django": {"handlers": [], "propagate": True},
        "django.server": {"handlers": [], "propagate": True},
        # Any client can send an unknown Host (scanners do, all day): not our error.
        "django.security.DisallowedHost": {"filters": ["downgrade_to_warning"]},
    },
}
