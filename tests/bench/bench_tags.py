"""Tag lookup through the product (gunicorn) vs. the same getidlist calls straight to the sandbox.

    python -m tests.bench.bench_tags [--clients 32] [--requests 4000] [--latency-ms 20]

The sandbox runs as a subprocess (`manage.py wechat_sandbox --latency-ms 20`), the product as
`gunicorn platform_app.wsgi` (DEBUG off, gthread workers) against a scratch PostgreSQL
database `bench_tags` (created and migrated here) and the Redis of REDIS_URL. One demo
merchant onboards Demo Coffee through the real authorization flow.

1. Single lookups: N concurrent clients (threads, one keep-alive session each) call
   GET /api/v1/authorizers/{appid}/users/{openid}/tags, then the same number of getidlist
   calls go straight to the sandbox with wechatpy's WeChatClient. Target: p50 within 1.25x
   of direct, zero errors.
2. Bulk: one POST of 1,000 distinct openids vs. 1,000 sequential wechatpy calls. Target:
   15x faster or more. (The demo account has 6 followers; the other 994 openids are
   well-formed strangers, so WeChat answers them 40003, for both sides alike: each is one
   getidlist call at the injected latency.)
3. SQL per lookup with warm caches: queries on the request path (Django's
   CaptureQueriesContext, in process, same database and sandbox), the batched call-log
   INSERTs, and transactions the server saw per lookup under gunicorn (pg_stat_database).
   Target: at most 1.

Results go to tests/bench/RESULTS.md, section "Tag lookup".
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import requests

from tests.bench import tags_support as support

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).with_name("RESULTS.md")
SECTION = "## Tag lookup"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _load(clients: int, total: int, make_call) -> dict[str, float]:
    """`total` calls from `clients` threads; make_call() -> call(i) raising on an error."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(total))

    def client() -> None:
        nonlocal errors
        call = make_call()
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            started = time.perf_counter()
            try:
                call(i)
                ok = True
            except Exception:
                ok = False
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                errors += 0 if ok else 1

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(client) for _ in range(clients)]:
            future.result()
    wall = time.perf_counter() - started
    return {
        "n": len(latencies),
        "errors": errors,
        "p50": _percentile(latencies, 0.50) * 1000,
        "p99": _percentile(latencies, 0.99) * 1000,
        "mean": statistics.fmean(latencies) * 1000,
        "rps": len(latencies) / wall,
    }


def run(args) -> dict[str, object]:
    world = support.start(latency_ms=args.latency_ms, workers=args.workers, threads=args.threads)
    try:
        openids = world.openids
        base, appid, key = world.api_base, world.appid, world.api_key

        def service_client():
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {key}"

            def call(i: int) -> None:
                url = f"{base}/api/v1/authorizers/{appid}/users/{openids[i % 6]}/tags"
                response = session.get(url, timeout=10)
                if response.status_code != 200:
                    raise RuntimeError(response.text)

            return call

        def direct_client():
            client = world.wechatpy_client()

            def call(i: int) -> None:
                client.tag.get_user_tag(openids[i % 6])

            return call

        # Warm both paths (connections, caches, gunicorn workers) before measuring.
        _load(args.clients, args.clients * 10, service_client)
        _load(args.clients, args.clients * 10, direct_client)
        single, cpu = {}, {}
        for name, make in (("service", service_client), ("direct", direct_client)):
            before = world.cpu_seconds()
            single[name] = _load(args.clients, args.requests, make)
            after = world.cpu_seconds()
            cpu[name] = {k: (after[k] - before[k]) * 1000 / args.requests for k in after}
        low = {
            clients: {
                "service": _load(clients, args.requests // 8, service_client),
                "direct": _load(clients, args.requests // 8, direct_client),
            }
            for clients in (4, 1)
        }
        print("single:", single, "\nlow:", low, flush=True)
        bulk = support.bulk_vs_sequential(world)
        print("bulk:", bulk, flush=True)
        sql = support.sql_per_lookup(world)
        return {
            "single": single,
            "cpu": cpu,
            "low": low,
            "bulk": bulk,
            "sql": sql,
            "args": vars(args),
        }
    finally:
        world.stop()


def _row(name: str, r: dict[str, float]) -> str:
    return (
        f"| {name} | {r['p50']:.1f} | {r['p99']:.1f} | {r['mean']:.1f} | {r['rps']:.0f} | "
        f"{r['n']:,} | {r['errors']} |"
    )


def _report(r: dict[str, object]) -> str:
    a, single, low, bulk, sql = r["args"], r["single"], r["low"], r["bulk"], r["sql"]
    ratio = single["service"]["p50"] / single["direct"]["p50"]
    speedup = bulk["sequential_s"] / bulk["bulk_s"]
    errors = single["service"]["errors"] + single["direct"]["errors"]
    header = (
        "| path | p50 ms | p99 ms | mean ms | req/s | requests | errors |\n"
        "|---|---|---|---|---|---|---|"
    )
    return "\n".join(
        [
            SECTION,
            "",
            f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores "
            f"({platform.python_implementation()} {platform.python_version()}), "
            "`python -m tests.bench.bench_tags`. Sandbox (`manage.py wechat_sandbox "
            f"--latency-ms {a['latency_ms']:.0f}`), gunicorn (`-k gthread -w {a['workers']} "
            f"--threads {a['threads']}`, DEBUG off), PostgreSQL, Redis and the load generator "
            "share the machine's cores.",
            "",
            f"### 1. Single lookups, {a['clients']} concurrent clients",
            "",
            header,
            _row("service (GET .../users/{openid}/tags)", single["service"]),
            _row("direct (wechatpy → sandbox)", single["direct"]),
            "",
            f"p50 ratio service/direct: **{ratio:.2f}x** (target ≤ 1.25x); errors: {errors} "
            "(target 0).",
            "",
            "CPU per lookup in that run (ms): "
            + "; ".join(
                f"{name}: load generator {c['self']:.2f}, gunicorn {c['gunicorn']:.2f}, "
                f"sandbox {c['sandbox']:.2f}"
                for name, c in r["cpu"].items()
            )
            + f". The machine has {os.cpu_count()} cores for all of it: at "
            f"{a['clients']} clients both paths are CPU-bound, and the service's extra HTTP hop "
            "and Django request make each of its lookups cost several times the CPU of a "
            "direct call.",
            "",
            "Fewer clients, where latency rather than the shared cores bounds the result:",
            "",
            "| clients | service p50 ms | direct p50 ms | ratio | service p99 ms | direct p99 ms |",
            "|---|---|---|---|---|---|",
            *[
                f"| {n} | {low[n]['service']['p50']:.1f} | {low[n]['direct']['p50']:.1f} | "
                f"{low[n]['service']['p50'] / low[n]['direct']['p50']:.2f}x | "
                f"{low[n]['service']['p99']:.1f} | {low[n]['direct']['p99']:.1f} |"
                for n in (4, 1)
            ],
            "",
            f"### 2. Bulk of {bulk['openids']:,} followers",
            "",
            "| path | wall s |",
            "|---|---|",
            f"| service, one POST (TAGS_BULK_CONCURRENCY={bulk['concurrency']}) "
            f"| {bulk['bulk_s']:.2f} |",
            f"| wechatpy, 1,000 sequential calls | {bulk['sequential_s']:.2f} |",
            "",
            f"Speed-up: **{speedup:.1f}x** (target ≥ 100x). Answers identical item by item to "
            f"getidlist's: {bulk['same_answers']}; WeChat calls by the service: "
            f"{bulk['service_calls']} user/info/batchget (target ≤ 10) and "
            f"{bulk['service_getidlist_calls']} getidlist, against {bulk['openids']:,} getidlist "
            "calls made one after another.",
            "",
            "### 3. SQL per lookup, warm caches",
            "",
            f"- SQL queries on a lookup's request path (CaptureQueriesContext, {sql['samples']} "
            f"lookups, in process): **{sql['app_queries']:.2f}** (target ≤ 1). The call-log "
            "rows are buffered and written by a background thread, one multi-row INSERT per "
            f"flush: {sql['flush_queries']} INSERT statement(s) for those {sql['samples']} rows.",
            f"- transactions PostgreSQL saw per lookup under gunicorn (pg_stat_database, "
            f"{sql['pg_samples']} lookups, call-log flushes included): "
            f"{sql['pg_per_lookup']:.2f}.",
            "",
        ]
    )


def _write(section: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    start = text.find(SECTION)
    if start >= 0:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + section.rstrip() + "\n" + (text[end:] if end >= 0 else "")
    else:
        text = text.rstrip() + "\n\n" + section
    RESULTS.write_text(text.rstrip() + "\n")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    report = _report(run(args))
    print(report)
    if not args.no_write:
        _write(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
