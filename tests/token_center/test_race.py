"""Many borrowers report the same dead token at once, over two web processes: one WeChat
refresh, one new token for all. On PostgreSQL + Redis (gunicorn against the test database)
and on the embedded default (a SQLite file and its file cache, tests/resilience/sqlite_stack)."""

from __future__ import annotations

import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection

from sandbox.demo import COFFEE_APPID
from tests.authorizers.refresh_support import (
    AUTHORIZER_TOKEN_PATH,
    refresh_calls,
    sandbox_refresh_token,
    token_works,
)
from tests.resilience.sqlite_stack import SqliteStack
from tests.resilience.web_process import WebProcess

REPORTERS = 20
# The refresh is slow at WeChat, so every report arrives while it is under way: the race the
# single flight has to win is then certain, not a matter of scheduling luck.
SLOW_REFRESH_MS = 500

_SQLITE_SEED = """
import json, os
from django.utils import timezone
from authorizers.models import Merchant
from authorizers.services.onboarding.authorization import authorization_complete
from component.services.token import component_ticket_store
from token_center.clients import service_client_create

component_ticket_store(ticket=os.environ["SEED_TICKET"], received_at=timezone.now())
merchant = Merchant.objects.create(name="Token center")
authorization_complete(merchant=merchant, authorization_code=os.environ["SEED_AUTH_CODE"])
_, key = service_client_create(name="crm")
print(json.dumps({"key": key}))
"""


@pytest.fixture
def two_web_processes(request, wechat_sandbox, tmp_path):
    """(service key, [web process, web process]) over this run's database kind."""
    if connection.vendor == "sqlite":
        stack = SqliteStack(wechat_sandbox, tmp_path)
        stack.migrate()
        ticket = wechat_sandbox.state.ticket or wechat_sandbox.state.issue_ticket()
        consent = wechat_sandbox.state.consent(COFFEE_APPID)
        out = stack.manage(
            "shell", "-v", "0", "-c", _SQLITE_SEED, SEED_TICKET=ticket,
            SEED_AUTH_CODE=consent.auth_code, CELERY_TASK_ALWAYS_EAGER="1",
        )  # fmt: skip
        key = json.loads(out.strip().splitlines()[-1])["key"]
        webs = [stack.web_process(f"web-{n}") for n in range(2)]
    else:
        factory = request.getfixturevalue("authorizer_factory")
        from token_center.clients import service_client_create

        factory(appid=COFFEE_APPID)
        _, key = service_client_create(name="crm")
        webs = []
        for n in range(2):
            log_dir = tmp_path / f"web-{n}"
            log_dir.mkdir()
            webs.append(WebProcess(wechat_sandbox, log_dir))
    try:
        for web in webs:
            web.start()
        yield key, webs
    finally:
        for web in webs:
            web.stop()


@pytest.mark.django_db(transaction=True)
def test_twenty_reports_of_one_dead_token_cost_one_refresh_and_get_one_new_token(
    two_web_processes, wechat_sandbox
):
    key, webs = two_web_processes
    headers = {"Authorization": f"Bearer {key}"}
    path = f"/internal/v1/authorizers/{COFFEE_APPID}/access-token"
    loan = requests.get(webs[0].url + path, headers=headers, timeout=60)
    assert loan.status_code == 200, loan.text
    dead = loan.json()["access_token"]
    assert token_works(wechat_sandbox, COFFEE_APPID, dead)
    # Both processes have lent it (the caches are warm), then WeChat kills it.
    assert (
        requests.get(webs[1].url + path, headers=headers, timeout=60).json()["access_token"] == dead
    )
    wechat_sandbox.state.expire_authorizer_token(COFFEE_APPID)
    wechat_sandbox.set_faults(latency_ms=SLOW_REFRESH_MS, path_prefix=AUTHORIZER_TOKEN_PATH)
    start = threading.Barrier(REPORTERS)

    def report(index: int) -> tuple[int, str]:
        start.wait()
        response = requests.post(
            webs[index % 2].url + path + "/invalid",
            json={"access_token": dead},
            headers=headers,
            timeout=120,
        )
        return response.status_code, response.text

    with ThreadPoolExecutor(REPORTERS) as pool:
        answers = list(pool.map(report, range(REPORTERS)))

    logs = "".join(web.log for web in webs)
    statuses = Counter(status for status, _ in answers)
    assert statuses == {200: REPORTERS}, (statuses, answers[:3], logs[-4000:])
    tokens = {json.loads(text)["access_token"] for _, text in answers}
    assert len(tokens) == 1 and dead not in tokens
    assert refresh_calls(wechat_sandbox, COFFEE_APPID) == 1
    wechat_sandbox.clear_faults()
    assert token_works(wechat_sandbox, COFFEE_APPID, tokens.pop())
    refresh_token = sandbox_refresh_token(wechat_sandbox, COFFEE_APPID)
    assert refresh_token not in logs and not [t for _, t in answers if refresh_token in t]
    assert "Traceback" not in logs, logs[-4000:]
