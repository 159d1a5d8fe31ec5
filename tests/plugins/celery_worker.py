"""A real Celery worker (prefork, subprocess) on the real broker, against the test database.

def test_sweep(celery_worker, wechat_api):
    worker = celery_worker(concurrency=2)
    authorizer_tokens_sweep.delay()
    wait_until(lambda: ...)

The worker gets the test database (pytest-django's, by name), the broker and cache of this
test run (CELERY_BROKER_URL, REDIS_URL from the environment) and WECHAT_API_BASE of the
test's sandbox. The queue is purged before it starts; it is stopped (warm, then killed)
after the test. Needs PostgreSQL and Redis: skipped on the SQLite / memory fallbacks.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CELERY = ROOT / ".venv" / "bin" / "celery"


def wait_until(predicate: Callable[[], object], timeout: float = 15.0, interval: float = 0.05):
    """Poll until predicate() is truthy; return its value or fail with the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def _database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    if s["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("a real worker needs PostgreSQL (the test database must be shared)")
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class CeleryWorker:
    def __init__(self, process: subprocess.Popen, log_path: Path, name: str) -> None:
        self.process = process
        self.log_path = log_path
        self.name = name

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def child_pids(self) -> list[int]:
        """The pool's worker processes (the prefork children of the main process)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        with contextlib.suppress(OSError):
            return [int(pid) for pid in children.read_text().split()]
        return []

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # warm shutdown: finish the running tasks
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)


@pytest.fixture
def celery_worker(transactional_db, wechat_api, tmp_path) -> Iterator[Callable[..., CeleryWorker]]:
    """Factory: celery_worker(concurrency=2, env={...}) starts a worker and waits until ready."""
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis://"):
        pytest.skip("a real worker needs the Redis broker (CELERY_BROKER_URL)")
    from platform_app.celery import app

    database_url = _database_url()
    started: list[CeleryWorker] = []

    def start(*, concurrency: int = 2, env: dict[str, str] | None = None) -> CeleryWorker:
        if not started:
            app.control.purge()
        name = f"test-{uuid.uuid4().hex[:8]}@%h"
        log_path = tmp_path / f"worker-{len(started)}.log"
        worker_env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DATABASE_CONN_MAX_AGE": "0",
            "WECHAT_API_BASE": wechat_api.base_url,
            "WECHAT_MP_BASE": wechat_api.base_url,
            "WECHAT_BACKOFF_BASE": "0.01",
            "WECHAT_BACKOFF_MAX": "0.05",
            "AUTHORIZER_REFRESH_RETRY_BACKOFF_SECONDS": "0.2",
            "AUTHORIZER_REFRESH_RETRY_BACKOFF_MAX_SECONDS": "1",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        worker_env.pop("TEST_DATABASE_NAME", None)
        command = [
            str(CELERY), "-A", "platform_app", "worker", "-P", "prefork", "-c", str(concurrency),
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "-n", name, "--loglevel", "INFO",
        ]  # fmt: skip
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=worker_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: teardown can kill all of it
            )
        worker = CeleryWorker(process, log_path, name)
        started.append(worker)
        try:
            wait_until(lambda: " ready." in worker.log or process.poll() is not None, 30)
        finally:
            if process.poll() is not None:
                sys.stderr.write(worker.log)
        assert process.poll() is None, "the worker exited during startup"
        wait_until(lambda: len(worker.child_pids()) >= concurrency, 10)
        return worker

    yield start
    for worker in started:
        worker.stop()
    if started:
        app.control.purge()
    # Connections the worker left behind must not block the test database's teardown.
    from django.db import connection

    connection.close()
