"""A merchant's webhook endpoints (SPEC 11): register, delete, rotate the secret, test, replay."""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from authorizers.models import AccountEvent, Merchant

from ..models import WebhookDelivery, WebhookEndpoint
from ..targets import TargetRefused, target_resolve

EVENT_TYPES = tuple(AccountEvent.Type.values)
TEST_EVENT = "webhook.test"
ROTATION_OVERLAP = timedelta(hours=24)


class WebhookInvalid(ValueError):
    """Bad input: nothing was changed."""


def endpoints_max() -> int:
    return int(getattr(settings, "WEBHOOK_MAX_ENDPOINTS", 10))


def secret_new() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def msg_id_new() -> str:
    return "msg_" + uuid.uuid4().hex


def events_check(events: object) -> list[str]:
    if events is None:
        return []
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise WebhookInvalid("events must be a list of event types")
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise WebhookInvalid(f"unknown event type: {', '.join(unknown)}")
    return sorted(set(events))


def webhook_endpoint_create(
    *, merchant_id: int, url: object, events: object = None
) -> WebhookEndpoint:
    """A new endpoint with a new secret (the caller shows it once). WebhookInvalid if refused."""
    wanted = events_check(events)
    try:
        target_resolve(url)  # type: ignore[arg-type]
    except TargetRefused as exc:
        raise WebhookInvalid(str(exc)) from exc
    with transaction.atomic():
        # The merchant's row lock counts endpoints one registration at a time.
        Merchant.objects.select_for_update().filter(pk=merchant_id).first()
        if WebhookEndpoint.objects.filter(merchant_id=merchant_id).count() >= endpoints_max():
            raise WebhookInvalid(f"at most {endpoints_max()} endpoints per merchant")
        return WebhookEndpoint.objects.create(
            merchant_id=merchant_id, url=url, events=wanted, secret=secret_new()
        )


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()  # its deliveries go with it


def webhook_endpoint_rotate(*, endpoint_id: int) -> WebhookEndpoint:
    """A new secret; the current one keeps signing beside it for 24 hours."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = timezone.now() + ROTATION_OVERLAP
        endpoint.secret = secret_new()
        endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    return endpoint


def webhook_endpoint_disable(*, endpoint_id: int, reason: str) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint_id, enabled=True).update(
        enabled=False, disabled_reason=reason[:100]
    )


def webhook_body(*, event_type: str, timestamp: str, data: dict) -> str:
    return json.dumps(
        {"type": event_type, "timestamp": timestamp, "data": data},
        separators=(",", ":"),
        ensure_ascii=False,
    )


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def webhook_test_send(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A `webhook.test` delivery (queued by the caller after the commit)."""
    if not endpoint.enabled:
        raise WebhookInvalid("the endpoint is disabled")
    now = timezone.now()
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        msg_id=msg_id_new(),
        event_type=TEST_EVENT,
        body=webhook_body(
            event_type=TEST_EVENT, timestamp=rfc3339(now), data={"endpoint_id": endpoint.pk}
        ),
        next_attempt_at=now,
        enqueued_at=now,
    )


def webhook_delivery_replay(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """A failed delivery is tried again from the start, with the same webhook-id."""
    with transaction.atomic():
        row = WebhookDelivery.objects.select_for_update().select_related("endpoint")
        row = row.get(pk=delivery.pk)
        if row.status != WebhookDelivery.Status.FAILED:
            raise WebhookInvalid("only a failed delivery can be replayed")
        if not row.endpoint.enabled:
            raise WebhookInvalid("the endpoint is disabled")
        now = timezone.now()
        row.status = WebhookDelivery.Status.PENDING
        row.attempts = 0
        row.next_attempt_at = now
        row.enqueued_at = now
        row.lease_until = None
        row.save(
            update_fields=["status", "attempts", "next_attempt_at", "enqueued_at", "lease_until"]
        )
    return row
