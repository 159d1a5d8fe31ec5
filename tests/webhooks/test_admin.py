"""Operators' side of SPEC 11: endpoints and deliveries in the admin, the secret shown once,
replay and disable actions, and the dashboard's line for endpoints failing now."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.api.support import make_tenant

pytestmark = pytest.mark.django_db


def test_an_operator_registers_an_endpoint_and_sees_the_secret_once(
    admin_client, receiver, private_targets
):
    from webhooks.models import WebhookEndpoint

    tenant = make_tenant("M")
    response = admin_client.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {"merchant": tenant.merchant.pk, "url": receiver.url("/ops"), "events": []},
        follow=True,
    )
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret in response.content.decode()  # the message, this once
    page = admin_client.get(reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]))
    assert page.status_code == 200 and endpoint.secret not in page.content.decode()
    listing = admin_client.get(reverse("admin:webhooks_webhookendpoint_changelist"))
    assert endpoint.secret not in listing.content.decode()

    refused = admin_client.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {"merchant": tenant.merchant.pk, "url": "http://169.254.169.254/"},
    )
    assert refused.status_code == 200 and WebhookEndpoint.objects.count() == 1


def test_failing_deliveries_replay_and_disable(admin_client, receiver, private_targets):
    from webhooks.models import WebhookDelivery, WebhookEndpoint
    from webhooks.services.delivery import webhook_delivery_attempt
    from webhooks.services.endpoints import webhook_endpoint_create, webhook_test_send

    tenant = make_tenant("M")
    endpoint = webhook_endpoint_create(merchant_id=tenant.merchant.pk, url=receiver.url("/f"))
    receiver.default = 500
    delivery = webhook_test_send(endpoint=endpoint)
    assert webhook_delivery_attempt(delivery_id=delivery.pk).result == "retry"

    dashboard = admin_client.get(reverse("admin:dashboard")).content.decode()
    assert "1 endpoint(s) failing now" in dashboard
    listing = admin_client.get(reverse("admin:webhooks_webhookdelivery_changelist"))
    assert delivery.msg_id in listing.content.decode()

    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", next_attempt_at=None)
    receiver.default = 200
    admin_client.post(
        reverse("admin:webhooks_webhookdelivery_changelist"),
        {"action": "replay", "_selected_action": [delivery.pk]},
    )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert webhook_delivery_attempt(delivery_id=delivery.pk).result == "succeeded"
    assert (
        "0 endpoint(s) failing now" in admin_client.get(reverse("admin:dashboard")).content.decode()
    )

    admin_client.post(
        reverse("admin:webhooks_webhookendpoint_changelist"),
        {"action": "disable", "_selected_action": [endpoint.pk]},
    )
    assert not WebhookEndpoint.objects.get(pk=endpoint.pk).enabled
