"""/api/: the merchant API (v1), its OpenAPI document and interactive docs."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from .accounts import AuthorizerDetailView, AuthorizerListView, AuthorizerQuotaView
from .docs import docs_asset
from .views import api_not_found

v1 = [
    path("authorizers/", AuthorizerListView.as_view(), name="api-authorizer-list"),
    path("authorizers/<str:appid>/", AuthorizerDetailView.as_view(), name="api-authorizer-detail"),
    path(
        "authorizers/<str:appid>/quota",
        AuthorizerQuotaView.as_view(),
        name="api-authorizer-quota",
    ),
    path("", include("tags.api.urls")),
    path("", include("webhooks.api.urls")),
]

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("docs/assets/<str:name>", docs_asset, name="api-docs-asset"),
    # Last: anything else under /api/ is a JSON 404, not Django's HTML page.
    re_path(r"^[\s\S]*$", api_not_found),  # [\s\S]: a path with a newline too
]
