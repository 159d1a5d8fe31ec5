from django.apps import AppConfig


class PlatformAppConfig(AppConfig):
    name = "platform_app"
    label = "platform_app"
    verbose_name = "Platform"

    def ready(self) -> None:
        # Every process kind sets Django up (wsgi, manage.py, Celery's Django fixup), so the
        # production guard runs in each of them, before anything is served or consumed.
        from platform_app.production import refuse_insecure_defaults

        refuse_insecure_defaults()
        # Load the Celery app in every process, so tasks enqueued from web requests use it.
        from platform_app import celery  # noqa: F401
