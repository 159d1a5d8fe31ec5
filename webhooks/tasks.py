"""Webhook tasks: fan an event out, attempt one delivery, and beat's catch-up."""

from __future__ import annotations

import logging

from celery import shared_task

from .services.delivery import (
    events_fan_out,
    webhook_deliveries_due,
    webhook_delivery_attempt,
)

logger = logging.getLogger(__name__)

# A retry this soon is queued with a countdown; later ones wait for beat (no task sleeps in the
# broker for hours, and a dead endpoint's retries cost rows, not queued messages).
COUNTDOWN_MAX = 60


def deliveries_enqueue(delivery_ids: list[int], *, countdown: float | None = None) -> None:
    """Queue attempts. A broker that is down is logged, not raised: the rows are committed and
    beat queues them again."""
    for delivery_id in delivery_ids:
        try:
            webhook_deliver_task.apply_async((delivery_id,), countdown=countdown)
        except Exception:  # any broker failure: beat re-sends
            logger.warning("webhook delivery %s not queued; beat will", delivery_id)


@shared_task(name="webhooks.tasks.webhook_events_fan_out", ignore_result=True)
def webhook_events_fan_out_task(event_ids: list[int] | None = None) -> int:
    created = events_fan_out(event_ids=event_ids)
    deliveries_enqueue(created)
    return len(created)


@shared_task(name="webhooks.tasks.webhook_deliver", ignore_result=True)
def webhook_deliver_task(delivery_id: int) -> str:
    outcome = webhook_delivery_attempt(delivery_id=delivery_id)
    if outcome.result == "retry" and (outcome.retry_in or 0) <= COUNTDOWN_MAX:
        deliveries_enqueue([delivery_id], countdown=outcome.retry_in)
    deliveries_enqueue(outcome.next_ids)
    return outcome.result


@shared_task(name="webhooks.tasks.webhook_deliveries_sweep", ignore_result=True)
def webhook_deliveries_sweep_task() -> int:
    """Beat: events not fanned out yet (a lost fan-out task) and deliveries due."""
    created = events_fan_out()
    deliveries_enqueue(created)
    due = webhook_deliveries_due()
    deliveries_enqueue(due)
    return len(created) + len(due)
