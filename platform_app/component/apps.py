from django.apps import AppConfig


class ComponentConfig(AppConfig):
    name = "platform_app.component"
    label = "component"
    verbose_name = "Third-party platform (component)"
