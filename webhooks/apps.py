from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Merchant webhooks"

    def ready(self) -> None:
        from . import receivers

        receivers.connect()
