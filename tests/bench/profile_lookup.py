"""The service's own CPU per lookup, in process, against the floor's, in the same run.

    python -m tests.bench.profile_lookup [--lookups 1000] [--rounds 8] [--profile FILE]

No gunicorn and no load generator: the product's WSGI application and the floor's
(tests/bench/floor_app.py) are called in this process, one lookup at a time, against the
sandbox at 0 ms latency, on a scratch PostgreSQL database and the Redis of REDIS_URL. What
is measured is this process's CPU time per lookup (the best of `--rounds`, so a busy machine
inflates it least), the Redis round trips per lookup, and, with `--profile`, a cProfile dump
of the service's lookups (`python -m pstats FILE`). This is the figure to watch while
changing the hot path: each lever's effect shows here before it is worth a `make bench`.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests

from tests.bench import tags_support as support
from tests.bench.scratch_db import scratch_database_url

DB_NAME = "bench_profile"


def _environ(path: str, raw_key: str) -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_AUTHORIZATION": f"Bearer {raw_key}",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }


def _caller(application, path: str, raw_key: str) -> Callable[[], None]:
    status: list[str] = []

    def start_response(line: str, headers: list, exc_info=None) -> None:
        status.append(line)

    def call() -> None:
        status.clear()
        b"".join(application(_environ(path, raw_key), start_response))
        if not status[0].startswith("200"):
            raise RuntimeError(f"lookup answered {status[0]}")

    return call


def _cpu_per_call(call: Callable[[], None], lookups: int) -> float:
    for _ in range(min(100, lookups)):
        call()
    started = time.process_time()
    for _ in range(lookups):
        call()
    return (time.process_time() - started) / lookups


def _redis_round_trips(call: Callable[[], None], lookups: int = 100) -> float:
    import redis.connection

    sent = 0
    original = redis.connection.AbstractConnection.send_packed_command

    def counting(self, *args, **kwargs):
        nonlocal sent
        sent += 1
        return original(self, *args, **kwargs)

    redis.connection.AbstractConnection.send_packed_command = counting
    try:
        for _ in range(lookups):
            call()
    finally:
        redis.connection.AbstractConnection.send_packed_command = original
    return sent / lookups


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lookups", type=int, default=1000, help="per round and path")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--profile", type=Path, help="write a cProfile dump of the service")
    args = parser.parse_args(argv)

    env = {
        **os.environ,
        "DATABASE_URL": scratch_database_url(DB_NAME, fresh=True),
        "DJANGO_SETTINGS_MODULE": "platform_app.settings",
        "DJANGO_DEBUG": "0",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "DJANGO_SECRET_KEY": "profile-" + "x" * 50,
        "ALLOW_DEMO_WECHAT_CREDENTIALS": "1",
    }
    if not os.environ.get("FIELD_ENCRYPTION_KEYS"):
        from cryptography.fernet import Fernet

        env["FIELD_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    port = support._free_port()
    sandbox = support._spawn(
        [sys.executable, "manage.py", "wechat_sandbox", "--port", str(port), "--latency-ms", "0"],
        env, support.ROOT / "var" / "bench-profile-sandbox.log", "listening",
    )  # fmt: skip
    try:
        sandbox_url = f"http://127.0.0.1:{port}"
        env["WECHAT_API_BASE"] = env["WECHAT_MP_BASE"] = sandbox_url
        os.environ.update(env)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        authorizer, raw_key = support._onboard(sandbox_url)
        summary = requests.get(f"{sandbox_url}/sandbox/authorizers/{support.COFFEE}", timeout=5)
        body = summary.json()
        openid = next(iter(body.get("openids") or body["authorizer"]["openids"]))
        path = f"/api/v1/authorizers/{authorizer.appid}/users/{openid}/tags"
        os.environ.update(
            FLOOR_SANDBOX_URL=sandbox_url,
            FLOOR_ACCESS_TOKEN=authorizer.access_token,
            FLOOR_APPID=authorizer.appid,
            FLOOR_API_KEY=raw_key,
        )
        from platform_app.wsgi import application as service_app
        from tests.bench.floor_app import application as floor_app

        service = _caller(service_app, path, raw_key)
        floor = _caller(floor_app, path, raw_key)
        best = {"service": float("inf"), "floor": float("inf")}
        for _ in range(args.rounds):  # interleaved: both see the same machine
            best["service"] = min(best["service"], _cpu_per_call(service, args.lookups))
            best["floor"] = min(best["floor"], _cpu_per_call(floor, args.lookups))
        trips = _redis_round_trips(service) if os.environ.get("REDIS_URL") else 0.0
        print(
            f"CPU per lookup in process (best of {args.rounds} x {args.lookups}): "
            f"service {best['service'] * 1e6:.0f} us, floor {best['floor'] * 1e6:.0f} us, "
            f"ratio {best['service'] / best['floor']:.2f}x; "
            f"Redis round trips per service lookup: {trips:.2f}"
        )
        if args.profile:
            profiler = cProfile.Profile()
            profiler.runcall(lambda: [service() for _ in range(args.lookups)])
            profiler.dump_stats(args.profile)
            print(f"cProfile of {args.lookups} service lookups: {args.profile}")
    finally:
        support._stop(sandbox)
    return 0


if __name__ == "__main__":
    sys.exit(main())
