from django.contrib import admin
from django.urls import include, path

from platform_app.ops import views as ops
from platform_app.ops.middleware import API_PREFIX, INTERNAL_PREFIX
from webhooks.demo_inbox import INBOX_PATH, demo_inbox

urlpatterns = [
    path("admin/", admin.site.urls),
    path("wechat/component/", include("component.urls")),
    path("authorize/", include("authorizers.urls")),
    path(API_PREFIX.lstrip("/"), include("merchant_api.urls")),
    path(INTERNAL_PREFIX.lstrip("/"), include("token_center.api.urls")),
    path("healthz", ops.healthz, name="healthz"),
    path("readyz", ops.readyz, name="readyz"),
    path("metrics", ops.metrics, name="metrics"),
    # The demo's webhook receiver (make run); answers 404 unless DJANGO_DEBUG.
    path(INBOX_PATH.lstrip("/"), demo_inbox, name="webhook-demo-inbox"),
]
