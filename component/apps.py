from django.apps import AppConfig


class ComponentConfig(AppConfig):
    name = "component"
    label = "component"
    verbose_name = "Third-party platform (component)"
