"""The sweep's pieces in-process: what is due, batches on the pool, gauges, crash safety."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from authorizers.models import Authorizer
from authorizers.services.tokens.errors import RefreshResult
from authorizers.services.tokens.gauges import authorizer_token_gauges_update
from authorizers.services.tokens.refresh import authorizer_refresh_access_token
from authorizers.services.tokens.sweep import (
    authorizer_token_busy_mark,
    authorizer_tokens_due,
    authorizer_tokens_refresh_many,
)
from authorizers.tasks.refresh import authorizer_refresh_task
from core.metrics import AUTHORIZERS_NEEDING_REAUTH, TOKEN_EXPIRY_HORIZON
from sandbox.demo import BAKERY_APPID, BOOKS_APPID, COFFEE_APPID

from .refresh_support import (
    AUTHORIZER_TOKEN_PATH,
    give_ticket,
    onboard,
    refresh_calls,
    sandbox_refresh_token,
    token_works,
)


@pytest.fixture
def sandbox(wechat_api):
    give_ticket(wechat_api)
    return wechat_api


@pytest.mark.django_db
def test_due_batches_soonest_first_and_skip_accounts_in_flight(sandbox, settings):
    settings.AUTHORIZER_REFRESH_BATCH_SIZE = 2
    late = onboard(sandbox, COFFEE_APPID, expires_in=800)
    soon = onboard(sandbox, BOOKS_APPID, expires_in=100)
    busy = onboard(sandbox, BAKERY_APPID, expires_in=200)
    merchant = late.merchant
    extra = [
        Authorizer.objects.create(
            merchant=merchant,
            appid=f"wx_extra_{i}",
            refresh_token="r",
            access_token_expires_at=timezone.now() + timedelta(seconds=300 + i),
        )
        for i in range(2)
    ]
    in_an_hour = timezone.now() + timedelta(hours=1)
    Authorizer.objects.create(
        merchant=merchant, appid="wx_fresh", refresh_token="r", access_token_expires_at=in_an_hour
    )
    authorizer_token_busy_mark(authorizer_id=busy.pk, seconds=60)
    assert authorizer_tokens_due(within=timedelta(minutes=15)) == [
        [soon.pk, extra[0].pk],
        [extra[1].pk, late.pk],
    ]


@pytest.mark.django_db(transaction=True)
def test_refresh_many_refreshes_each_due_account_once_on_the_pool(sandbox):
    accounts = [
        onboard(sandbox, COFFEE_APPID, expires_in=60),
        onboard(sandbox, BOOKS_APPID, expires_in=7000),
        onboard(sandbox, BAKERY_APPID, expires_in=-1),
    ]
    seen = []
    results = authorizer_tokens_refresh_many(
        authorizer_ids=[a.pk for a in accounts],
        within=timedelta(minutes=15),
        concurrency=3,
        on_result=lambda i, r: seen.append(i),
    )
    assert results == {
        accounts[0].pk: RefreshResult.REFRESHED,
        accounts[1].pk: RefreshResult.FRESH,
        accounts[2].pk: RefreshResult.REFRESHED,
    }
    assert sorted(seen) == sorted(a.pk for a in accounts)
    assert refresh_calls(sandbox) == 2
    # The marks that kept the sweep away while they ran are gone.
    [due] = authorizer_tokens_due(within=timedelta(hours=3))
    assert sorted(due) == sorted(a.pk for a in accounts)


@pytest.mark.django_db(transaction=True)
def test_refresh_many_reports_each_failure_without_stopping(sandbox):
    ok = onboard(sandbox, COFFEE_APPID, expires_in=-1)
    gone = onboard(sandbox, BOOKS_APPID, expires_in=-1)
    sandbox.state.revoke(BOOKS_APPID)
    results = authorizer_tokens_refresh_many(
        authorizer_ids=[ok.pk, gone.pk, 999999], within=timedelta(minutes=15)
    )
    assert results == {
        ok.pk: RefreshResult.REFRESHED,
        gone.pk: RefreshResult.REVOKED,
        999999: RefreshResult.ERROR,
    }


@pytest.mark.django_db(transaction=True)
def test_refresh_many_defers_what_it_cannot_start_before_the_deadline(sandbox):
    account = onboard(sandbox, COFFEE_APPID, expires_in=-1)
    results = authorizer_tokens_refresh_many(authorizer_ids=[account.pk], deadline=0.0)
    assert results == {account.pk: RefreshResult.DEFERRED}
    assert refresh_calls(sandbox) == 0


@pytest.mark.django_db
def test_gauges(sandbox):
    onboard(sandbox, COFFEE_APPID, expires_in=600)
    stopped = onboard(sandbox, BOOKS_APPID, expires_in=-100)
    Authorizer.objects.filter(pk=stopped.pk).update(status=Authorizer.Status.REAUTH_REQUIRED)
    authorizer_token_gauges_update()
    assert 590 < TOKEN_EXPIRY_HORIZON._value.get() <= 600
    assert AUTHORIZERS_NEEDING_REAUTH._value.get() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("rotate", [False, True], ids=["same-refresh-token", "rotated"])
def test_crash_between_answer_and_commit_keeps_the_old_refresh_token(sandbox, monkeypatch, rotate):
    sandbox.state.settings.rotate_refresh_token = rotate
    account = onboard(sandbox, COFFEE_APPID, expires_in=-1)

    def crash(self, *args, **kwargs):
        raise KeyboardInterrupt("process dies before COMMIT")

    with monkeypatch.context() as patched:
        patched.setattr(Authorizer, "save", crash)
        with pytest.raises(KeyboardInterrupt):
            authorizer_refresh_access_token(authorizer_id=account.pk)
    row = Authorizer.objects.get(pk=account.pk)
    assert (row.token_version, row.refresh_token) == (1, account.refresh_token)
    assert refresh_calls(sandbox) == 1
    # The next refresh still gets through with the refresh token we kept.
    token = authorizer_refresh_access_token(authorizer_id=account.pk)
    row = Authorizer.objects.get(pk=account.pk)
    assert row.refresh_token == sandbox_refresh_token(sandbox, COFFEE_APPID)
    assert token_works(sandbox, COFFEE_APPID, token.token)


@pytest.mark.django_db
def test_refresh_task_retries_transient_failures_then_succeeds(sandbox, settings):
    account = onboard(sandbox, COFFEE_APPID, expires_in=-1)
    sandbox.set_faults(quota_rate=1.0, path_prefix=AUTHORIZER_TOKEN_PATH, count=2)
    # Eager apply runs the retries in place (countdown ignored): the policy, not the wait.
    result = authorizer_refresh_task.apply(args=(account.pk,))
    assert result.get() == "refreshed"
    assert refresh_calls(sandbox) == 3
    assert not cache.get(f"authorizers:token-refresh-busy:{account.pk}")


@pytest.mark.django_db
def test_refresh_task_gives_up_after_max_retries(sandbox, settings):
    settings.AUTHORIZER_REFRESH_MAX_RETRIES = 2
    account = onboard(sandbox, COFFEE_APPID, expires_in=-1)
    sandbox.set_faults(quota_rate=1.0, path_prefix=AUTHORIZER_TOKEN_PATH)
    result = authorizer_refresh_task.apply(args=(account.pk,))
    assert result.failed()
    assert refresh_calls(sandbox) == 3
    assert Authorizer.objects.get(pk=account.pk).status == Authorizer.Status.ACTIVE


@pytest.mark.django_db
def test_refresh_task_stops_quietly_for_a_revoked_account(sandbox):
    account = onboard(sandbox, COFFEE_APPID, expires_in=-1)
    sandbox.state.revoke(COFFEE_APPID)
    assert authorizer_refresh_task.apply(args=(account.pk,)).get() == "revoked"


@pytest.mark.django_db
def test_a_second_sweep_never_queues_ids_still_waiting(monkeypatch):
    """No worker consumes: the second sweep must not queue the first sweep's ids again."""
    from authorizers.models import Merchant
    from authorizers.tasks import refresh as tasks

    merchant = Merchant.objects.create(name="Sweep")
    soon = timezone.now() + timedelta(seconds=60)
    due = Authorizer.objects.bulk_create(
        Authorizer(merchant=merchant, appid=f"wxsweep{i}", refresh_token="r",
                   access_token_expires_at=soon)
        for i in range(3)
    )  # fmt: skip
    queued = []
    monkeypatch.setattr(
        tasks.authorizer_refresh_batch_task,
        "apply_async",
        lambda args, kwargs=None, **options: queued.append(list(args[0])),
    )
    monkeypatch.setattr(tasks, "authorizer_token_gauges_update", lambda: None)
    assert tasks.authorizer_tokens_sweep()["due"] == 3
    assert tasks.authorizer_tokens_sweep()["due"] == 0
    assert sorted(i for ids in queued for i in ids) == sorted(a.pk for a in due)


@pytest.mark.django_db
def test_sweep_selection_is_served_by_the_status_expiry_index():
    """Many stopped and fresh accounts, a few due: the plan reads the due ones through the
    index (`status = active` in its condition), never the stopped ones."""
    from django.db import connection

    from authorizers.models import Merchant
    from authorizers.selectors.tokens import authorizer_list_expiring

    if connection.vendor != "postgresql":
        pytest.skip("reads PostgreSQL's plan")
    merchant = Merchant.objects.create(name="Plan")
    now = timezone.now()
    rows = [
        Authorizer(merchant=merchant, appid=f"wxplan{i}", refresh_token="r",
                   status=Authorizer.Status.REVOKED if i % 2 else Authorizer.Status.ACTIVE,
                   access_token_expires_at=now + timedelta(seconds=60 if i < 10 else 7000))
        for i in range(4000)
    ]  # fmt: skip
    Authorizer.objects.bulk_create(rows, batch_size=1000)
    query = authorizer_list_expiring(within=timedelta(minutes=15)).values("id")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE authorizers_authorizer")
        sql, params = query.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan" not in plan, plan
    conditions = [line for line in plan.splitlines() if "Index Cond" in line]
    assert any("(status)::text = 'active'::text" in line for line in conditions), plan
    assert any("access_token_expires_at <" in line for line in conditions), plan
