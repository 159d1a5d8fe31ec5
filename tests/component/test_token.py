"""The component_access_token against the sandbox: fetch, cache, dead-token retry, beat, races."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from component.client import ComponentClient
from component.models import ComponentState
from component.services.token import (
    ComponentTicketMissing,
    component_access_token_cache_clear,
    component_access_token_get,
    component_ticket_store,
)
from component.tasks import component_token_refresh


def test_no_ticket_is_a_clear_error(wechat_api, db):
    with pytest.raises(ComponentTicketMissing, match="/wechat/component/events/"):
        component_access_token_get()
    assert wechat_api.state.calls("api_component_token") == 0


def test_a_ticket_wechat_rejects_is_treated_as_missing(wechat_api, db):
    component_ticket_store(ticket="ticket@@@not-the-one-wechat-pushed", received_at=timezone.now())
    with pytest.raises(ComponentTicketMissing, match=r"errcode 6100[56]"):
        component_access_token_get()
    assert wechat_api.state.calls("api_component_token") == 1  # -1 is retried, 61006 is not
    assert component_token_refresh() is False  # beat logs it and tries again next run
    assert ComponentState.objects.get().access_token == ""
    # WeChat is asked for a new ticket once; the second failure within a minute does not ask.
    assert wechat_api.state.calls("api_start_push_ticket") == 1


def test_a_failed_push_request_is_logged_and_changes_nothing(wechat_api, db, caplog, settings):
    settings.WECHAT_COMPONENT_APPSECRET = "not-the-secret"
    with pytest.raises(ComponentTicketMissing):
        component_access_token_get()
    assert wechat_api.state.calls("api_start_push_ticket") == 1
    assert "api_start_push_ticket failed" in caplog.text
    assert "not-the-secret" not in caplog.text
    assert ComponentState.objects.get().verify_ticket == ""


def test_the_push_request_is_tried_once_when_wechat_is_busy(wechat_api, db):
    """It runs inside a caller's failing request: no backoff there, the next caller retries."""
    wechat_api.set_faults(error_rate=1, path_prefix="/cgi-bin/component/api_start_push_ticket")
    with pytest.raises(ComponentTicketMissing):
        component_access_token_get()
    assert wechat_api.state.calls("api_start_push_ticket") == 1


@pytest.mark.django_db(transaction=True)
def test_a_ticket_wechat_moved_past_heals_through_a_requested_push(wechat_api, live_server):
    """The ticket we hold lost to a newer one we never stored (a push lost, or two pushes in
    the same second delivered out of order): the next caller after the request succeeds."""
    wechat_api.pusher.callback_url = f"{live_server.url}/wechat/component/events/"
    assert wechat_api.push("component_verify_ticket")["status"] == 200
    wechat_api.state.issue_ticket()  # WeChat's newer ticket, never delivered

    with pytest.raises(ComponentTicketMissing, match="61006"):
        component_access_token_get()

    assert wechat_api.state.calls("api_start_push_ticket") == 1
    deadline = time.monotonic() + 10
    while ComponentState.objects.get().verify_ticket != wechat_api.state.ticket:
        assert time.monotonic() < deadline, "the requested push never stored its ticket"
        time.sleep(0.05)
    assert component_access_token_get() == wechat_api.state.component_access.current


def test_an_expired_ticket_is_not_used(wechat_api, db):
    component_ticket_store(
        ticket=wechat_api.state.ticket, received_at=timezone.now() - timedelta(hours=13)
    )
    with pytest.raises(ComponentTicketMissing):
        component_access_token_get()


def test_token_is_fetched_once_and_reused(component_ready):
    first = component_access_token_get()
    component_access_token_cache_clear()  # another process: database, no fetch
    assert component_access_token_get() == first
    assert component_access_token_get() == first
    assert first == component_ready.state.component_access.current
    assert component_ready.state.calls("api_component_token") == 1


def test_a_dead_token_is_refreshed_once_and_the_call_retried(component_ready):
    component_access_token_get()
    component_ready.state.expire_component_token()  # WeChat killed it early

    payload = ComponentClient().create_preauthcode()

    assert payload["pre_auth_code"]
    assert component_ready.state.calls("api_component_token") == 2
    assert component_ready.state.calls("api_create_preauthcode") == 2
    assert (
        ComponentState.objects.get().access_token == component_ready.state.component_access.current
    )


def test_beat_refreshes_ahead_of_expiry_only(component_ready):
    assert component_token_refresh() is True  # no token yet
    assert component_token_refresh() is False  # fresh
    ComponentState.objects.update(access_token_expires_at=timezone.now() + timedelta(minutes=10))
    assert component_token_refresh() is True
    assert component_ready.state.calls("api_component_token") == 2


def test_beat_without_ticket_logs_and_waits(wechat_api, db, caplog):
    assert component_token_refresh() is False
    assert "component_verify_ticket" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_many_callers_with_an_expired_token_fetch_once(component_ready):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    component_access_token_get()
    ComponentState.objects.update(access_token_expires_at=timezone.now() - timedelta(seconds=1))
    component_access_token_cache_clear()
    component_ready.state.counters.reset()

    threads_count = 24
    barrier = threading.Barrier(threads_count)
    tokens, errors = [], []

    def caller():
        try:
            barrier.wait()
            tokens.append(component_access_token_get())
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=caller) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert len(tokens) == threads_count
    assert set(tokens) == {component_ready.state.component_access.current}
    assert component_ready.state.calls("api_component_token") == 1


def test_the_push_request_limit_does_not_depend_on_the_cache(wechat_api, db):
    """Without Redis on PostgreSQL each process has its own memory cache: another process
    knows nothing of this one's request. An empty cache is what it sees."""
    from django.core.cache import cache

    from component.services.token import component_ticket_push_request

    assert component_ticket_push_request() is True
    cache.clear()
    assert component_ticket_push_request() is False
    assert wechat_api.state.calls("api_start_push_ticket") == 1
    # A minute later the next caller asks again.
    ComponentState.objects.update(ticket_push_requested_at=timezone.now() - timedelta(seconds=61))
    assert component_ticket_push_request() is True
    assert wechat_api.state.calls("api_start_push_ticket") == 2


_ASK = (
    "from component.services.token import component_ticket_push_request; "
    "print(component_ticket_push_request())"
)


@pytest.mark.django_db(transaction=True)
def test_processes_without_a_shared_cache_ask_wechat_once_a_minute(wechat_api, tmp_path):
    """Real processes, each with its own memory cache (PostgreSQL, no REDIS_URL), or the
    embedded default's own SQLite file: started together, one asks WeChat."""
    import os
    import subprocess
    import sys

    from tests.plugins.celery_worker import ROOT

    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_URL", "CACHE_"))}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(WECHAT_API_BASE=wechat_api.base_url, REDIS_URL="", CELERY_BROKER_URL="memory://")
    if connection.vendor == "postgresql":
        from tests.plugins.celery_worker import _database_url

        env["DATABASE_URL"] = _database_url()
    else:  # the test database is in memory: the processes share a migrated file instead
        from tests.resilience.sqlite_stack import SqliteStack

        stack = SqliteStack(wechat_api, tmp_path)
        stack.migrate()
        env = {**stack.environment(), "REDIS_URL": ""}
    argv = [sys.executable, "manage.py", "shell", "-v", "0", "-c", _ASK]
    processes = [
        subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    answers = [p.communicate(timeout=60)[0].strip().splitlines()[-1] for p in processes]
    assert sorted(answers) == ["False", "False", "True"]
    assert wechat_api.state.calls("api_start_push_ticket") == 1
