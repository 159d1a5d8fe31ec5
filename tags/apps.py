from django.apps import AppConfig


class TagsConfig(AppConfig):
    name = "tags"
    verbose_name = "User tags"

    def ready(self) -> None:
        from authorizers.api import selectors
        from authorizers.capabilities import capability_register
        from platform_app.api import authentication

        from .capabilities import USER_TAGS

        capability_register(USER_TAGS)
        # The merchant API caches API keys and authorizer rows; every process that can change
        # them (web, worker, beat, commands) drops the cached copies on save and delete.
        authentication.connect_invalidation()
        selectors.connect_invalidation()
