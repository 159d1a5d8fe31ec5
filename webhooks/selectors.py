"""Reads of a merchant's webhook endpoints and deliveries."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import WebhookDelivery, WebhookEndpoint

RECENT_DELIVERIES = 100


class WebhookNotFound(LookupError):
    pass


def webhook_endpoints_for_merchant(*, merchant_id: int) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(merchant_id=merchant_id).order_by("pk")


def webhook_endpoint_get_for_merchant(*, merchant_id: int, endpoint_id: int) -> WebhookEndpoint:
    """The merchant's own endpoint; WebhookNotFound for anyone else's (404, as if absent)."""
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, merchant_id=merchant_id).first()
    if endpoint is None:
        raise WebhookNotFound(endpoint_id)
    return endpoint


def webhook_deliveries_recent(*, endpoint_id: int) -> list[WebhookDelivery]:
    return list(
        WebhookDelivery.objects.filter(endpoint_id=endpoint_id).order_by("-created_at", "-pk")[
            :RECENT_DELIVERIES
        ]
    )


def webhook_delivery_get(*, endpoint_id: int, msg_id: str) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.filter(endpoint_id=endpoint_id, msg_id=msg_id).first()
    if delivery is None:
        raise WebhookNotFound(msg_id)
    return delivery


def webhook_endpoints_failing_count() -> int:
    """Enabled endpoints whose latest finished or retried attempt did not succeed: failing now."""
    return (
        WebhookDelivery.objects.filter(
            endpoint__enabled=True,
            status=WebhookDelivery.Status.PENDING,
            attempts__gt=0,
            lease_until__isnull=True,
        )
        .values("endpoint_id")
        .distinct()
        .count()
    )
