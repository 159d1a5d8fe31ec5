"""The embedded default keeps PostgreSQL's promises (SPEC section 9): on a SQLite file
database with its file cache, concurrent lookups of an expired token over two web
processes refresh it once, and none of them is answered `database is locked`."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from sandbox.demo import BOOKS_APPID, COFFEE_APPID, demo_openids
from tests.authorizers.refresh_support import AUTHORIZER_TOKEN_PATH, refresh_calls
from tests.plugins.celery_worker import ROOT, wait_until

from .sqlite_stack import SqliteStack

LOOKUPS = 30
# The refresh is slow at WeChat, so every lookup arrives while it is still under way: the
# race the lock has to win is then certain, not a matter of scheduling luck.
SLOW_REFRESH_MS = 500


@pytest.fixture
def sqlite_stack(wechat_sandbox, tmp_path):
    stack = SqliteStack(wechat_sandbox, tmp_path)
    stack.migrate()
    return stack


def test_concurrent_lookups_of_an_expired_token_over_two_processes_refresh_once(
    sqlite_stack, wechat_sandbox
):
    seeded = sqlite_stack.seed_expired_authorizer(COFFEE_APPID)
    assert refresh_calls(wechat_sandbox, COFFEE_APPID) == 0
    webs = [sqlite_stack.web_process(f"web-{n}") for n in range(2)]
    try:
        for web in webs:
            web.start()
        wechat_sandbox.set_faults(latency_ms=SLOW_REFRESH_MS, path_prefix=AUTHORIZER_TOKEN_PATH)
        openids = demo_openids(COFFEE_APPID)
        start = threading.Barrier(LOOKUPS)

        def lookup(index: int) -> tuple[int, str]:
            web = webs[index % 2]
            openid = openids[index % len(openids)]
            url = f"{web.url}/api/v1/authorizers/{COFFEE_APPID}/users/{openid}/tags"
            start.wait()
            response = requests.get(
                url, headers={"Authorization": f"Bearer {seeded['api_key']}"}, timeout=120
            )
            return response.status_code, response.text

        with ThreadPoolExecutor(LOOKUPS) as pool:
            answers = list(pool.map(lookup, range(LOOKUPS)))

        statuses = Counter(status for status, _ in answers)
        failures = [text for status, text in answers if status != 200]
        refreshes = refresh_calls(wechat_sandbox, COFFEE_APPID)
        logs = "".join(web.log for web in webs)
        assert statuses == {200: LOOKUPS}, (statuses, refreshes, failures[:3], logs[-4000:])
        assert refreshes == 1
        assert "database is locked" not in logs, logs[-4000:]
        assert "Traceback" not in logs, logs[-4000:]
    finally:
        for web in webs:
            web.stop()


def test_a_write_lock_held_past_the_timeout_is_a_retryable_503_not_a_500(
    sqlite_stack, wechat_sandbox
):
    seeded = sqlite_stack.seed_expired_authorizer(COFFEE_APPID)
    web = sqlite_stack.web_process("web", AUTHORIZER_TOKEN_LOCK_TIMEOUT_SECONDS="0.5").start()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {seeded['api_key']}"
    url = f"{web.url}/api/v1/authorizers/{COFFEE_APPID}/users/{demo_openids(COFFEE_APPID)[0]}/tags"
    holder = sqlite3.connect(sqlite_stack.database, isolation_level=None)
    try:
        # The key is authenticated (and its last use recorded) before anyone holds the lock.
        assert session.get(f"{web.url}/api/v1/authorizers/", timeout=30).status_code == 200
        # Another process's writer that does not let go (as a refresh stuck at WeChat would).
        holder.execute("BEGIN IMMEDIATE")
        try:
            stuck = session.get(url, timeout=60)
        finally:
            holder.execute("ROLLBACK")
        assert stuck.status_code == 503, stuck.text
        assert stuck.json()["error"]["code"] == "upstream_unavailable"
        assert int(stuck.headers["Retry-After"]) >= 1
        assert refresh_calls(wechat_sandbox, COFFEE_APPID) == 0
        # Once the lock is free the same lookup refreshes and answers.
        assert session.get(url, timeout=60).status_code == 200
        assert refresh_calls(wechat_sandbox, COFFEE_APPID) == 1
    finally:
        holder.close()
        web.stop()


_FORCED_REFRESH = """
import os
from authorizers.services.tokens.refresh import authorizer_refresh_access_token

authorizer_id = int(os.environ["REFRESH_AUTHORIZER_ID"])
print(authorizer_refresh_access_token(authorizer_id=authorizer_id, force=True).version)
"""


def test_a_slow_refresh_does_not_hold_the_database_for_other_writers(sqlite_stack, wechat_sandbox):
    """One account's refresh is slow at WeChat, far past the busy timeout; another account's
    onboarding (its grant stored, its merchant and key created) runs in the middle of that
    call, in another process, and must not fail with "database is locked": the refresh's
    single flight holds the account's lease, not the database's write lock."""
    seeded = sqlite_stack.seed_expired_authorizer(COFFEE_APPID)
    wechat_sandbox.set_faults(latency_ms=8000, path_prefix=AUTHORIZER_TOKEN_PATH)
    refresh = subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", _FORCED_REFRESH],
        cwd=ROOT,
        env={
            **sqlite_stack.environment(),
            "WECHAT_READ_TIMEOUT": "30",
            "REFRESH_AUTHORIZER_ID": str(seeded["authorizer_id"]),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: refresh_calls(wechat_sandbox, COFFEE_APPID) == 1, timeout=30)
        # Raises (manage() checks the exit status) if a write waited out the busy timeout,
        # one second here against the refresh's eight at WeChat.
        other = sqlite_stack.seed_expired_authorizer(
            BOOKS_APPID, AUTHORIZER_TOKEN_LOCK_TIMEOUT_SECONDS="1"
        )
        _, err = refresh.communicate(timeout=60)
    finally:
        refresh.kill()
    assert refresh.returncode == 0, err[-3000:]
    assert other["authorizer_id"] != seeded["authorizer_id"]
    assert refresh_calls(wechat_sandbox, COFFEE_APPID) == 1


_REVOKE = """
from authorizers.models import ApiKey
from authorizers.services.api_keys import api_key_revoke

for api_key in ApiKey.objects.all():
    api_key_revoke(api_key=api_key)
"""


def test_a_key_revoked_in_one_process_fails_at_once_in_every_web_process(
    sqlite_stack, wechat_sandbox
):
    """The embedded default caches keys and accounts (files every process shares): a key
    revoked elsewhere (here a third process, as the admin would) must not live on in any
    worker's cache."""
    seeded = sqlite_stack.seed_expired_authorizer(COFFEE_APPID)
    webs = [sqlite_stack.web_process(f"web-{n}") for n in range(2)]
    headers = {"Authorization": f"Bearer {seeded['api_key']}"}
    openid = demo_openids(COFFEE_APPID)[0]
    try:
        for web in webs:
            web.start()
        urls = [f"{w.url}/api/v1/authorizers/{COFFEE_APPID}/users/{openid}/tags" for w in webs]
        for url in urls * 2:  # filled, then served from the cache
            assert requests.get(url, headers=headers, timeout=60).status_code == 200
        sqlite_stack.manage("shell", "-v", "0", "-c", _REVOKE)
        statuses = [requests.get(url, headers=headers, timeout=60).status_code for url in urls]
        assert statuses == [401, 401]
    finally:
        for web in webs:
            web.stop()
