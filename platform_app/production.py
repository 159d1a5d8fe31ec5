"""Guards the production entry points (gunicorn, Celery) against development secrets."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def refuse_insecure_defaults() -> None:
    """Serving with DEBUG off means production: a development key there would let anyone
    forge sessions and invites, and a derived field key ties every stored token to it."""
    if settings.INSECURE_DEFAULTS_IN_PRODUCTION:
        raise ImproperlyConfigured(
            "Refusing to start: DJANGO_DEBUG is off but DJANGO_SECRET_KEY or "
            "FIELD_ENCRYPTION_KEYS is a development default. Set both (see .env.example)."
        )
