"""/internal/: the token center (v1) for the provider's own services."""

from django.urls import path, re_path

from merchant_api.views import api_not_found

from .views import (
    AuthorizerTokenInvalidView,
    AuthorizerTokenView,
    ComponentTokenInvalidView,
    ComponentTokenView,
)

v1 = [
    path(
        "v1/authorizers/<str:appid>/access-token",
        AuthorizerTokenView.as_view(),
        name="internal-authorizer-token",
    ),
    path(
        "v1/authorizers/<str:appid>/access-token/invalid",
        AuthorizerTokenInvalidView.as_view(),
        name="internal-authorizer-token-invalid",
    ),
    path(
        "v1/component/access-token",
        ComponentTokenView.as_view(),
        name="internal-component-token",
    ),
    path(
        "v1/component/access-token/invalid",
        ComponentTokenInvalidView.as_view(),
        name="internal-component-token-invalid",
    ),
]

urlpatterns = [
    *v1,
    # Last: anything else under /internal/ is a JSON 404 (ApiBypassMiddleware resolves it).
    re_path(r"^[\s\S]*$", api_not_found),
]
