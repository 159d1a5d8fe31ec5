"""The web app as its own process (gunicorn, one worker with threads) against the test
database, the test run's Redis and the test's sandbox: something a test can SIGKILL."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
from pathlib import Path

import requests

from tests.plugins.celery_worker import ROOT, _database_url, wait_until

GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class WebProcess:
    def __init__(self, sandbox, log_dir: Path, port: int | None = None) -> None:
        self.sandbox = sandbox
        self.log_dir = log_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def environment(self) -> dict[str, str]:
        """The process's environment: the test database and Redis, the test's sandbox."""
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "DATABASE_CONN_MAX_AGE": "0",
            "WECHAT_API_BASE": self.sandbox.base_url,
            "WECHAT_MP_BASE": self.sandbox.base_url,
            "WECHAT_BACKOFF_BASE": "0.01",
            "WECHAT_BACKOFF_MAX": "0.05",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("TEST_DATABASE_NAME", None)
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        return env

    def start(self) -> WebProcess:
        env = self.environment()
        self.starts += 1
        log = (self.log_dir / f"web-{self.starts}.log").open("wb")
        command = [
            str(GUNICORN), "platform_app.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
            "--workers", "1", "--threads", "8", "--worker-class", "gthread",
            "--timeout", "60", "--no-control-socket",
        ]  # fmt: skip
        # Its own process group: kill_all() takes the master and its workers at once.
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        wait_until(self._ready, timeout=30, interval=0.1)
        return self

    def _ready(self) -> bool:
        assert self.process is not None and self.process.poll() is None, self.log
        with contextlib.suppress(requests.RequestException):
            return requests.get(self.url + "/healthz", timeout=1).status_code == 200
        return False

    @property
    def log(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("web-*")))

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        with contextlib.suppress(OSError):
            return [int(pid) for pid in path.read_text().split()]
        return []

    def kill_all(self) -> None:
        """SIGKILL the master and its workers at once: no shutdown code runs anywhere."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        # Workers reparented to init die with the group; make sure the port is free again.
        wait_until(lambda: not self._listening(), timeout=10)

    def _listening(self) -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
