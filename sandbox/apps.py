from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """The WeChat stand-in's Django side: only its `wechat_sandbox` command. The server itself
    (every other module of the package) imports no Django."""

    name = "sandbox"
    label = "sandbox"
    verbose_name = "WeChat sandbox"
