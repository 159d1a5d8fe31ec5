"""Webhook delivery at scale: 10,000 events to 100 endpoints on loopback, through the real
outbox, fan-out and delivery tasks on a real worker.

    python -m tests.bench.bench_webhooks [--events N] [--rate PER_SECOND]

100 merchants, one account and one endpoint each, served by a threaded HTTP server in this
process: 80 answer 200 at once, 10 answer 200 after 2 s (slow), 10 answer 500 (failing).
Events are written to the outbox at a steady rate (default 500 a second, spread round-robin
over the accounts, so each endpoint gets 1% of them), each batch followed by its fan-out
task as the commit hook would send it. A worker (`-P threads -c 40`, both queues, Redis
broker, PostgreSQL scratch database `bench_webhooks`) delivers. Measured for the healthy
endpoints: deliveries a second, and the delay from an event's commit to its arrival
(p50/p99). Results go to tests/bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.bench.scratch_db import scratch_database_url

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).with_name("RESULTS.md")
SECTION = "## Webhook delivery"
DB_NAME = os.environ.get("BENCH_WEBHOOKS_DB", "bench_webhooks")
ENDPOINTS, SLOW, FAILING = 100, 10, 10
SLOW_SECONDS = 2.0
WORKER_THREADS = 40


class Arrivals:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.first: dict[str, float] = {}  # webhook-id -> first arrival (time.time())
        self.requests = 0


def _receiver(arrivals: Arrivals) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            now = time.time()
            kind = self.path.split("/")[1]
            with arrivals.lock:
                arrivals.requests += 1
                if kind == "ok":
                    arrivals.first.setdefault(self.headers["webhook-id"], now)
            if kind == "slow":
                time.sleep(SLOW_SECONDS)
            status = 500 if kind == "fail" else 200
            try:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.send_header("Connection", "close")
                self.end_headers()
            except OSError:
                pass

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 256
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _setup(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_app.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _seed(port: int) -> list[tuple[int, int]]:
    """(authorizer id, merchant id) per endpoint; endpoint i's kind by its index."""
    from authorizers.models import Authorizer, Merchant
    from webhooks.services.endpoints import webhook_endpoint_create

    accounts = []
    for index in range(ENDPOINTS):
        kind = (
            "fail"
            if index >= ENDPOINTS - FAILING
            else "slow"
            if index >= ENDPOINTS - FAILING - SLOW
            else "ok"
        )
        merchant = Merchant.objects.create(name=f"Bench {index}")
        authorizer = Authorizer.objects.create(
            merchant=merchant, appid=f"wxbench{index:011d}", permission_sets=[1, 2]
        )
        webhook_endpoint_create(
            merchant_id=merchant.pk, url=f"http://127.0.0.1:{port}/{kind}/{index}"
        )
        accounts.append((authorizer.pk, merchant.pk))
    return accounts


def _start_worker(log_path: Path) -> subprocess.Popen:
    from platform_app.celery import app

    app.control.purge()
    command = [
        str(ROOT / ".venv" / "bin" / "celery"), "-A", "platform_app", "worker",
        "-Q", "celery,webhooks", "-P", "threads", "-c", str(WORKER_THREADS),
        "--without-gossip", "--without-mingle", "--without-heartbeat",
        "-n", f"bench-webhooks-{os.getpid()}@%h", "--loglevel", "WARNING",
    ]  # fmt: skip
    log = log_path.open("wb")
    env = {**os.environ, "DATABASE_CONN_MAX_AGE": "60"}
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while not app.control.ping(timeout=0.5):
        if process.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"worker did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
    return process


def _stop_worker(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def run(events: int, rate: int) -> dict[str, object]:
    _setup(scratch_database_url(DB_NAME, fresh=True))
    from django.utils import timezone

    from authorizers.models import AccountEvent
    from webhooks.models import WebhookDelivery
    from webhooks.tasks import webhook_events_fan_out_task

    arrivals = Arrivals()
    server = _receiver(arrivals)
    accounts = _seed(server.server_address[1])
    healthy_accounts = ENDPOINTS - SLOW - FAILING
    healthy_expected = sum(1 for i in range(events) if i % ENDPOINTS < healthy_accounts)
    worker = _start_worker(ROOT / "var" / "bench-webhooks-worker.log")
    committed: dict[int, float] = {}  # event id -> commit time
    try:
        batch = max(1, rate // 10)
        started = time.time()
        sent = 0
        while sent < events:
            now = timezone.now()
            rows = []
            for i in range(sent, min(events, sent + batch)):
                authorizer_id, merchant_id = accounts[i % ENDPOINTS]
                rows.append(
                    AccountEvent(
                        authorizer_id=authorizer_id,
                        merchant_id=merchant_id,
                        type="authorizer.updated",
                        sequence=i // ENDPOINTS + 1,
                        data={
                            "appid": f"wxbench{i % ENDPOINTS:011d}",
                            "sequence": i // ENDPOINTS + 1,
                        },
                        created_at=now,
                    )
                )
            created = AccountEvent.objects.bulk_create(rows)
            at = time.time()
            for row in created:
                committed[row.pk] = at
            webhook_events_fan_out_task.delay([row.pk for row in created])
            sent += len(rows)
            pause = started + sent / rate - time.time()
            if pause > 0:
                time.sleep(pause)
        emitted = time.time() - started
        deadline = time.time() + 600
        while len(arrivals.first) < healthy_expected and time.time() < deadline:
            time.sleep(0.2)
        finished = time.time()
    finally:
        _stop_worker(worker)
        server.shutdown()
    healthy = WebhookDelivery.objects.filter(endpoint__url__contains="/ok/")
    delays = [
        arrivals.first[msg_id] - committed[event_id]
        for msg_id, event_id in healthy.values_list("msg_id", "event_id")
        if msg_id in arrivals.first
    ]
    delays.sort()
    slow_done = WebhookDelivery.objects.filter(
        endpoint__url__contains="/slow/", status="succeeded"
    ).count()
    failing_tried = WebhookDelivery.objects.filter(
        endpoint__url__contains="/fail/", attempts__gt=0
    ).count()
    last = max(arrivals.first.values()) if arrivals.first else finished
    return {
        "events": events,
        "rate": rate,
        "emitted_seconds": emitted,
        "healthy_expected": healthy_expected,
        "healthy_delivered": len(arrivals.first),
        "healthy_per_second": len(arrivals.first) / (last - started),
        "p50": statistics.median(delays) if delays else float("nan"),
        "p99": delays[int(len(delays) * 0.99) - 1] if delays else float("nan"),
        "max": delays[-1] if delays else float("nan"),
        "slow_done": slow_done,
        "failing_tried": failing_tried,
        "requests": arrivals.requests,
        "wall": last - started,
    }


def _report(r: dict[str, object]) -> str:
    return "\n".join(
        [
            SECTION,
            "",
            f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores "
            f"({platform.python_implementation()} {platform.python_version()}), "
            f"`python -m tests.bench.bench_webhooks`; load average at the end "
            f"{os.getloadavg()[0]:.1f}.",
            f"{r['events']:,} events written to the outbox at {r['rate']} a second over 100 "
            "accounts of 100 merchants, one endpoint each on loopback: "
            f"{ENDPOINTS - SLOW - FAILING} answer 200 at once, {SLOW} after "
            f"{SLOW_SECONDS:.0f} s, {FAILING} answer 500. One "
            f"worker `-P threads -c {WORKER_THREADS}` on both queues (Redis broker, PostgreSQL); "
            "per-endpoint concurrency 2.",
            "",
            "| metric | value |",
            "|---|---|",
            f"| healthy deliveries arrived | {r['healthy_delivered']:,} / "
            f"{r['healthy_expected']:,} |",
            f"| events written in | {r['emitted_seconds']:.1f} s |",
            "| healthy deliveries per second (first event → last arrival) | "
            f"{r['healthy_per_second']:.0f} |",
            f"| delay, commit → arrival, healthy endpoints: p50 / p99 / max | "
            f"{r['p50'] * 1000:.0f} ms / {r['p99'] * 1000:.0f} ms / {r['max'] * 1000:.0f} ms |",
            f"| slow endpoints' deliveries done meanwhile | {r['slow_done']:,} "
            f"(2 in flight each, {SLOW_SECONDS:.0f} s per answer) |",
            "| failing endpoints' deliveries tried (then waiting to retry) | "
            f"{r['failing_tried']:,} |",
            f"| HTTP requests received in all | {r['requests']:,} |",
            "",
        ]
    )


def _write(section: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text.rstrip("\n") + "\n")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=500)
    args = parser.parse_args()
    result = run(args.events, args.rate)
    section = _report(result)
    print(section)
    _write(section)
    return 0 if result["healthy_delivered"] == result["healthy_expected"] else 1


if __name__ == "__main__":
    sys.exit(main())
