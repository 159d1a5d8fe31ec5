from django.contrib import admin
from django.urls import include, path

from platform_app.ops import views as ops
from platform_app.ops.middleware import API_PREFIX, INTERNAL_PREFIX

urlpatterns = [
    path("admin/", admin.site.urls),
    path("wechat/component/", include("component.urls")),
    path("authorize/", include("authorizers.urls")),
    path(API_PREFIX.lstrip("/"), include("merchant_api.urls")),
    path(INTERNAL_PREFIX.lstrip("/"), include("token_center.api.urls")),
    path("healthz", ops.healthz, name="healthz"),
    path("readyz", ops.readyz, name="readyz"),
    path("metrics", ops.metrics, name="metrics"),
]
