"""The world bench_tags measures: scratch database, sandbox and gunicorn subprocesses (the
product, and the bare-proxy floor of tests/bench/floor_app.py), one merchant with Demo Coffee
onboarded through the real flow.

Two databases: "postgres" (a scratch PostgreSQL database on the server of DATABASE_URL, and
the Redis of REDIS_URL) and "embedded" (the default `make run` uses: a SQLite file, no Redis,
so local-memory caches, and the SQLAlchemy/SQLite broker; here under var/, fresh each run).
Django is set up once per process, so one process measures one database."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import requests

from tests.bench.scratch_db import scratch_database_url, server_conninfo

if TYPE_CHECKING:
    from wechatpy import WeChatClient

ROOT = Path(__file__).resolve().parents[2]
# Concurrent runs on one server (TEST_DATABASE_NAME set per checkout) must not drop each
# other's scratch database.
DB_NAME = f"{os.environ.get('TEST_DATABASE_NAME') or 'bench'}_tags"
COFFEE = "wx1000000000000002"
DATABASES = ("postgres", "embedded")


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


def _tree_cpu(pid: int) -> float:
    return _cpu(pid) + sum(_cpu(child) for child in _children(pid))


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


@dataclass
class World:
    database: str
    sandbox_url: str
    api_base: str
    floor_base: str
    appid: str
    api_key: str
    access_token: str
    openids: list[str]
    processes: list[subprocess.Popen] = field(default_factory=list)

    def wechatpy_client(self) -> WeChatClient:
        from wechatpy import WeChatClient

        client = WeChatClient(self.appid, "unused-secret", access_token=self.access_token)
        client.API_BASE_URL = self.sandbox_url + "/cgi-bin/"
        return client

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far by the sandbox, the service's and the floor's gunicorn
        (master and workers) and this process (the load generator)."""
        sandbox, service, floor = self.processes
        return {
            "sandbox": _cpu(sandbox.pid),
            "service": _tree_cpu(service.pid),
            "floor": _tree_cpu(floor.pid),
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
    from authorizers.services.onboarding.authorization import authorization_complete
    from authorizers.services.sync import authorizer_sync_info
    from component.client import ComponentClient
    from component.services.token import component_ticket_store

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


def _database_env(database: str) -> dict[str, str]:
    if database == "postgres":
        return {"DATABASE_URL": scratch_database_url(DB_NAME, fresh=True)}
    if database != "embedded":
        raise ValueError(f"unknown database {database!r}")
    # What `make run` gets when nothing is set (platform_app/settings: database.py, cache.py,
    # celery.py), with its files moved to scratch paths and the production guard's SQLite
    # refusal lifted as the Makefile's EMBEDDED_ENV does. Two gunicorn workers share the file.
    var = ROOT / "var"
    sqlite = var / f"{DB_NAME}-embedded.sqlite3"
    broker = var / f"{DB_NAME}-embedded-broker.sqlite3"
    cache_dir = var / f"{DB_NAME}-embedded-cache"
    shutil.rmtree(cache_dir, ignore_errors=True)
    for path in (sqlite, broker):
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
    return {
        "DATABASE_URL": f"sqlite:///{sqlite}",
        "REDIS_URL": "",
        "CACHE_DIR": str(cache_dir),
        "CELERY_BROKER_URL": f"sqla+sqlite:///{broker}",
        "ALLOW_SQLITE_IN_PRODUCTION": "1",
    }


def start(*, database: str, latency_ms: float, workers: int, threads: int) -> World:
    """Sandbox, product and floor running, the demo merchant onboarded. Call once a process:
    Django is set up here, with `database`'s settings."""
    var = ROOT / "var"
    var.mkdir(exist_ok=True)
    env = {
        **os.environ,
        **_database_env(database),
        "DJANGO_SETTINGS_MODULE": "platform_app.settings",
        "DJANGO_DEBUG": "0",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(40),
        # A fresh sandbox and database each run: cached component tokens, API keys and
        # authorizer rows of an earlier run (same Redis) must not be found.
        "CACHE_KEY_PREFIX": f"bench-tags-{secrets.token_hex(4)}",
    }
    if not os.environ.get("FIELD_ENCRYPTION_KEYS"):
        from cryptography.fernet import Fernet

        env["FIELD_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    python = str(ROOT / ".venv" / "bin" / "python")
    sandbox_port = _free_port()
    sandbox = _spawn(
        [python, "manage.py", "wechat_sandbox", "--port", str(sandbox_port),
         "--latency-ms", str(latency_ms)],
        env, var / f"bench-tags-{database}-sandbox.log", "listening",
    )  # fmt: skip
    try:
        return _start_product(
            database, env, sandbox, sandbox_port, workers=workers, threads=threads
        )
    except BaseException:
        _stop(sandbox)
        raise


def _start_product(
    database: str,
    env: dict[str, str],
    sandbox: subprocess.Popen,
    sandbox_port: int,
    *,
    workers: int,
    threads: int,
) -> World:
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    env["WECHAT_API_BASE"] = env["WECHAT_MP_BASE"] = sandbox_url
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    authorizer, raw_key = _onboard(sandbox_url)
    # This process's SQLite connection must not sit on the file the workers share.
    connections.close_all()
    processes = [sandbox]
    pool = {"workers": workers, "threads": threads}
    try:
        api_port = _free_port()
        log = f"bench-tags-{database}-gunicorn.log"
        service = _spawn_gunicorn("platform_app.wsgi", env, api_port, log, **pool)
        processes.append(service)
        floor_port = _free_port()
        floor_env = {
            **env,
            "FLOOR_SANDBOX_URL": sandbox_url,
            "FLOOR_ACCESS_TOKEN": authorizer.access_token,
            "FLOOR_APPID": authorizer.appid,
            "FLOOR_API_KEY": raw_key,
        }
        log = f"bench-tags-{database}-floor.log"
        floor = _spawn_gunicorn(
            "tests.bench.floor_app:application", floor_env, floor_port, log, **pool
        )
        processes.append(floor)
        return _world(database, sandbox_url, api_port, floor_port, authorizer, raw_key, processes)
    except BaseException:
        for process in reversed(processes[1:]):
            _stop(process)
        raise


def _spawn_gunicorn(
    app: str, env: dict[str, str], port: int, log: str, *, workers: int, threads: int
) -> subprocess.Popen:
    # The service and the floor get exactly these settings: only the application differs.
    return _spawn(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), app,
         "-b", f"127.0.0.1:{port}", "-k", "gthread", "-w", str(workers),
         "--threads", str(threads), "--backlog", "512", "--no-control-socket"],
        env, ROOT / "var" / log, "Booting worker",
    )  # fmt: skip


def _wait_http(url: str) -> None:
    """Until `url` answers at all (any status): the workers are accepting."""
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(url, timeout=10)
            return
        except (requests.ConnectionError, requests.Timeout):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _world(
    database: str,
    sandbox_url: str,
    api_port: int,
    floor_port: int,
    authorizer,
    raw_key: str,
    processes: list[subprocess.Popen],
) -> World:
    api_base = f"http://127.0.0.1:{api_port}"
    floor_base = f"http://127.0.0.1:{floor_port}"
    _wait_http(api_base + "/healthz")
    _wait_http(floor_base + "/")
    summary = requests.get(f"{sandbox_url}/sandbox/authorizers/{COFFEE}", timeout=5).json()
    openids = list(summary.get("openids") or summary["authorizer"]["openids"])
    return World(
        database=database,
        sandbox_url=sandbox_url,
        api_base=api_base,
        floor_base=floor_base,
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
    """Queries (and writes) on a warm lookup's request path, in this process; on PostgreSQL
    also the transactions the server saw per lookup served by gunicorn."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {world.api_key}", HTTP_HOST="127.0.0.1")
    url = f"/api/v1/authorizers/{world.appid}/users/{world.openids[0]}/tags"
    client.get(url)  # warm this process's caches
    from merchant_api.call_log import api_call_log_flush

    api_call_log_flush()
    samples, counts, writes = 50, [], []
    for _ in range(samples):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
        writes.append(sum(q["sql"].startswith(("INSERT", "UPDATE", "DELETE")) for q in queries))
    with CaptureQueriesContext(connection) as flushed:
        api_call_log_flush()
    result = {
        "samples": samples,
        "app_queries": sum(counts) / samples,
        "app_writes": sum(writes) / samples,
        "flush_queries": sum(q["sql"].startswith("INSERT") for q in flushed),
        # What decides whether a warm lookup reads the database at all.
        "api_key_cache_seconds": settings.API_KEY_CACHE_SECONDS,
        "authorizer_cache_seconds": settings.API_AUTHORIZER_CACHE_SECONDS,
    }
    if connection.vendor != "postgresql":
        return result
    import psycopg

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
    return {**result, "pg_samples": pg_samples, "pg_per_lookup": pg_per_lookup}
