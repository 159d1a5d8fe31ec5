"""Warm token-center loans per second: the service vs. the floor.

    python -m tests.bench.bench_token_center            # both databases; writes RESULTS.md
    python -m tests.bench.bench_token_center --db postgres --clients 16 --requests 2000 --no-write

The world of tests/bench/tags_support.py (sandbox, the product and the floor under gunicorn
`-k gthread -w 2 --threads 16`, one onboarded account), plus one service client scoped to
every account. N concurrent clients (one keep-alive session each) call GET
/internal/v1/authorizers/{appid}/access-token on the service and on the floor (tests/bench/
floor_app.py: the key checked in a dict, the token from the environment), interleaved over
rounds in alternating order. A warm loan makes no WeChat call and runs no SQL (the loan log is
written in batches): the sandbox's api_authorizer_token count must not move. Targets: zero
errors, zero refreshes, every answer the stored token. The floor is there to show what the
service's own work (Django, authentication, rate limit, the cached row, the loan log) costs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

from tests.bench import tags_support as support
from tests.bench.bench_tags import RESULTS, Tally, _load

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## Token center loans"
DB_LABELS = {"postgres": "PostgreSQL + Redis", "embedded": "embedded (SQLite, file cache)"}


def _service_key() -> str:
    from token_center.clients import service_client_create

    client, raw_key = service_client_create(name=f"bench-{time.time_ns()}")
    client.rate_limit_burst = client.rate_limit_per_minute = 100_000_000
    client.save()
    return raw_key


def measure(database: str, args: argparse.Namespace) -> dict[str, object]:
    world = support.start(database=database, latency_ms=20, workers=2, threads=16)
    try:
        service_key = _service_key()
        from django.db import connections

        connections.close_all()
        path = f"/internal/v1/authorizers/{world.appid}/access-token"
        targets = {
            "floor": (world.floor_base + path, world.api_key),
            "service": (world.api_base + path, service_key),
        }
        refreshes_before = support._calls(world, "/api_authorizer_token")
        tallies = {name: Tally() for name in targets}
        wrong: list[str] = []

        def caller(name: str):
            url, key = targets[name]
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {key}"

            def call(i: int) -> None:
                response = session.get(url, timeout=30)
                if response.status_code != 200:
                    raise RuntimeError(f"{response.status_code} {response.text[:120]}")
                if response.json()["access_token"] != world.access_token:
                    wrong.append(name)

            return call

        for name in targets:  # warm: caches filled, connections open
            call = caller(name)
            for i in range(20):
                call(i)
        per_round = max(1, args.requests // args.rounds)
        for round_index in range(args.rounds):
            order = list(targets) if round_index % 2 == 0 else list(reversed(targets))
            for name in order:
                _load([caller(name) for _ in range(args.clients)], per_round, tallies[name])
        refreshes = support._calls(world, "/api_authorizer_token") - refreshes_before
        return {
            "database": database,
            "clients": args.clients,
            "paths": {name: tally.summary() for name, tally in tallies.items()},
            "refreshes": refreshes,
            "wrong_tokens": len(wrong),
        }
    finally:
        world.stop()


def report(results: dict[str, dict], args: argparse.Namespace, seconds: float) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    lines = [
        SECTION,
        "",
        f"Run {now} UTC on {os.cpu_count()} cores (CPython {platform.python_version()}), "
        f"`python -m tests.bench.bench_token_center`, {seconds:.0f} s. The world of the tag "
        "lookup (gunicorn `-k gthread -w 2 --threads 16`, DEBUG off); "
        f"{args.clients} clients, {args.requests:,} warm loans per path in {args.rounds} "
        "rounds of alternating order. The floor answers the token from a dict after a dict "
        "key check (tests/bench/floor_app.py); the service authenticates the service client "
        "from its cache, takes a rate-limit token, reads the account's cached row, checks "
        "the token's expiry and buffers the loan log row.",
        "",
        "| database | path | p50 ms | p99 ms | mean ms | loans/s | requests | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for database, result in results.items():
        for name, s in result["paths"].items():
            lines.append(
                f"| {DB_LABELS[database]} | {name} | {s['p50']:.1f} | {s['p99']:.1f} | "
                f"{s['mean']:.1f} | {s['rps']:.0f} | {s['n']:,} | {s['errors']} |"
            )
    lines.append("")
    for database, result in results.items():
        paths = result["paths"]
        ratio = paths["service"]["rps"] / max(1e-9, paths["floor"]["rps"])
        ok = (
            result["refreshes"] == 0
            and result["wrong_tokens"] == 0
            and not any(p["errors"] for p in paths.values())
        )
        lines.append(
            f"- {DB_LABELS[database]}: service {ratio:.2f}x the floor's loans per second; "
            f"api_authorizer_token calls during the run: {result['refreshes']}; answers "
            f"other than the stored token: {result['wrong_tokens']}; target (no errors, no "
            f"refresh, the stored token every time): {'met' if ok else 'NOT met'}."
        )
    return "\n".join(lines) + "\n"


def _write(section: str) -> None:
    """Replace this section of RESULTS.md, leaving the others as they are."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    start = text.find(SECTION)
    if start >= 0:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + section.rstrip() + "\n" + (text[end:] if end >= 0 else "")
    else:
        text = text.rstrip() + "\n\n" + section
    RESULTS.write_text(text.rstrip() + "\n")


def _failed(results: dict[str, dict]) -> bool:
    return any(
        r["refreshes"] or r["wrong_tokens"] or any(p["errors"] for p in r["paths"].values())
        for r in results.values()
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=(*support.DATABASES, "both"), default="both")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    parser.add_argument("--child", choices=support.DATABASES, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    if args.child:
        args.child_out.write_text(json.dumps(measure(args.child, args)))
        return 0
    started = time.perf_counter()
    databases = support.DATABASES if args.db == "both" else (args.db,)
    results: dict[str, dict] = {}
    for database in databases:
        out = ROOT / "var" / f"bench-token-center-{database}.json"
        out.parent.mkdir(exist_ok=True)
        out.unlink(missing_ok=True)
        command = [sys.executable, "-m", "tests.bench.bench_token_center", *argv]
        command += ["--child", database, "--child-out", str(out)]
        print(f"== {database}", flush=True)
        if subprocess.run(command, cwd=ROOT, check=False).returncode or not out.exists():
            print(f"the {database} run failed", file=sys.stderr)
            return 1
        results[database] = json.loads(out.read_text())
    seconds = time.perf_counter() - started
    section = report(results, args, seconds)
    print(section)
    if set(databases) == set(support.DATABASES) and not args.no_write:
        _write(section)
    return 1 if _failed(results) else 0


if __name__ == "__main__":
    sys.exit(main())
