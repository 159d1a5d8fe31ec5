"""The refresh tasks on a real prefork Celery worker, real Redis broker, PostgreSQL, sandbox."""

import os
import signal
import threading

import pytest
from django.db import connection

from authorizers.models import Authorizer
from authorizers.services.tokens.refresh import authorizer_get_access_token
from authorizers.tasks.refresh import authorizer_refresh_task, authorizer_tokens_sweep
from sandbox.demo import BOOKS_APPID, COFFEE_APPID, UNVERIFIED_APPID
from tests.plugins.celery_worker import wait_until

from .refresh_support import (
    AUTHORIZER_TOKEN_PATH,
    give_ticket,
    onboard,
    refresh_calls,
    sandbox_refresh_token,
    token_works,
)

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def _version(authorizer: Authorizer) -> int:
    return Authorizer.objects.get(pk=authorizer.pk).token_version


def test_sweep_refreshes_expiring_tokens_and_leaves_the_rest(celery_worker, wechat_api):
    give_ticket(wechat_api)
    expiring = onboard(wechat_api, COFFEE_APPID, expires_in=300)
    fresh = onboard(wechat_api, BOOKS_APPID, expires_in=3600)
    stopped = onboard(wechat_api, UNVERIFIED_APPID, expires_in=-5)
    Authorizer.objects.filter(pk=stopped.pk).update(status=Authorizer.Status.REAUTH_REQUIRED)
    celery_worker(concurrency=2)

    authorizer_tokens_sweep.delay()

    wait_until(lambda: _version(expiring) == 2)
    row = Authorizer.objects.get(pk=expiring.pk)
    assert token_works(wechat_api, COFFEE_APPID, row.access_token)
    assert refresh_calls(wechat_api, COFFEE_APPID) == 1
    assert refresh_calls(wechat_api, BOOKS_APPID) == 0
    assert refresh_calls(wechat_api, UNVERIFIED_APPID) == 0
    assert Authorizer.objects.get(pk=fresh.pk).access_token == fresh.access_token
    assert token_works(wechat_api, BOOKS_APPID, fresh.access_token)


def test_four_workers_and_fifty_requests_make_one_refresh(celery_worker, wechat_api):
    give_ticket(wechat_api)
    expired = onboard(wechat_api, COFFEE_APPID, expires_in=-5)
    worker = celery_worker(concurrency=4)
    # A slow answer keeps the race window open while every racer arrives.
    wechat_api.set_faults(latency_ms=300, path_prefix=AUTHORIZER_TOKEN_PATH)
    instances = [Authorizer.objects.get(pk=expired.pk) for _ in range(50)]
    start = threading.Barrier(51)
    tokens, errors = [], []

    def request(instance):
        try:
            start.wait()
            tokens.append(authorizer_get_access_token(authorizer=instance).token)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=request, args=(i,)) for i in instances]
    for thread in threads:
        thread.start()
    for _ in range(8):
        authorizer_refresh_task.delay(expired.pk)
    start.wait()
    for thread in threads:
        thread.join(30)
    wait_until(lambda: worker.log.count(" succeeded in ") >= 8)

    assert errors == []
    assert refresh_calls(wechat_api, COFFEE_APPID) == 1
    assert len(tokens) == 50 and len(set(tokens)) == 1
    assert token_works(wechat_api, COFFEE_APPID, tokens[0])
    assert _version(expired) == 2


@pytest.mark.parametrize("rotate", [False, True], ids=["same-refresh-token", "rotated"])
def test_worker_killed_mid_refresh_loses_no_refresh_token(celery_worker, wechat_api, rotate):
    give_ticket(wechat_api)
    wechat_api.state.settings.rotate_refresh_token = rotate
    authorizer = onboard(wechat_api, COFFEE_APPID, expires_in=300)
    worker = celery_worker(concurrency=1, env={"AUTHORIZER_REFRESH_REDELIVERY_DELAY_SECONDS": "5"})
    # Only this call is slow: the kill lands while WeChat is still working on it.
    wechat_api.set_faults(latency_ms=3000, path_prefix=AUTHORIZER_TOKEN_PATH, count=1)

    authorizer_refresh_task.delay(authorizer.pk)
    wait_until(lambda: refresh_calls(wechat_api, COFFEE_APPID) == 1)
    [child] = worker.child_pids()
    os.kill(child, signal.SIGKILL)

    row = Authorizer.objects.get(pk=authorizer.pk)
    assert (row.token_version, row.refresh_token) == (1, authorizer.refresh_token)
    # The sweep leaves it alone while WeChat may still act on the lost call; the redelivered
    # task forces a refresh once that is over.
    authorizer_tokens_sweep.delay()
    wait_until(lambda: _version(authorizer) >= 2, timeout=20)
    assert "forced refresh in" in worker.log
    assert refresh_calls(wechat_api, COFFEE_APPID) == 2
    row = Authorizer.objects.get(pk=authorizer.pk)
    assert row.status == Authorizer.Status.ACTIVE
    assert row.refresh_token == sandbox_refresh_token(wechat_api, COFFEE_APPID)
    assert token_works(wechat_api, COFFEE_APPID, row.access_token)
    if rotate:
        # Past the grace period only the latest refresh token is accepted: ours still is.
        wechat_api.state.advance_clock(wechat_api.state.settings.refresh_token_grace_seconds + 1)
        row = Authorizer.objects.get(pk=authorizer.pk)
        assert row.refresh_token == sandbox_refresh_token(wechat_api, COFFEE_APPID)


def test_busy_refresh_is_retried_by_the_task_with_backoff(celery_worker, wechat_api):
    give_ticket(wechat_api)
    authorizer = onboard(wechat_api, COFFEE_APPID, expires_in=-5)
    # Two task attempts' worth of -1 (3 transport attempts each), then WeChat recovers.
    wechat_api.set_faults(error_rate=1.0, path_prefix=AUTHORIZER_TOKEN_PATH, count=6)
    worker = celery_worker(concurrency=1)

    authorizer_refresh_task.delay(authorizer.pk)

    wait_until(lambda: _version(authorizer) == 2)
    assert refresh_calls(wechat_api, COFFEE_APPID) == 7
    assert worker.log.count("Retry in") == 2
    assert Authorizer.objects.get(pk=authorizer.pk).last_refresh_error == ""
