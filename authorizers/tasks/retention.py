"""Beat prunes the logs (hourly by default: RETENTION_PRUNE_INTERVAL)."""

from __future__ import annotations

from celery import shared_task

from authorizers.services.retention import logs_prune

__all__ = ["logs_prune_task"]


@shared_task(name="authorizers.tasks.retention.logs_prune", ignore_result=True)
def logs_prune_task() -> dict[str, int]:
    return logs_prune()
