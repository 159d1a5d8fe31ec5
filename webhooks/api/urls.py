from django.urls import path

from .views import (
    WebhookDeliveriesView,
    WebhookDeliveryReplayView,
    WebhookEndpointDetailView,
    WebhookEndpointListView,
    WebhookRotateSecretView,
    WebhookTestView,
)

urlpatterns = [
    path("webhooks/", WebhookEndpointListView.as_view(), name="api-webhook-list"),
    path(
        "webhooks/<int:endpoint_id>/",
        WebhookEndpointDetailView.as_view(),
        name="api-webhook-detail",
    ),
    path(
        "webhooks/<int:endpoint_id>/rotate-secret",
        WebhookRotateSecretView.as_view(),
        name="api-webhook-rotate-secret",
    ),
    path("webhooks/<int:endpoint_id>/test", WebhookTestView.as_view(), name="api-webhook-test"),
    path(
        "webhooks/<int:endpoint_id>/deliveries",
        WebhookDeliveriesView.as_view(),
        name="api-webhook-deliveries",
    ),
    path(
        "webhooks/<int:endpoint_id>/deliveries/<str:msg_id>/replay",
        WebhookDeliveryReplayView.as_view(),
        name="api-webhook-delivery-replay",
    ),
]
