"""The world bench_tags measures: scratch database, sandbox and gunicorn subprocesses, one
merchant with Demo Coffee onboarded through the real flow."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

from tests.bench.scratch_db import scratch_database_url, server_conninfo

ROOT = Path(__file__).resolve().parents[2]
DB_NAME = "bench_tags"
COFFEE = "wx1000000000000002"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _spawn(command: list[str], env: dict[str, str], log: Path, ready: str) -> subprocess.Popen:
    handle = log.open("wb")
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while ready not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"{command[0]} did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)
    return process


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


@dataclass
class World:
    sandbox_url: str
    api_base: str
    appid: str
    api_key: str
    access_token: str
    openids: list[str]
    processes: list[subprocess.Popen] = field(default_factory=list)

    def wechatpy_client(self):
        from wechatpy import WeChatClient

        client = WeChatClient(self.appid, "unused-secret", access_token=self.access_token)
        client.API_BASE_URL = self.sandbox_url + "/cgi-bin/"
        return client

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far by the sandbox and by gunicorn (master and workers)."""
        sandbox, gunicorn = self.processes
        workers = _children(gunicorn.pid)
        return {
            "sandbox": _cpu(sandbox.pid),
            "gunicorn": _cpu(gunicorn.pid) + sum(_cpu(pid) for pid in workers),
            "self": sum(os.times()[:2]),
        }

    def stop(self) -> None:
        for process in reversed(self.processes):
            _stop(process)


def _onboard(sandbox_url: str):
    """Ticket as a push would store it, then the browser flow: pre_auth_code, consent, code."""
    from django.utils import timezone

    from authorizers.models import Merchant
    from authorizers.services.api_keys import api_key_create
    from authorizers.services.authorization import authorization_complete
    from authorizers.services.sync import authorizer_sync_info
    from platform_app.component.client import ComponentClient
    from platform_app.component.services.token import component_ticket_store

    ticket = requests.get(sandbox_url + "/sandbox/state", timeout=5).json()["component"]["ticket"]
    component_ticket_store(ticket=ticket, received_at=timezone.now())
    merchant = Merchant.objects.create(name="Benchmark")
    pre_auth_code = ComponentClient().create_preauthcode()["pre_auth_code"]
    page = requests.get(
        sandbox_url + "/cgi-bin/componentloginpage",
        params={
            "component_appid": "wx0demo0component01",
            "pre_auth_code": pre_auth_code,
            "redirect_uri": "http://127.0.0.1/callback",
            "auth_type": 1,
        },
        allow_redirects=False,
        timeout=5,
    )
    code = parse_qs(urlsplit(page.headers["Location"]).query)["auth_code"][0]
    authorizer = authorization_complete(merchant=merchant, authorization_code=code)
    authorizer = authorizer_sync_info(authorizer_id=authorizer.pk)
    api_key, raw_key = api_key_create(merchant=merchant, name="bench")
    # The limiter still runs on every request; it just must not refuse the benchmark.
    api_key.rate_limit_burst = api_key.rate_limit_per_minute = 100_000_000
    api_key.save()
    authorizer.refresh_from_db()
    return authorizer, raw_key


def start(*, latency_ms: float, workers: int, threads: int) -> World:
    database_url = scratch_database_url(DB_NAME, fresh=True)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "platform_app.settings",
        "DJANGO_DEBUG": "0",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(40),
    }
    if not os.environ.get("FIELD_ENCRYPTION_KEYS"):
        from cryptography.fernet import Fernet

        env["FIELD_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    var = ROOT / "var"
    var.mkdir(exist_ok=True)
    python = str(ROOT / ".venv" / "bin" / "python")
    sandbox_port = _free_port()
    sandbox = _spawn(
        [python, "manage.py", "wechat_sandbox", "--port", str(sandbox_port),
         "--latency-ms", str(latency_ms)],
        env, var / "bench-tags-sandbox.log", "listening",
    )  # fmt: skip
    try:
        return _start_product(env, sandbox, sandbox_port, workers=workers, threads=threads)
    except BaseException:
        _stop(sandbox)
        raise


def _start_product(
    env: dict[str, str], sandbox: subprocess.Popen, sandbox_port: int, *, workers: int, threads: int
) -> World:
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    env["WECHAT_API_BASE"] = env["WECHAT_MP_BASE"] = sandbox_url
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    authorizer, raw_key = _onboard(sandbox_url)
    api_port = _free_port()
    gunicorn = _spawn_gunicorn(env, api_port, workers=workers, threads=threads)
    try:
        return _world(sandbox_url, api_port, authorizer, raw_key, [sandbox, gunicorn])
    except BaseException:
        _stop(gunicorn)
        raise


def _spawn_gunicorn(env: dict[str, str], api_port: int, *, workers: int, threads: int):
    var = ROOT / "var"
    return _spawn(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "platform_app.wsgi",
         "-b", f"127.0.0.1:{api_port}", "-k", "gthread", "-w", str(workers),
         "--threads", str(threads), "--backlog", "512", "--no-control-socket"],
        env, var / "bench-tags-gunicorn.log", "Booting worker",
    )  # fmt: skip


def _world(sandbox_url: str, api_port: int, authorizer, raw_key: str, processes) -> World:
    api_base = f"http://127.0.0.1:{api_port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(api_base + "/healthz", timeout=10)
            break
        except (requests.ConnectionError, requests.Timeout):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    summary = requests.get(f"{sandbox_url}/sandbox/authorizers/{COFFEE}", timeout=5).json()
    openids = list(summary.get("openids") or summary["authorizer"]["openids"])
    return World(
        sandbox_url=sandbox_url,
        api_base=api_base,
        appid=authorizer.appid,
        api_key=raw_key,
        access_token=authorizer.access_token,
        openids=openids,
        processes=processes,
    )


def _calls(world: World, endpoint: str) -> int:
    state = requests.get(world.sandbox_url + "/sandbox/state", timeout=5).json()
    by_endpoint = state["counters"]["by_endpoint"]
    return sum(n for path, n in by_endpoint.items() if path.endswith(endpoint))


def _getidlist_calls(world: World) -> int:
    return _calls(world, "/tags/getidlist")


def bulk_vs_sequential(world: World) -> dict[str, object]:
    from django.conf import settings

    # 1,000 followers of the account (SPEC 10: at most ceil(n/100) calls when all follow).
    add = 1000 - len(world.openids)
    if add > 0:
        requests.post(
            f"{world.sandbox_url}/sandbox/authorizers",
            json={"authorizer_appid": world.appid, "add_followers": add},
            timeout=10,
        ).raise_for_status()
    summary = requests.get(f"{world.sandbox_url}/sandbox/authorizers/{world.appid}", timeout=5)
    body = summary.json()
    openids = list(body.get("openids") or body["authorizer"]["openids"])[:1000]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {world.api_key}"
    url = f"{world.api_base}/api/v1/authorizers/{world.appid}/users/tags"
    session.post(url, json={"openids": openids[:50]}, timeout=60)  # warm
    before = _calls(world, "/cgi-bin/user/info/batchget"), _getidlist_calls(world)
    started = time.perf_counter()
    response = session.post(url, json={"openids": openids}, timeout=120)
    bulk_s = time.perf_counter() - started
    service_calls = _calls(world, "/cgi-bin/user/info/batchget") - before[0]
    service_getidlist = _getidlist_calls(world) - before[1]
    results = response.json()["results"]

    client = world.wechatpy_client()
    direct = []
    started = time.perf_counter()
    for openid in openids:
        try:
            direct.append(client.tag.get_user_tag(openid))
        except Exception as exc:
            direct.append(getattr(exc, "errcode", None))
    sequential_s = time.perf_counter() - started
    ours = [r.get("tagid_list", r.get("error", {}).get("wechat_errcode")) for r in results]
    return {
        "bulk_s": bulk_s,
        "sequential_s": sequential_s,
        "service_calls": service_calls,
        "service_getidlist_calls": service_getidlist,
        "openids": len(openids),
        "same_answers": ours == direct,
        "concurrency": settings.TAGS_BULK_CONCURRENCY,
    }


def sql_per_lookup(world: World) -> dict[str, object]:
    import psycopg
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {world.api_key}", HTTP_HOST="127.0.0.1")
    url = f"/api/v1/authorizers/{world.appid}/users/{world.openids[0]}/tags"
    client.get(url)  # warm this process's caches
    from platform_app.api.call_log import api_call_log_flush

    api_call_log_flush()
    samples, counts = 50, []
    for _ in range(samples):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    with CaptureQueriesContext(connection) as flushed:
        api_call_log_flush()

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {world.api_key}"
    served = f"{world.api_base}{url}"
    for _ in range(20):
        session.get(served, timeout=10)  # every worker thread warm

    conninfo = server_conninfo(connection.settings_dict)

    def transactions() -> int:
        time.sleep(1.5)  # PostgreSQL publishes backend statistics about once a second
        with psycopg.connect(**conninfo) as conn:
            row = conn.execute(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
                [DB_NAME],
            ).fetchone()
        return int(row[0])

    pg_samples = 200
    before = transactions()
    for _ in range(pg_samples):
        session.get(served, timeout=10)
    pg_per_lookup = (transactions() - before) / pg_samples
    return {
        "samples": samples,
        "app_queries": sum(counts) / samples,
        "flush_queries": sum(q["sql"].startswith("INSERT") for q in flushed),
        "pg_samples": pg_samples,
        "pg_per_lookup": pg_per_lookup,
    }
