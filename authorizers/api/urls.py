from django.urls import path

from .views import AuthorizerDetailView, AuthorizerListView

urlpatterns = [
    path("authorizers/", AuthorizerListView.as_view(), name="api-authorizer-list"),
    path("authorizers/<str:appid>/", AuthorizerDetailView.as_view(), name="api-authorizer-detail"),
]
