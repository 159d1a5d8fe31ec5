"""The logs' retention: call log, component events and authorization attempts keep their
rows for a number of days (settings/retention.py), older ones are deleted.

Deletes go in batches of RETENTION_BATCH_SIZE rows, oldest first, each batch its own short
transaction by primary key (the rows found through the time index), so no statement holds
a lock on many rows for long and the API's inserts never wait. A run stops at its deadline;
the next one continues where it stopped.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from component.models import ComponentEvent

from ..models import ApiCall, AuthorizationAttempt

logger = logging.getLogger("authorizers.retention")

_LAST_RUN = "retention:last-run"


@dataclass(frozen=True)
class RetainedLog:
    name: str
    title: str
    model: type[Model]
    time_field: str  # indexed
    setting: str

    @property
    def days(self) -> int:
        return getattr(settings, self.setting)


RETAINED_LOGS = (
    RetainedLog("api_calls", "Merchant API call log", ApiCall, "created_at",
                "CALL_LOG_RETENTION_DAYS"),
    RetainedLog("component_events", "Component events", ComponentEvent, "received_at",
                "COMPONENT_EVENT_RETENTION_DAYS"),
    RetainedLog("authorization_attempts", "Authorization attempts", AuthorizationAttempt,
                "created_at", "AUTHORIZATION_ATTEMPT_RETENTION_DAYS"),
)  # fmt: skip


def log_prune(
    *,
    log: RetainedLog,
    now: datetime | None = None,
    batch_size: int | None = None,
    deadline: float | None = None,
) -> int:
    """Delete `log`'s rows older than its retention; how many were deleted.

    `deadline` (time.monotonic()): no batch starts after it.
    """
    cutoff = (now or timezone.now()) - timedelta(days=log.days)
    size = batch_size or settings.RETENTION_BATCH_SIZE
    old = log.model.objects.filter(**{f"{log.time_field}__lt": cutoff})
    deleted = 0
    while deadline is None or time.monotonic() < deadline:
        pks = list(old.order_by(log.time_field, "pk").values_list("pk", flat=True)[:size])
        if not pks:
            break
        with transaction.atomic():
            # No model points at a log row: a raw DELETE, without loading the rows first.
            deleted += log.model.objects.filter(pk__in=pks)._raw_delete(old.db)
        if len(pks) < size:
            break
    return deleted


def logs_prune(*, now: datetime | None = None, run_seconds: float | None = None) -> dict[str, int]:
    """Every log pruned (within one run's time); rows deleted per log, kept for the dashboard."""
    seconds = settings.RETENTION_RUN_SECONDS if run_seconds is None else run_seconds
    deadline = time.monotonic() + seconds
    deleted = {log.name: log_prune(log=log, now=now, deadline=deadline) for log in RETAINED_LOGS}
    cache.set(_LAST_RUN, {"at": timezone.now().isoformat(), "deleted": deleted}, timeout=None)
    if any(deleted.values()):
        logger.info("logs pruned: %s", deleted)
    return deleted


def logs_prune_last_run() -> dict | None:
    """{"at": ISO time, "deleted": {log name: rows}} of the last run, if one is known."""
    return cache.get(_LAST_RUN)
