"""Refresh results counted in the pool processes reach the worker's /metrics."""

import re
import socket

import pytest
import requests

from authorizers.models import Authorizer
from sandbox.demo import COFFEE_APPID
from tests.authorizers.refresh_support import give_ticket, onboard
from tests.plugins.celery_worker import wait_until


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_worker_serves_refresh_results_from_its_pool(celery_worker, wechat_api, tmp_path):
    from authorizers.tasks.refresh import authorizer_refresh_task

    give_ticket(wechat_api)
    authorizer = onboard(wechat_api, COFFEE_APPID, expires_in=3600)
    port = _free_port()
    multiproc = tmp_path / "prom"
    celery_worker(
        env={
            "CELERY_METRICS_PORT": str(port),
            "CELERY_METRICS_ADDR": "127.0.0.1",
            "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
        }
    )
    version = authorizer.token_version
    authorizer_refresh_task.delay(authorizer.pk, force=True)
    wait_until(lambda: Authorizer.objects.get(pk=authorizer.pk).token_version > version, 20)

    def refreshed_count() -> float:
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        match = re.search(r'authorizer_token_refreshes_total\{result="refreshed"\} (\S+)', text)
        return float(match.group(1)) if match else 0.0

    assert wait_until(lambda: refreshed_count() >= 1, 10)
