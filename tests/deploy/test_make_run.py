"""`make run`'s processes, started as it starts them, in a temporary copy of the repo.

The default run needs no server (SQLite, kombu's SQLAlchemy broker); a second run uses
PostgreSQL and Redis as production does and waits for beat to schedule a token refresh.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
CURL_LINE = re.compile(r"(curl -s -H .*)$", re.MULTILINE)

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _copy_repo(target: Path) -> None:
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in files:
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    # The same installed environment `make install` would build, without reinstalling.
    (target / ".venv").symlink_to(Path(sys.prefix))


class DemoRun:
    def __init__(self, workdir: Path, extra_env: dict[str, str]) -> None:
        self.workdir = workdir.resolve()
        self.web_port, self.sandbox_port = _free_port(), _free_port()
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DATABASE_URL", "REDIS_URL", "CELERY_", "DJANGO_", "FIELD_"))
        }
        env.update(
            DEMO_WEB_PORT=str(self.web_port),
            DEMO_SANDBOX_PORT=str(self.sandbox_port),
            PYTHONUNBUFFERED="1",
            **extra_env,
        )
        self.log_path = workdir / "run.log"
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [str(workdir / ".venv" / "bin" / "python"), "scripts/run_demo.py"],
            cwd=workdir,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_curl(self, timeout: float = 180) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = CURL_LINE.search(self.output())
            if match:
                return match.group(1)
            assert self.process.poll() is None, self.output()[-4000:]
            time.sleep(0.5)
        raise AssertionError("no curl line printed:\n" + self.output()[-4000:])

    def stop(self) -> int | None:
        # Ctrl-C in a terminal reaches honcho, which stops every process it started.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            return None

    def processes(self) -> list[int]:
        """Every live process working in the copy (honcho gives each child its own session,
        so the process group alone would miss them)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                if Path(os.readlink(entry / "cwd")).is_relative_to(self.workdir):
                    found.append(int(entry.name))
        return found

    def all_gone(self, timeout: float = 30) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.processes():
                return True
            time.sleep(0.5)
        return False

    def cleanup(self) -> None:
        for pid in [self.process.pid, *self.processes()]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            self.process.wait(timeout=5)
        self.log.close()


def _run_curl(line: str) -> dict:
    import json

    result = subprocess.run(shlex.split(line), capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _plain_shell_env() -> dict[str, str]:
    """A new terminal in the clone: none of the demo's or the test suite's settings."""
    demo_keys = ("DJANGO_", "DATABASE_URL", "REDIS_URL", "CELERY_", "FIELD_", "ALLOW_", "CACHE_",
                 "PUBLIC_BASE_URL", "WECHAT_", "TEST_", "DEMO_")  # fmt: skip
    return {k: v for k, v in os.environ.items() if not k.startswith(demo_keys)}


def _readme_commands_work_beside_the_demo(run: DemoRun) -> None:
    """README's commands, typed in another shell while `make run` runs (no DJANGO_DEBUG)."""
    python, env = str(run.workdir / ".venv" / "bin" / "python"), _plain_shell_env()
    created = subprocess.run(
        [python, "manage.py", "create_merchant", "Acme Coffee"],
        cwd=run.workdir, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "Traceback" not in created.stderr, created.stderr
    invite = re.search(r"http://\S+/authorize/\S+/", created.stdout)
    assert invite, created.stdout
    assert invite.group(0).startswith(f"http://127.0.0.1:{run.web_port}/"), created.stdout
    assert requests.get(invite.group(0), timeout=10).status_code == 200  # the demo's database

    port = _free_port()
    callback = f"http://127.0.0.1:{run.web_port}/wechat/component/events/"
    sandbox = subprocess.Popen(
        [python, "manage.py", "wechat_sandbox", "--port", str(port), "--callback", callback],
        cwd=run.workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        state = None
        for _ in range(120):
            if sandbox.poll() is not None:
                break
            with contextlib.suppress(requests.ConnectionError):
                state = requests.get(f"http://127.0.0.1:{port}/sandbox/state", timeout=5)
                break
            time.sleep(0.5)
        assert state is not None and state.status_code == 200, sandbox.communicate()[0]
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)

    # Production chosen explicitly: the guard's refusal is one line naming the settings.
    refused = subprocess.run(
        [python, "manage.py", "check"], cwd=run.workdir, env={**env, "DJANGO_DEBUG": "0"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "Traceback" not in refused.stderr, refused.stderr
    # (before it: the settings' RuntimeWarnings about the development key, two lines each)
    [line] = [text for text in refused.stderr.splitlines() if "Refusing to start" in text]
    assert line.startswith("manage.py: Refusing to start:"), refused.stderr
    assert "DJANGO_SECRET_KEY" in line and "DATABASE_URL" in line


def test_make_run_default_needs_no_server_and_prints_a_working_curl(tmp_path):
    _copy_repo(tmp_path)
    run = DemoRun(tmp_path, {})
    try:
        line = run.wait_for_curl()
        answer = _run_curl(line)
        assert answer["tagid_list"] and answer["tags"], answer
        output = run.output()
        assert "(operator / " in output and "/admin/" in output
        assert (tmp_path / "var" / "db.sqlite3").exists()
        # honcho interleaves every process's output (web, worker, beat, sandbox, demo): the
        # onboarding's browser callback and its `authorized` push race for the same rows,
        # and on SQLite that must be a wait, never an error (SPEC section 9).
        assert "Traceback" not in output, output[-6000:]
        assert "database is locked" not in output, output[-6000:]
        _readme_commands_work_beside_the_demo(run)
        before_stop = len(run.output())
        code = run.stop()
        assert code is not None, "honcho did not stop on Ctrl-C:\n" + run.output()[-3000:]
        assert run.all_gone(), "a demo process outlived Ctrl-C:\n" + run.output()[-3000:]
        # A clean stop: every process ends on honcho's SIGTERM, none is killed after its
        # 5 s wait, and nothing logs an error on the way out.
        shutdown = run.output()[before_stop:]
        assert "SIGKILL" not in shutdown and "ERROR" not in shutdown, shutdown[-3000:]
    finally:
        run.cleanup()


def test_stack_on_postgresql_and_redis_refreshes_tokens_on_schedule(tmp_path):
    from django.db import connection

    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        pytest.skip("needs PostgreSQL and Redis (as in production)")
    import psycopg

    name = f"demo_stack_{os.getpid()}"
    admin = connection.settings_dict
    dsn = f"postgres://{admin['USER']}@{admin['HOST']}:{admin['PORT']}"

    def server_sql(statement: str) -> None:
        with psycopg.connect(f"{dsn}/postgres", autocommit=True) as conn:
            conn.execute(statement)

    server_sql(f'DROP DATABASE IF EXISTS "{name}"')
    server_sql(f'CREATE DATABASE "{name}"')
    redis_db = int(os.environ["REDIS_URL"].rsplit("/", 1)[1])
    _copy_repo(tmp_path)
    run = DemoRun(
        tmp_path,
        {
            "DATABASE_URL": f"{dsn}/{name}",
            "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{redis_db + 1}",
            "CACHE_KEY_PREFIX": name,
            # Tokens live 2 minutes and the sweep runs every 2 s, so beat has work at once.
            "DEMO_SANDBOX_ARGS": "--token-ttl 120",
            "AUTHORIZER_SWEEP_INTERVAL": "2",
        },
    )
    try:
        _run_curl(run.wait_for_curl())
        state_url = f"http://127.0.0.1:{run.sandbox_port}/sandbox/state"
        deadline = time.monotonic() + 60
        refreshes = 0
        while time.monotonic() < deadline and refreshes < 1:
            state = requests.get(state_url, timeout=5).json()
            refreshes = state["counters"]["by_endpoint"].get(
                "/cgi-bin/component/api_authorizer_token", 0
            )
            time.sleep(1)
        assert refreshes >= 1, "beat never scheduled a refresh:\n" + run.output()[-3000:]
        assert "authorizer_tokens_sweep" in run.output()
    finally:
        run.stop()
        run.cleanup()
        server_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
