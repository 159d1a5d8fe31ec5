from django.apps import AppConfig


class TokenCenterConfig(AppConfig):
    """The token center (SPEC 12): lends the accounts' and the component's tokens to the
    provider's own services under /internal/v1/, so that this service stays the one refresher."""

    name = "token_center"
    label = "token_center"
    verbose_name = "Token center"

    def ready(self) -> None:
        from . import authentication

        # Service clients are cached like API keys; every process that can change one (web,
        # commands) drops the cached copy on save, delete and a change of its merchants.
        authentication.connect_invalidation()
