"""Beat prunes the logs (hourly by default: RETENTION_PRUNE_INTERVAL) and keeps the
dashboard's account counts (every DASHBOARD_COUNTS_INTERVAL, 60 s)."""

from __future__ import annotations

from celery import shared_task

from authorizers.capabilities import capabilities_registered
from authorizers.selectors.dashboard import authorizer_counts_store
from authorizers.services.retention import logs_prune

__all__ = ["dashboard_counts_task", "logs_prune_task"]


@shared_task(name="authorizers.tasks.retention.logs_prune", ignore_result=True)
def logs_prune_task() -> dict[str, int]:
    return logs_prune()


@shared_task(name="authorizers.tasks.retention.dashboard_counts", ignore_result=True)
def dashboard_counts_task() -> None:
    authorizer_counts_store(capabilities=capabilities_registered())
