from django.apps import AppConfig


class MerchantApiConfig(AppConfig):
    """The merchant-API layer (Bearer keys, rate limits, error mapping, call log, accounts
    endpoints): between the accounts app below and the API apps (tags, ...) above."""

    name = "merchant_api"
    label = "merchant_api"
    verbose_name = "Merchant API"

    def ready(self) -> None:
        from . import authentication

        # API keys are cached; every process that can change a key or its merchant (web,
        # worker, beat, commands) drops the cached copy on save and delete.
        authentication.connect_invalidation()
