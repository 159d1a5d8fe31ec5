from django.apps import AppConfig


class AuthorizersConfig(AppConfig):
    name = "authorizers"
    verbose_name = "Merchants and authorizer accounts"

    def ready(self) -> None:
        from platform_app.component import signals

        from .services import events

        signals.authorized.connect(events.on_authorized, dispatch_uid="authorizers.authorized")
        signals.updateauthorized.connect(
            events.on_authorized, dispatch_uid="authorizers.updateauthorized"
        )
        signals.unauthorized.connect(
            events.on_unauthorized, dispatch_uid="authorizers.unauthorized"
        )
