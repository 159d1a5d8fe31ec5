"""Fanning events out to endpoints, and one delivery attempt (SPEC 11).

A delivery is sent by whichever task holds its lease; the lease is also how many attempts
are in flight to one endpoint (at most WEBHOOK_ENDPOINT_CONCURRENCY), so a slow or dead
endpoint ties up that many worker slots and no more: other endpoints' deliveries go on.
Retries are rows with a `next_attempt_at`, not tasks sleeping in the broker: a dead endpoint
costs a row per event, and beat queues what is due (and what a killed worker dropped).
"""

from __future__ import annotations

import email.utils
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from authorizers.models import AccountEvent
from core.metrics import WEBHOOK_DELIVERIES

from ..models import WebhookDelivery, WebhookEndpoint
from ..targets import TargetRefused, target_resolve
from ..transport import TIMEOUT_SECONDS, Answer, webhook_post
from .endpoints import msg_id_new, rfc3339, webhook_body, webhook_endpoint_disable

logger = logging.getLogger(__name__)

# Seconds after the first try, then after each retry: about 5 s, 5 min, 30 min, 2 h, 5 h,
# 10 h, 14 h, 20 h, 24 h (SPEC 11). Ten attempts in all.
RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1
# Longer than one attempt can take (resolution plus the 10 s timeout): a lease that passes
# belongs to an attempt whose worker died.
LEASE_SECONDS = TIMEOUT_SECONDS + 20
RETRY_AFTER_MAX = 86400
# A task queued this long ago for a delivery still pending was lost (or waits behind a
# backlog, where a second one is harmless): beat queues another.
REQUEUE_AFTER = timedelta(seconds=60)


def endpoint_concurrency() -> int:
    return int(getattr(settings, "WEBHOOK_ENDPOINT_CONCURRENCY", 2))


# --- fan-out ---------------------------------------------------------------------------------
def events_fan_out(*, event_ids: list[int] | None = None, limit: int = 500) -> list[int]:
    """Turn undispatched outbox rows into deliveries, once each; the new deliveries' ids.

    Rows another fan-out holds are skipped (it dispatches them); the event goes to the
    enabled endpoints of the merchant it is addressed to that want its type, no one else's.
    """
    now = timezone.now()
    created: list[int] = []
    with transaction.atomic():
        rows = AccountEvent.objects.select_for_update(skip_locked=True).filter(
            dispatched_at__isnull=True
        )
        if event_ids is not None:
            rows = rows.filter(pk__in=event_ids)
        events = list(rows.order_by("pk")[:limit])
        by_merchant: dict[int, list[WebhookEndpoint]] = {}
        for event in events:
            if event.merchant_id not in by_merchant:
                by_merchant[event.merchant_id] = list(
                    WebhookEndpoint.objects.filter(merchant_id=event.merchant_id, enabled=True)
                )
            body = webhook_body(
                event_type=event.type, timestamp=rfc3339(event.created_at), data=event.data
            )
            deliveries = [
                WebhookDelivery(
                    endpoint=endpoint,
                    event=event,
                    msg_id=msg_id_new(),
                    event_type=event.type,
                    body=body,
                    next_attempt_at=now,
                    enqueued_at=now,
                )
                for endpoint in by_merchant[event.merchant_id]
                if endpoint.wants(event.type)
            ]
            created += [d.pk for d in WebhookDelivery.objects.bulk_create(deliveries)]
        if events:
            AccountEvent.objects.filter(pk__in=[e.pk for e in events]).update(dispatched_at=now)
    if None in created:  # a backend that does not return ids from bulk_create
        created = list(
            WebhookDelivery.objects.filter(event_id__in=[e.pk for e in events]).values_list(
                "pk", flat=True
            )
        )
    return created


# --- one attempt -----------------------------------------------------------------------------
@dataclass
class Outcome:
    result: str  # succeeded, retry, failed, gone, busy, done, early, throttled
    retry_in: float | None = None
    # Deliveries to the same endpoint waiting for a free slot, to queue now.
    next_ids: list[int] = field(default_factory=list)


def signature(endpoint: WebhookEndpoint, *, msg_id: str, at: datetime, body: bytes) -> str:
    """`v1,<sig>`, and during a rotation the old secret's too, space-separated."""
    secrets = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires and expires > timezone.now():
        secrets.append(endpoint.previous_secret)
    return " ".join(Webhook(s).sign(msg_id=msg_id, timestamp=at, data=body) for s in secrets)


def retry_delay(attempts: int, retry_after: str | None) -> float:
    """After `attempts` tries: the schedule's step with ±20% jitter, or Retry-After if later."""
    base = RETRY_SCHEDULE[min(attempts, len(RETRY_SCHEDULE)) - 1]
    delay = base * random.uniform(0.8, 1.2)
    asked = retry_after_seconds(retry_after)
    if asked is not None:
        delay = max(delay, min(asked, RETRY_AFTER_MAX))
    return delay


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - timezone.now()).total_seconds())


def _claim(delivery_id: int) -> tuple[WebhookDelivery | None, Outcome | None]:
    now = timezone.now()
    endpoint_id = (
        WebhookDelivery.objects.filter(pk=delivery_id).values_list("endpoint_id", flat=True).first()
    )
    if endpoint_id is None:
        return None, Outcome("done")
    with transaction.atomic():
        # The endpoint's row lock makes counting and taking a slot one step. Always the
        # endpoint first, then its deliveries (as _record does): the other order deadlocks.
        endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint_id).first()
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if endpoint is None or delivery is None:
            return None, Outcome("done")
        if delivery.status != WebhookDelivery.Status.PENDING:
            return None, Outcome("done")
        if delivery.lease_until and delivery.lease_until > now:
            return None, Outcome("busy")
        if delivery.next_attempt_at and delivery.next_attempt_at > now + timedelta(seconds=1):
            return None, Outcome("early")
        if not endpoint.enabled:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.next_attempt_at = None
            delivery.last_error = f"endpoint disabled ({endpoint.disabled_reason})"[:300]
            delivery.save(update_fields=["status", "next_attempt_at", "last_error"])
            return None, Outcome("failed")
        in_flight = WebhookDelivery.objects.filter(
            endpoint_id=endpoint.pk, status=WebhookDelivery.Status.PENDING, lease_until__gt=now
        ).count()
        if in_flight >= endpoint_concurrency():
            # No task is coming for it now: the attempt that frees a slot queues it (under
            # this same lock, so it sees this), or beat's sweep does.
            delivery.enqueued_at = None
            delivery.save(update_fields=["enqueued_at"])
            return None, Outcome("throttled")
        delivery.lease_until = now + timedelta(seconds=LEASE_SECONDS)
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.save(update_fields=["lease_until", "attempts", "last_attempt_at"])
    delivery.endpoint = endpoint
    return delivery, None


def webhook_delivery_attempt(*, delivery_id: int) -> Outcome:
    """Send one delivery once, if it is due and its endpoint has a free slot; record the answer."""
    delivery, outcome = _claim(delivery_id)
    if delivery is None:
        return outcome  # type: ignore[return-value]
    endpoint = delivery.endpoint
    body = delivery.body.encode()
    try:
        target = target_resolve(endpoint.url)
    except TargetRefused as exc:
        answer = Answer(None, error=f"refused: {exc}")
    else:
        at = timezone.now()
        headers = {
            "content-type": "application/json",
            "user-agent": "wechat-platform-webhooks/1",
            "webhook-id": delivery.msg_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signature(endpoint, msg_id=delivery.msg_id, at=at, body=body),
        }
        answer = webhook_post(target, body=body, headers=headers)
    return _record(delivery, answer)


def _record(delivery: WebhookDelivery, answer: Answer) -> Outcome:
    """The answer, and the endpoint's waiting deliveries taken for the slot it frees: one
    transaction under the endpoint's row lock, so two attempts ending together do not take
    the same waiting delivery (and leave a slot idle until beat)."""
    now = timezone.now()
    delivery.lease_until = None
    delivery.last_status_code = answer.status
    delivery.last_error = answer.error[:300]
    if answer.status is not None and 200 <= answer.status < 300:
        result, retry_in = "succeeded", None
        delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.SUCCEEDED, None
    elif answer.status == 410:
        result, retry_in = "gone", None
        delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
    elif delivery.attempts >= MAX_ATTEMPTS:
        result, retry_in = "failed", None
        delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
    else:
        result = "retry"
        retry_in = retry_delay(delivery.attempts, answer.retry_after)
        delivery.next_attempt_at = now + timedelta(seconds=retry_in)
    with transaction.atomic():
        WebhookEndpoint.objects.select_for_update().filter(pk=delivery.endpoint_id).first()
        delivery.save(
            update_fields=[
                "lease_until",
                "last_status_code",
                "last_error",
                "status",
                "next_attempt_at",
            ]
        )
        if result == "gone":
            webhook_endpoint_disable(endpoint_id=delivery.endpoint_id, reason="gone (410)")
            next_ids: list[int] = []
        else:
            next_ids = _waiting_take(delivery.endpoint_id)
    if result == "gone":
        logger.warning("webhook endpoint %s answered 410: disabled", delivery.endpoint_id)
    WEBHOOK_DELIVERIES.labels(event_type=delivery.event_type, outcome=result).inc()
    return Outcome(result, retry_in, next_ids=next_ids)


def _waiting_take(endpoint_id: int) -> list[int]:
    """The endpoint's oldest due deliveries no attempt holds and no task is queued for, as
    many as it has free slots, marked queued (the caller holds the endpoint's row lock)."""
    now = timezone.now()
    pending = WebhookDelivery.objects.filter(
        endpoint_id=endpoint_id, status=WebhookDelivery.Status.PENDING
    )
    free = endpoint_concurrency() - pending.filter(lease_until__gt=now).count()
    if free <= 0:
        return []
    ids = list(
        pending.filter(next_attempt_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=now - REQUEUE_AFTER))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:free]
    )
    WebhookDelivery.objects.filter(pk__in=ids).update(enqueued_at=now)
    return ids


# --- beat ------------------------------------------------------------------------------------


def webhook_deliveries_due(*, limit: int = 1000) -> list[int]:
    """Due deliveries no attempt holds and no task was queued for lately (a retry whose time
    came, or a task lost with its worker); marked queued now, so the next beat skips them."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
            .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=now - REQUEUE_AFTER))
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
        WebhookDelivery.objects.filter(pk__in=ids).update(enqueued_at=now)
    return ids


def webhook_delivery_enqueued(*, delivery_id: int) -> None:
    WebhookDelivery.objects.filter(pk=delivery_id).update(enqueued_at=timezone.now())
