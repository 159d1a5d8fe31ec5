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
        from django.db.models.signals import post_migrate, pre_migrate

        from platform_app import celery  # noqa: F401
        from platform_app.cache_reset import (
            cache_clear_for_new_database,
            cache_dir_check_before_migrate,
        )

        # The embedded default's file cache must not outlive a database built anew.
        pre_migrate.connect(cache_dir_check_before_migrate, dispatch_uid="cache_dir_check")
        post_migrate.connect(cache_clear_for_new_database, dispatch_uid="cache_clear_for_new_db")
