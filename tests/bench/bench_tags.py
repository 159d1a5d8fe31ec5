"""Tag lookup through the product (gunicorn) vs. a bare proxy (the floor) vs. wechatpy direct.

    python -m tests.bench.bench_tags                  # everything; writes RESULTS.md
    python -m tests.bench.bench_tags --only single --db postgres --clients 16 --requests 2000

Options: --only single,bulk,sql (default all three), --db postgres|embedded|both (default
both), --clients 16,32, --requests N per path and client count (default 4000), --rounds R
(default 6), --latency-ms 20, --workers 2, --threads 16, --no-write. Only a full run (all
sections, both databases) rewrites the "Tag lookup" section of tests/bench/RESULTS.md; a
partial one prints its report. Exit status 1 if any request failed or the paths disagree.

Each database gets its own world, measured in its own child process (Django is set up once
per process): the sandbox (`manage.py wechat_sandbox --latency-ms 20`), the product as
`gunicorn platform_app.wsgi` (DEBUG off) and the floor as `gunicorn
tests.bench.floor_app:application`, both `-k gthread -w 2 --threads 16`. "postgres" is a
scratch PostgreSQL database (`<TEST_DATABASE_NAME or bench>_tags`) and the Redis of
REDIS_URL; "embedded" is the default `make run` uses: SQLite (a scratch file under var/,
shared by the two workers), local-memory cache, no Redis. One demo merchant onboards Demo
Coffee through the real authorization flow.

1. Single lookups, for each client count: N concurrent clients (threads, one keep-alive
   session each, reconnected at each round) call GET
   /api/v1/authorizers/{appid}/users/{openid}/tags on the service and on the floor, and
   getidlist straight to the sandbox with wechatpy's WeChatClient. The three paths are
   interleaved: R rounds, each running every path back to back in a different order (all 6
   orders for R = 6), so drift in the shared machine's load hits them alike.
   Targets against the floor, the cost of any proxy on this machine: PostgreSQL + Redis,
   service p50 <= 1.3x and p99 <= 2x the floor's; embedded, p99 <= 3x; zero errors.
2. Bulk (PostgreSQL): one POST of 1,000 followers vs. 1,000 sequential wechatpy calls.
   Target: 100x faster or more, at most 10 batchget calls.
3. SQL per lookup with warm caches (both databases): queries and writes on the request path
   (Django's CaptureQueriesContext, in process, same database and sandbox), the batched
   call-log INSERTs, and on PostgreSQL the transactions the server saw per lookup under
   gunicorn (pg_stat_database). Target on PostgreSQL + Redis: at most 1 query.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import requests

from tests.bench import tags_support as support

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).with_name("RESULTS.md")
SECTION = "## Tag lookup"
SECTIONS = ("single", "bulk", "sql")
# The bulk measures batchget fan-out, not the database: run once, on the PostgreSQL world.
POSTGRES_ONLY = ("bulk",)
PATHS = ("direct", "floor", "service")
# Upper bounds on service/floor, per database and percentile.
TARGETS = {"postgres": {"p50": 1.3, "p99": 2.0}, "embedded": {"p99": 3.0}}
DB_LABELS = {"postgres": "PostgreSQL + Redis", "embedded": "embedded (SQLite, file cache)"}

Call = Callable[[int], None]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Tally:
    """Latencies and errors of one path at one client count, summed over rounds."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors = 0
        self.error_samples: list[str] = []
        self.wall = 0.0
        self.cpu: dict[str, float] = {}
        self.round_p50: list[float] = []

    def summary(self) -> dict[str, object]:
        n = len(self.latencies)
        return {
            "n": n,
            "errors": self.errors,
            "error_samples": self.error_samples,
            "p50": _percentile(self.latencies, 0.50) * 1000,
            "p99": _percentile(self.latencies, 0.99) * 1000,
            "mean": statistics.fmean(self.latencies) * 1000,
            "rps": n / self.wall,
            # CPU milliseconds per lookup, by process group.
            "cpu": {k: v * 1000 / n for k, v in self.cpu.items()},
            "round_p50": [v * 1000 for v in self.round_p50],
        }


def _load(calls: list[Call], total: int, tally: Tally) -> None:
    """`total` calls shared by len(calls) threads, thread k using calls[k] (its own
    connection); a call raises on an error."""
    lock = threading.Lock()
    counter = iter(range(total))

    def client(call: Call) -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            started = time.perf_counter()
            try:
                call(i)
                error = None
            except Exception as exc:
                error = f"{type(exc).__name__}: {str(exc)[:200]}"
            elapsed = time.perf_counter() - started
            with lock:
                tally.latencies.append(elapsed)
                if error is not None:
                    tally.errors += 1
                    if len(tally.error_samples) < 5:
                        tally.error_samples.append(error)

    started = time.perf_counter()
    with ThreadPoolExecutor(len(calls)) as pool:
        for future in [pool.submit(client, call) for call in calls]:
            future.result()
    tally.wall += time.perf_counter() - started


class Caller:
    """One client thread's calls, on its own keep-alive connection."""

    def __init__(self, session: requests.Session, call: Call) -> None:
        self.session, self.call = session, call

    def close(self) -> None:
        self.session.close()


def _http_caller(world: support.World, base: str) -> Caller:
    """The service and the floor are called the same way, so the load generator costs the
    same for both: a requests.Session with the merchant's Bearer key."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {world.api_key}"
    openids, appid = world.openids, world.appid

    def call(i: int) -> None:
        url = f"{base}/api/v1/authorizers/{appid}/users/{openids[i % len(openids)]}/tags"
        response = session.get(url, timeout=10)
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code} {response.text[:200]}")

    return Caller(session, call)


def _direct_caller(world: support.World) -> Caller:
    client = world.wechatpy_client()
    openids = world.openids

    def call(i: int) -> None:
        client.tag.get_user_tag(openids[i % len(openids)])

    return Caller(client._http, call)


def _callers(world: support.World, path: str, clients: int) -> list[Caller]:
    if path == "direct":
        return [_direct_caller(world) for _ in range(clients)]
    base = world.floor_base if path == "floor" else world.api_base
    return [_http_caller(world, base) for _ in range(clients)]


def _round(callers: list[Caller], total: int, tally: Tally) -> None:
    already = len(tally.latencies)
    _load([c.call for c in callers], total, tally)
    tally.round_p50.append(_percentile(tally.latencies[already:], 0.50))
    # Between two rounds of a path the connections idle while the other paths run, for
    # about gunicorn's keep-alive timeout (2 s): a request sent as gunicorn closes its end
    # is reset, an error of the harness, not of the path. Each round therefore starts on
    # new connections, for every path alike (one connect per client per round).
    for caller in callers:
        caller.close()


def same_answers(world: support.World) -> bool:
    """Service and floor give the same body for every follower, with direct's tag ids."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {world.api_key}"
    client = world.wechatpy_client()
    for openid in world.openids:
        path = f"/api/v1/authorizers/{world.appid}/users/{openid}/tags"
        service = session.get(world.api_base + path, timeout=10).json()
        floor = session.get(world.floor_base + path, timeout=10).json()
        expected = {"openid": openid, "tagid_list": client.tag.get_user_tag(openid)}
        if not service == floor == expected:
            print(f"answers differ for {openid}: {service} {floor} {expected}", flush=True)
            return False
    return True


def single_matrix(
    world: support.World, clients_list: list[int], total: int, rounds: int
) -> dict[str, dict[str, dict[str, object]]]:
    """{clients: {path: summary}}; `total` lookups per path and client count."""
    orders = list(itertools.permutations(PATHS))
    sizes = [total // rounds + (1 if r < total % rounds else 0) for r in range(rounds)]
    matrix = {}
    for clients in clients_list:
        callers = {path: _callers(world, path, clients) for path in PATHS}
        for path in PATHS:  # caches, imports and every gunicorn thread warm
            _round(callers[path], clients * 5, Tally())
        tallies = {path: Tally() for path in PATHS}
        for r, size in enumerate(sizes):
            for path in orders[r % len(orders)]:
                before = world.cpu_seconds()
                _round(callers[path], size, tallies[path])
                after = world.cpu_seconds()
                for k, v in after.items():
                    tallies[path].cpu[k] = tallies[path].cpu.get(k, 0.0) + v - before[k]
        matrix[str(clients)] = {path: tally.summary() for path, tally in tallies.items()}
        print(
            f"{world.database}, {clients} clients: "
            + "; ".join(
                f"{p} p50 {s['p50']:.1f} p99 {s['p99']:.1f} ms, {s['errors']} errors"
                for p, s in matrix[str(clients)].items()
            ),
            flush=True,
        )
    return matrix


def measure(database: str, args: argparse.Namespace) -> dict[str, object]:
    """One world on `database`, the selected sections measured in it."""
    started = time.perf_counter()
    world = support.start(
        database=database, latency_ms=args.latency_ms, workers=args.workers, threads=args.threads
    )
    result: dict[str, object] = {"database": database}
    try:
        if "single" in args.only:
            result["same_answers"] = same_answers(world)
            result["single"] = single_matrix(world, args.clients, args.requests, args.rounds)
        if database == "postgres" and "bulk" in args.only:
            result["bulk"] = support.bulk_vs_sequential(world)
            print("bulk:", result["bulk"], flush=True)
        if "sql" in args.only:
            result["sql"] = support.sql_per_lookup(world)
    finally:
        world.stop()
    result["seconds"] = time.perf_counter() - started
    return result


def _ratio(service: dict, other: dict, key: str) -> float:
    return service[key] / other[key]


def _verdict(database: str, paths: dict[str, dict]) -> str:
    service, floor = paths["service"], paths["floor"]
    missed = [
        f"{key} {_ratio(service, floor, key):.2f}x > {bound}x"
        for key, bound in TARGETS[database].items()
        if _ratio(service, floor, key) > bound
    ]
    errors = sum(p["errors"] for p in paths.values())
    if errors:
        missed.append(f"{errors} errors")
    return "met" if not missed else f"not met ({', '.join(missed)})"


def _target_text(database: str) -> str:
    bounds = ", ".join(f"{k} ≤ {v}x" for k, v in TARGETS[database].items())
    return f"{bounds}, 0 errors"


def _single_report(results: dict[str, dict], args: argparse.Namespace) -> list[str]:
    labels = {
        "direct": "direct (wechatpy → sandbox)",
        "floor": "floor (floor_app.py → sandbox)",
        "service": "service (GET .../users/{openid}/tags)",
    }
    lines = [
        "### 1. Single lookups: service vs. floor vs. direct",
        "",
        "Three paths to the same sandbox: **direct** is wechatpy calling getidlist itself (no "
        "hop); **floor** (`tests/bench/floor_app.py`) is the least such a proxy does (parse the "
        "path, check the Bearer key in a dict, one pooled urllib3 call, same JSON answer) under "
        "the service's gunicorn settings; **service** is the product. Service/floor is what "
        "the service's own work costs on this machine; floor/direct is the price of any HTTP "
        f"hop. {args.requests:,} lookups per path and client count, interleaved in "
        f"{args.rounds} rounds of every path back to back, each round in another order.",
        "",
        "| database | clients | path | p50 ms | p99 ms | mean ms | req/s | requests | errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for database, result in results.items():
        for clients, paths in result.get("single", {}).items():
            for path in PATHS:
                r = paths[path]
                lines.append(
                    f"| {DB_LABELS[database]} | {clients} | {labels[path]} | {r['p50']:.1f} | "
                    f"{r['p99']:.1f} | {r['mean']:.1f} | {r['rps']:.0f} | {r['n']:,} | "
                    f"{r['errors']} |"
                )
    lines += [
        "",
        "| database | clients | service/floor p50 | per round | service/floor p99 | "
        "service/direct p50 | service/direct p99 | floor/direct p50 | target (service/floor) "
        "| verdict |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for database, result in results.items():
        for clients, paths in result.get("single", {}).items():
            service, floor, direct = (paths[p] for p in ("service", "floor", "direct"))
            rounds = [s / f for s, f in zip(service["round_p50"], floor["round_p50"])]
            lines.append(
                f"| {DB_LABELS[database]} | {clients} | "
                f"**{_ratio(service, floor, 'p50'):.2f}x** | "
                f"{min(rounds):.2f}–{max(rounds):.2f}x | "
                f"**{_ratio(service, floor, 'p99'):.2f}x** | "
                f"{_ratio(service, direct, 'p50'):.2f}x | {_ratio(service, direct, 'p99'):.2f}x | "
                f"{_ratio(floor, direct, 'p50'):.2f}x | {_target_text(database)} | "
                f"{_verdict(database, paths)} |"
            )
    agree = {db: r["same_answers"] for db, r in results.items() if "same_answers" in r}
    lines += [
        "",
        "Per round: the lowest and highest service/floor p50 of the single rounds, a gauge of "
        "how much the shared machine moved the figures during the run. Service, floor and "
        "direct gave the same answer for every follower before the run: "
        + ", ".join(f"{DB_LABELS[db]} {ok}" for db, ok in agree.items())
        + ".",
    ]
    samples = [
        f"{DB_LABELS[db]}, {clients} clients, {path}: {'; '.join(p['error_samples'])}"
        for db, r in results.items()
        for clients, paths in r.get("single", {}).items()
        for path, p in paths.items()
        if p["error_samples"]
    ]
    if samples:
        lines += ["", "Errors seen (first few of each):", "", *[f"- {s}" for s in samples]]
    lines += [
        "",
        "CPU per lookup (ms), by process group, in the same rounds:",
        "",
        "| database | clients | path | load generator | service gunicorn | floor gunicorn | "
        "sandbox | cores busy |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for database, result in results.items():
        for clients, paths in result.get("single", {}).items():
            for path in PATHS:
                c, rps = paths[path]["cpu"], paths[path]["rps"]
                lines.append(
                    f"| {DB_LABELS[database]} | {clients} | {path} | {c['self']:.2f} | "
                    f"{c['service']:.2f} | {c['floor']:.2f} | {c['sandbox']:.2f} | "
                    f"{sum(c.values()) * rps / 1000:.2f} |"
                )
    lines += [
        "",
        "Cores busy: CPU per lookup of those processes times lookups per second, i.e. the "
        "cores they kept busy during that path's rounds (PostgreSQL, Redis and anything else "
        f"on the machine not counted). The machine has {os.cpu_count()} cores for all of "
        "it; where a path comes near that, it is CPU-bound and its latency follows the CPU "
        "each lookup costs rather than the sandbox's latency.",
        "",
    ]
    return lines


def _bulk_report(bulk: dict[str, object]) -> list[str]:
    speedup = bulk["sequential_s"] / bulk["bulk_s"]
    return [
        f"### 2. Bulk of {bulk['openids']:,} followers (PostgreSQL + Redis)",
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
    ]


def _sql_report(results: dict[str, dict]) -> list[str]:
    lines = ["### 3. SQL per lookup, warm caches", ""]
    for database, result in results.items():
        if "sql" not in result:
            continue
        sql = result["sql"]
        target = " (target ≤ 1)" if database == "postgres" else ""
        lines.append(
            f"- {DB_LABELS[database]}: SQL queries on a lookup's request path "
            f"(CaptureQueriesContext, {sql['samples']} lookups, in process): "
            f"**{sql['app_queries']:.2f}**{target}, of which {sql['app_writes']:.2f} writes; "
            f"API_KEY_CACHE_SECONDS={sql['api_key_cache_seconds']}, "
            f"API_AUTHORIZER_CACHE_SECONDS={sql['authorizer_cache_seconds']}. The call-log "
            "rows are buffered and written by a background thread, one multi-row INSERT per "
            f"flush: {sql['flush_queries']} INSERT statement(s) for those {sql['samples']} "
            "rows."
        )
        if "pg_per_lookup" in sql:
            lines.append(
                f"- {DB_LABELS[database]}: transactions PostgreSQL saw per lookup under "
                f"gunicorn (pg_stat_database, {sql['pg_samples']} lookups, call-log flushes "
                f"included): {sql['pg_per_lookup']:.2f}."
            )
    return [*lines, ""]


def report(results: dict[str, dict], args: argparse.Namespace, seconds: float) -> str:
    """The "Tag lookup" section of RESULTS.md, in Markdown."""
    command = " ".join(["python -m tests.bench.bench_tags", *args.argv])
    lines = [
        SECTION,
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores "
        f"({platform.python_implementation()} {platform.python_version()}), `{command}`, "
        f"{seconds:.0f} s. Sandbox (`manage.py wechat_sandbox --latency-ms "
        f"{args.latency_ms:g}`); the service and the floor each under gunicorn (`-k gthread "
        f"-w {args.workers} --threads {args.threads}`, DEBUG off); the databases and the "
        "load generator share the machine's cores.",
        "",
    ]
    if any("single" in r for r in results.values()):
        lines += _single_report(results, args)
    postgres = results.get("postgres", {})
    if "bulk" in postgres:
        lines += _bulk_report(postgres["bulk"])
    if any("sql" in r for r in results.values()):
        lines += _sql_report(results)
    return "\n".join(lines)


def _write(section: str) -> None:
    """Replace the "Tag lookup" section of RESULTS.md, leaving the others as they are."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    start = text.find(SECTION)
    if start >= 0:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + section.rstrip() + "\n" + (text[end:] if end >= 0 else "")
    else:
        text = text.rstrip() + "\n\n" + section
    RESULTS.write_text(text.rstrip() + "\n")


def _csv(kind: Callable[[str], object], choices: tuple[str, ...] | None = None):
    def parse(value: str) -> list:
        items = [kind(v.strip()) for v in value.split(",") if v.strip()]
        if not items or (choices and any(i not in choices for i in items)):
            raise argparse.ArgumentTypeError(f"a comma-separated list of {choices or 'numbers'}")
        return items

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", type=_csv(str, SECTIONS), default=list(SECTIONS), help="single,bulk,sql"
    )
    parser.add_argument("--db", choices=("postgres", "embedded", "both"), default="both")
    parser.add_argument("--clients", type=_csv(int), default=[16, 32], help="e.g. 16,32")
    parser.add_argument("--requests", type=int, default=4000, help="per path and client count")
    parser.add_argument("--rounds", type=int, default=6, help="interleaving rounds")
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    # Internal: the parent runs one child per database and reads its results from a file.
    parser.add_argument("--child", choices=support.DATABASES, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    return parser


def _failed(results: dict[str, dict]) -> bool:
    """Correctness, not speed: any failed request or disagreeing answer."""
    for result in results.values():
        if result.get("same_answers") is False:
            return True
        for paths in result.get("single", {}).values():
            if any(p["errors"] for p in paths.values()):
                return True
        if "bulk" in result and not result["bulk"]["same_answers"]:
            return True
    return False


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    if args.child:
        args.child_out.write_text(json.dumps(measure(args.child, args)))
        return 0
    args.argv = argv
    started = time.perf_counter()
    databases = support.DATABASES if args.db == "both" else (args.db,)
    if set(args.only) <= set(POSTGRES_ONLY):
        databases = tuple(db for db in databases if db == "postgres")
    if not databases:
        sys.exit("nothing to run: the bulk runs on PostgreSQL only")
    results: dict[str, dict] = {}
    for database in databases:
        out = ROOT / "var" / f"bench-tags-{database}.json"
        out.parent.mkdir(exist_ok=True)
        out.unlink(missing_ok=True)
        command = [sys.executable, "-m", "tests.bench.bench_tags", *argv]
        command += ["--child", database, "--child-out", str(out)]
        print(f"== {database}", flush=True)
        if subprocess.run(command, cwd=ROOT, check=False).returncode or not out.exists():
            print(f"the {database} run failed", file=sys.stderr)
            return 1
        results[database] = json.loads(out.read_text())
    seconds = time.perf_counter() - started
    section = report(results, args, seconds)
    print(section)
    full = set(args.only) == set(SECTIONS) and set(databases) == set(support.DATABASES)
    if full and not args.no_write:
        _write(section)
    elif not full:
        print("(a partial run: RESULTS.md not written; a full run writes it)")
    print(f"total {seconds:.0f} s", flush=True)
    return 1 if _failed(results) else 0


if __name__ == "__main__":
    sys.exit(main())
