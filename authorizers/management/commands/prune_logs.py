"""prune_logs: delete the call log's, component events' and authorization attempts' rows
older than their retention now, instead of waiting for beat's hourly run."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from authorizers.services.retention import RETAINED_LOGS, logs_prune


class Command(BaseCommand):
    help = "Delete log rows older than their retention (CALL_LOG_RETENTION_DAYS and the like)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--seconds",
            type=float,
            default=3600.0,
            help="stop starting new batches after this long (default 3600)",
        )

    def handle(self, *args, seconds: float = 3600.0, **options):
        deleted = logs_prune(run_seconds=seconds)
        for log in RETAINED_LOGS:
            self.stdout.write(
                f"{log.title}: {deleted[log.name]} rows older than {log.days} days deleted"
            )
