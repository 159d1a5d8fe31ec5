"""A bounded load of merchant API clients over real HTTP, each response checked against
SPEC 4.3 (tests.resilience.contract) and every successful answer against the sandbox's truth.

Clients retry what the API says may succeed later (503, and 429 with a short Retry-After),
a bounded number of times and without honouring the full Retry-After (tests do not sleep
for seconds); the figures count both the first answer and the answer after retries.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from .contract import RETRYABLE, ContractViolation, check_api_response

# A 45009 answer's Retry-After runs to midnight in China: not worth retrying in a test.
RETRY_AFTER_WORTH_WAITING = 60


@dataclass
class Target:
    base_url: str
    raw_key: str
    appid: str
    expected: dict[str, list[int]]  # openid -> tagid_list, from a fault-free baseline


@dataclass
class LoadFigures:
    requests: int = 0
    attempts: int = 0
    # Attempts of the kinds that call WeChat (single, names, bulk: at least one call each).
    wechat_attempts: int = 0
    ok_first_try: int = 0
    ok_after_retries: int = 0
    server_500: int = 0
    client_errors: int = 0  # our server dropped or hung the connection
    bulk_items_ok: int = 0
    bulk_items_error: int = 0
    codes: Counter = field(default_factory=Counter)  # every answer's code, retries included
    final_codes: Counter = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    samples: dict = field(default_factory=dict)  # code -> one error body, for the report
    latencies_ms: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def summary(self) -> dict[str, object]:
        lat = sorted(self.latencies_ms) or [0.0]
        n = max(1, self.requests)
        return {
            "clients_requests": self.requests,
            "attempts": self.attempts,
            "success_first_try": round(self.ok_first_try / n, 4),
            "success_after_retries": round(self.ok_after_retries / n, 4),
            "http_500": self.server_500,
            "client_errors": self.client_errors,
            "contract_violations": len(self.violations),
            "bulk_items_ok": self.bulk_items_ok,
            "bulk_items_error": self.bulk_items_error,
            "answers": dict(sorted(self.codes.items())),
            "final": dict(sorted(self.final_codes.items())),
            "error_samples": dict(sorted(self.samples.items())),
            "p50_ms": round(statistics.median(lat), 1),
            "p95_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.95))], 1),
            "max_ms": round(lat[-1], 1),
        }


def _operation(rng: random.Random, target: Target) -> tuple[str, str, str, dict | None]:
    openids = list(target.expected)
    base = f"{target.base_url}/api/v1/authorizers/{target.appid}"
    draw = rng.random()
    if draw < 0.6:
        openid = rng.choice(openids)
        return "single", "GET", f"{base}/users/{openid}/tags", None
    if draw < 0.7:
        openid = rng.choice(openids)
        return "names", "GET", f"{base}/users/{openid}/tags?expand=names", None
    if draw < 0.85:
        batch = [rng.choice(openids) for _ in range(5)]
        return "bulk", "POST", f"{base}/users/tags", {"openids": batch}
    if draw < 0.95:
        return "detail", "GET", f"{base}/", None
    return "list", "GET", f"{target.base_url}/api/v1/authorizers/", None


def _check_data(kind: str, url: str, payload: dict, target: Target, figures: LoadFigures) -> None:
    """A success must carry the right user's tags: no answer crossed over under load."""
    if kind in ("single", "names"):
        openid = payload["openid"]
        if sorted(payload["tagid_list"]) != sorted(target.expected[openid]):
            raise ContractViolation(f"{url}: wrong tags {payload}")
        if kind == "names" and [t["id"] for t in payload["tags"]] != payload["tagid_list"]:
            raise ContractViolation(f"{url}: names do not match ids {payload}")
    elif kind == "bulk":
        for item in payload["results"]:
            if "error" in item:
                with figures.lock:
                    figures.bulk_items_error += 1
                continue
            if sorted(item["tagid_list"]) != sorted(target.expected[item["openid"]]):
                raise ContractViolation(f"{url}: wrong tags in bulk {item}")
            with figures.lock:
                figures.bulk_items_ok += 1


def _client(
    index: int,
    target: Target,
    figures: LoadFigures,
    stop: threading.Event,
    budget: Callable[[], bool],
    retries: int,
) -> None:
    rng = random.Random(index)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {target.raw_key}"
    while not stop.is_set() and budget():
        kind, method, url, body = _operation(rng, target)
        started = time.perf_counter()
        first = final = None
        for attempt in range(retries + 1):
            try:
                response = session.request(method, url, json=body, timeout=30)
            except requests.RequestException as exc:
                with figures.lock:
                    figures.client_errors += 1
                    figures.violations.append(f"{method} {url}: {type(exc).__name__}: {exc}")
                final = "client_error"
                break
            with figures.lock:
                figures.attempts += 1
                if kind in ("single", "names", "bulk"):
                    figures.wechat_attempts += 1
                if response.status_code == 500:
                    figures.server_500 += 1
            try:
                code = check_api_response(response.status_code, response.headers, response.content)
                if code == "ok":
                    _check_data(kind, url, response.json(), target, figures)
            except ContractViolation as exc:
                with figures.lock:
                    figures.violations.append(f"{method} {url}: {exc}")
                code = "violation"
            with figures.lock:
                figures.codes[code] += 1
                if code != "ok" and code not in figures.samples:
                    figures.samples[code] = response.text[:300]
            first = first or code
            final = code
            retry_after = int(response.headers.get("Retry-After") or 0)
            if code not in RETRYABLE or retry_after > RETRY_AFTER_WORTH_WAITING:
                break
            time.sleep(0.02 * (attempt + 1))
        with figures.lock:
            figures.requests += 1
            figures.latencies_ms.append((time.perf_counter() - started) * 1000)
            figures.final_codes[final] += 1
            figures.ok_first_try += first == "ok"
            figures.ok_after_retries += final == "ok"
    session.close()


def run_load(
    target: Target,
    *,
    clients: int,
    duration: float,
    max_requests: int,
    retries: int = 2,
    chaos: list[tuple[float, Callable[[], None]]] = (),
) -> LoadFigures:
    """`clients` threads for at most `duration` seconds and about `max_requests` requests.

    `chaos`: (period seconds, action) pairs run on a side thread while the load runs.
    """
    figures = LoadFigures()
    stop = threading.Event()
    issued = iter(range(max_requests))
    issued_lock = threading.Lock()

    def budget() -> bool:
        with issued_lock:
            return next(issued, None) is not None

    def chaos_loop() -> None:
        due = [time.monotonic() + period for period, _ in chaos]
        while not stop.wait(0.01):
            for i, (period, action) in enumerate(chaos):
                if time.monotonic() >= due[i]:
                    action()
                    due[i] += period

    threads = [
        threading.Thread(target=_client, args=(i, target, figures, stop, budget, retries))
        for i in range(clients)
    ]
    side = threading.Thread(target=chaos_loop, daemon=True)
    side.start()
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + duration
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    stop.set()
    for thread in threads:
        thread.join(60)
        assert not thread.is_alive(), "a client hung for a minute past the run"
    side.join(5)
    return figures
