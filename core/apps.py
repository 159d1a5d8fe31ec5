from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app builds on and none owns: encrypted fields, log masking, metrics, cache
    and lock helpers. Installed for its command (rotate_field_keys) and its receiver."""

    name = "core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate, pre_migrate

        from .cache_reset import cache_clear_for_new_database, cache_dir_check_before_migrate

        # The embedded default's file cache must not outlive a database built anew, and a
        # CACHE_DIR holding anything but the cache is refused before migrate changes anything.
        pre_migrate.connect(cache_dir_check_before_migrate, dispatch_uid="cache_dir_check")
        post_migrate.connect(cache_clear_for_new_database, dispatch_uid="cache_clear_for_new_db")
