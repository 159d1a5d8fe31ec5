import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_app.settings")

app = Celery("platform_app")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Connects the worker's metrics endpoint (signals; serves only when configured).
import platform_app.worker_metrics  # noqa: E402, F401
