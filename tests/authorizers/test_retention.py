"""Retention: old call-log rows, component events and authorization attempts are deleted in
batches, recent ones kept; beat schedules it, a command runs it now, the dashboard shows it."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone


def _rows(days_old: list[int]) -> None:
    from authorizers.models import ApiCall, AuthorizationAttempt, Merchant
    from component.models import ComponentEvent

    merchant = Merchant.objects.create(name=f"Retained {days_old}")
    now = timezone.now()
    for i, days in enumerate(days_old):
        when = now - timedelta(days=days)
        call = ApiCall.objects.create(
            merchant=merchant, endpoint="users.tags", result="ok", status_code=200
        )
        event = ComponentEvent.objects.create(dedup_key=f"{merchant.pk}-{i}", info_type="x")
        attempt = AuthorizationAttempt.objects.create(
            pre_auth_code_sha256=f"{merchant.pk}-{i}", merchant=merchant
        )
        ApiCall.objects.filter(pk=call.pk).update(created_at=when)
        ComponentEvent.objects.filter(pk=event.pk).update(received_at=when)
        AuthorizationAttempt.objects.filter(pk=attempt.pk).update(created_at=when)


def _ages() -> dict[str, list[int]]:
    from authorizers.services.retention import RETAINED_LOGS

    now = timezone.now()
    return {
        log.name: sorted(
            (now - t).days for t in log.model.objects.values_list(log.time_field, flat=True)
        )
        for log in RETAINED_LOGS
    }


@pytest.fixture
def retention(settings):
    settings.CALL_LOG_RETENTION_DAYS = 30
    settings.COMPONENT_EVENT_RETENTION_DAYS = 10
    settings.AUTHORIZATION_ATTEMPT_RETENTION_DAYS = 3
    settings.RETENTION_BATCH_SIZE = 2  # several batches per log
    return settings


@pytest.mark.django_db
def test_prune_deletes_what_is_older_than_each_logs_retention(retention):
    from authorizers.services.retention import logs_prune, logs_prune_last_run

    _rows([0, 1, 5, 11, 29, 31, 40, 90, 365])
    deleted = logs_prune()
    assert deleted == {"api_calls": 4, "component_events": 6, "authorization_attempts": 7}
    assert _ages() == {
        "api_calls": [0, 1, 5, 11, 29],
        "component_events": [0, 1, 5],
        "authorization_attempts": [0, 1],
    }
    assert logs_prune_last_run()["deleted"] == deleted
    assert logs_prune() == {"api_calls": 0, "component_events": 0, "authorization_attempts": 0}


@pytest.mark.django_db
def test_a_run_out_of_time_starts_no_batch(retention):
    from authorizers.services.retention import logs_prune

    _rows([40, 50])
    assert sum(logs_prune(run_seconds=0).values()) == 0
    assert _ages()["api_calls"] == [40, 50]


@pytest.mark.django_db
def test_command_prunes_now(retention):
    _rows([1, 45])
    out = StringIO()
    call_command("prune_logs", stdout=out)
    assert "Merchant API call log: 1 rows older than 30 days deleted" in out.getvalue()
    assert _ages()["api_calls"] == [1]


def test_beat_schedules_the_prune():
    from django.conf import settings

    from platform_app.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["logs-prune"]
    assert entry["task"] == "authorizers.tasks.retention.logs_prune"
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks


@pytest.mark.django_db
def test_beat_task_prunes(retention):
    from authorizers.tasks.retention import logs_prune_task

    _rows([2, 31])
    assert logs_prune_task.apply().get()["api_calls"] == 1


@pytest.mark.django_db
def test_dashboard_shows_the_logs_and_the_last_prune(admin_client, retention):
    from authorizers.services.retention import logs_prune

    _rows([1, 45])
    html = admin_client.get(reverse("admin:dashboard")).content.decode()
    assert 'id="retention"' in html and "not run yet" in html
    logs_prune()
    html = admin_client.get(reverse("admin:dashboard")).content.decode()
    assert "<td>Merchant API call log</td><td>1</td>" in html
    assert "<td>30 days</td><td>1</td>" in html


@pytest.mark.django_db
def test_dashboard_counts_are_kept_by_beat_and_read_from_the_cache(admin_client):
    from django.conf import settings

    from authorizers.models import Authorizer, Merchant
    from authorizers.selectors.dashboard import authorizer_counts_forget
    from authorizers.tasks.retention import dashboard_counts_task

    entry = settings.CELERY_BEAT_SCHEDULE["dashboard-counts"]
    assert entry["task"] == "authorizers.tasks.retention.dashboard_counts"
    merchant = Merchant.objects.create(name="Counted")
    Authorizer.objects.create(merchant=merchant, appid="wxcounted1")
    dashboard_counts_task.apply()
    Authorizer.objects.create(merchant=merchant, appid="wxcounted2")
    active = '</span></td><td><a href="/admin/authorizers/authorizer/?status=active"'
    html = admin_client.get(reverse("admin:dashboard")).content.decode()
    assert f'<span class="wxt-count">1{active}' in html  # beat's count, a minute old at most
    authorizer_counts_forget()
    html = admin_client.get(reverse("admin:dashboard")).content.decode()
    assert f'<span class="wxt-count">2{active}' in html
