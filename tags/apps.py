from django.apps import AppConfig


class TagsConfig(AppConfig):
    name = "tags"
    verbose_name = "User tags"

    def ready(self) -> None:
        from authorizers.capabilities import capability_register

        from .capabilities import USER_TAGS

        capability_register(USER_TAGS)
