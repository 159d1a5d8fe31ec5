"""Guards every production process (web, Celery worker and beat, management commands).

DJANGO_DEBUG off means production (the image sets it; `make run` sets DJANGO_DEBUG=1 and
writes it to var/dev.env for the commands run beside it: platform_app/settings/env.py). There,
a known secret lets anyone forge sessions and invites or decrypt stored tokens; the sandbox's
demo WeChat credentials are public (anyone could forge WeChat's signed pushes); SQLite is the
demo's single-file database. Each is refused unless explicitly allowed, by name. A deployment
that says it is behind a proxy (it trusts X-Forwarded-Proto) must also say how many proxies
append to X-Forwarded-For: with API_TRUSTED_PROXY_COUNT at 0 every client has the proxy's
address, and one client's unknown API keys spend the failed-authentication budget of all.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_DEMO_CREDENTIAL_SETTINGS = (
    "WECHAT_COMPONENT_APPID",
    "WECHAT_COMPONENT_APPSECRET",
    "WECHAT_COMPONENT_TOKEN",
    "WECHAT_COMPONENT_ENCODING_AES_KEY",
)


def production_problems() -> list[str]:
    """What a production process must not start with; empty outside production."""
    if settings.DEBUG:
        return []
    problems = []
    if settings.INSECURE_DEFAULTS_IN_PRODUCTION:
        problems.append(
            "DJANGO_SECRET_KEY or FIELD_ENCRYPTION_KEYS is a development default; set both"
        )
    if not settings.ALLOW_DEMO_WECHAT_CREDENTIALS:
        demo = [
            name
            for name in _DEMO_CREDENTIAL_SETTINGS
            if getattr(settings, name) == settings.SANDBOX_DEMO_WECHAT_CREDENTIALS[name]
        ]
        if demo:
            problems.append(
                f"{', '.join(demo)} still the sandbox's public demo value(s); set the "
                "platform's own (or ALLOW_DEMO_WECHAT_CREDENTIALS=1 against a sandbox)"
            )
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine.endswith("sqlite3") and not settings.ALLOW_SQLITE_IN_PRODUCTION:
        problems.append(
            "DATABASE_URL is SQLite (the demo's default); set a PostgreSQL DATABASE_URL "
            "(or ALLOW_SQLITE_IN_PRODUCTION=1)"
        )
    if settings.TRUST_X_FORWARDED_PROTO and settings.API_TRUSTED_PROXY_COUNT <= 0:
        problems.append(
            "DJANGO_TRUST_X_FORWARDED_PROTO=1 says a proxy is in front but "
            "API_TRUSTED_PROXY_COUNT is 0, so every client would share the proxy's address "
            "in the failed-authentication budget; set it to the number of proxies that append "
            "to X-Forwarded-For (1 behind one load balancer)"
        )
    return problems


class ProductionRefused(ImproperlyConfigured):
    """The guard's refusal: one line that names the settings (manage.py prints just that)."""


def refuse_insecure_defaults() -> None:
    problems = production_problems()
    if problems:
        raise ProductionRefused(
            "Refusing to start: DJANGO_DEBUG is off (production) but "
            + "; ".join(problems)
            + ". See .env.example; for development set DJANGO_DEBUG=1 (`make run` writes "
            "var/dev.env, which manage.py reads when DJANGO_DEBUG is not set)."
        )
