from django.urls import path

from merchant_api.plain_get import plain_get_view

from .views import UserTagsBulkView, UserTagsView, user_tags_body

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
        plain_get_view(UserTagsView, user_tags_body),
        name="api-user-tags",
    ),
]
