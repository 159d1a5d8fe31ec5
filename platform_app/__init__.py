"""The Django project and the bottom layers (docs/ARCHITECTURE.md). Imports nothing: the
Celery app is loaded by PlatformAppConfig.ready(), and `celery -A platform_app` finds
platform_app.celery on its own."""
