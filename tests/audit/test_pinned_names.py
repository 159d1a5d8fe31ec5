"""What the tree move must not break: app labels (migrations, content types, permissions) and
Celery task names (messages already queued, beat schedules) are the ones the previous release
used, and a message sent under an old name runs on a real worker."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db.migrations.loader import MigrationLoader

from authorizers.models import Authorizer
from component.models import ComponentState
from platform_app.celery import app
from sandbox.demo import COFFEE_APPID
from tests.authorizers.refresh_support import give_ticket, onboard, refresh_calls
from tests.plugins.celery_worker import wait_until

# As the release before the move (commit 4f4e66d) named them.
LABELS = {"component", "authorizers", "merchant_api", "tags"}
TASKS = {
    "platform_app.component.tasks.component_token_refresh",
    "authorizers.tasks.refresh.authorizer_tokens_sweep",
    "authorizers.tasks.refresh.authorizer_refresh_batch_task",
    "authorizers.tasks.refresh.authorizer_refresh_task",
    "authorizers.tasks.sync.authorizer_sync_info_task",
    "authorizers.tasks.sync.authorizer_apply_authorization_code_task",
}
MIGRATIONS = {
    ("component", "0001_initial"),
    ("component", "0002_componentevent_authorization_code"),
    ("authorizers", "0001_initial"),
    ("authorizers", "0002_token_state_and_ownership"),
    ("authorizers", "0003_quota"),
}


def test_app_labels_and_migrations_are_the_released_ones() -> None:
    assert {config.label for config in apps.get_app_configs()} >= LABELS
    loader = MigrationLoader(None, ignore_no_migrations=True)
    assert set(loader.disk_migrations) >= MIGRATIONS


def test_every_released_task_name_is_registered() -> None:
    app.loader.import_default_modules()
    assert set(app.tasks) >= TASKS
    schedule = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert schedule <= set(app.tasks)


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_messages_sent_under_the_released_names_run(celery_worker, wechat_api) -> None:
    give_ticket(wechat_api)
    expiring = onboard(wechat_api, COFFEE_APPID, expires_in=300)
    ComponentState.objects.update(access_token="")
    celery_worker(concurrency=1)
    # By name, as a message queued by the previous release arrives: no import of the task.
    app.send_task("platform_app.component.tasks.component_token_refresh")
    app.send_task("authorizers.tasks.refresh.authorizer_tokens_sweep")
    wait_until(lambda: ComponentState.objects.get().access_token != "")
    wait_until(lambda: Authorizer.objects.get(pk=expiring.pk).token_version == 2)
    assert refresh_calls(wechat_api, COFFEE_APPID) == 1
