from django.apps import AppConfig


class AuthorizersConfig(AppConfig):
    name = "authorizers"
    verbose_name = "Merchants and authorizer accounts"

    def ready(self) -> None:
        from . import receivers

        receivers.connect()
