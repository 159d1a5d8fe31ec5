"""Prometheus metrics of the Celery workers (refresh results, WeChat calls made by tasks).

A prefork worker counts in its pool processes, so the counters go through prometheus_client's
multiprocess directory (PROMETHEUS_MULTIPROC_DIR) and the worker's main process serves their
sum on CELERY_METRICS_PORT. Without both variables nothing is served.
"""

from __future__ import annotations

import logging
import os

from celery import signals
from prometheus_client import CollectorRegistry, multiprocess, start_http_server

from platform_app.ops.multiproc import clear_directory, retire_process

logger = logging.getLogger(__name__)


def metrics_port() -> int | None:
    port = os.environ.get("CELERY_METRICS_PORT", "")
    return int(port) if port.isdigit() and os.environ.get("PROMETHEUS_MULTIPROC_DIR") else None


def _prepare_directory() -> None:
    """The directory must exist before any metric is created (at Django setup, in every
    process); serve_worker_metrics empties it when the worker starts."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path and metrics_port() is not None:
        os.makedirs(path, exist_ok=True)


_prepare_directory()


@signals.worker_init.connect
def serve_worker_metrics(**_: object) -> None:
    port = metrics_port()
    if port is None:
        return
    # Files left by a previous run would be summed into this run's counters.
    clear_directory(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    # Pods are scraped by their IP, so the default listens on every interface.
    addr = os.environ.get("CELERY_METRICS_ADDR", "0.0.0.0")  # noqa: S104
    start_http_server(port, addr=addr, registry=registry)
    logger.info("worker metrics on :%d/metrics", port)


@signals.worker_process_shutdown.connect
def forget_pool_process(pid: int | None = None, **_: object) -> None:
    if metrics_port() is None:
        return
    # Recycled pool processes (max_tasks_per_child, crashes) must not pile up files.
    retire_process(pid or os.getpid())
