"""The outbox's rows are fanned out once their transaction commits (never for a rollback)."""

from __future__ import annotations

import logging

from django.db import transaction

from authorizers import signals
from authorizers.models import AccountEvent

from .tasks import webhook_events_fan_out_task

logger = logging.getLogger(__name__)


def _fan_out_later(event_id: int) -> None:
    try:
        webhook_events_fan_out_task.delay([event_id])
    except Exception:  # the broker is down: the row waits for beat's sweep
        logger.warning("account event %s: fan-out not queued; beat will", event_id)


def on_account_event(sender, event_id: int, **kwargs) -> None:
    transaction.on_commit(lambda: _fan_out_later(event_id))


def connect() -> None:
    signals.account_event_recorded.connect(
        on_account_event, sender=AccountEvent, dispatch_uid="webhooks.fan_out"
    )
