from django.urls import path

from .views import UserTagsBulkView, UserTagsView

# No trailing slash, as in SPEC 4.3. The openid is matched loosely here and validated in the
# view, so a malformed one is a 400 invalid_request, not a 404.
urlpatterns = [
    path(
        "authorizers/<str:appid>/users/tags",
        UserTagsBulkView.as_view(),
        name="api-user-tags-bulk",
    ),
    path(
        "authorizers/<str:appid>/users/<str:openid>/tags",
        UserTagsView.as_view(),
        name="api-user-tags",
    ),
]
