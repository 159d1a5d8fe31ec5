"""Webhook receivers on loopback (real HTTP servers in threads), and helpers that run the
product's own fan-out and delivery in the test process."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.api.support import make_tenant  # noqa: F401  (used by the tests)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    started: float
    finished: float | None = None


@dataclass
class Receiver:
    """Answers each POST with the next scripted (status, hang seconds, headers) for its path,
    then 200 (or `default`)."""

    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    scripts: dict[str, list[tuple[int, float, dict[str, str]]]] = field(default_factory=dict)
    default: int = 200
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, path: str, *answers: int | tuple[int, float] | tuple[int, float, dict]):
        steps = []
        for answer in answers:
            if isinstance(answer, int):
                answer = (answer, 0.0)
            steps.append((answer[0], answer[1], answer[2] if len(answer) > 2 else {}))
        self.scripts[path] = steps

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def wait_for(self, path: str, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.at(path)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{path}: {len(self.at(path))} of {count} arrived")
            time.sleep(0.02)
        return self.at(path)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            rx = holder["rx"]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            record = Received(
                self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic()
            )
            with rx.lock:
                rx.received.append(record)
                script = rx.scripts.get(self.path) or []
                status, hang, headers = script.pop(0) if script else (rx.default, 0.0, {})
            if hang:
                rx.release.wait(hang)
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass  # the sender gave up waiting (its timeout) and closed the connection
            record.finished = time.monotonic()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    rx = Receiver(server)
    holder["rx"] = rx
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield rx
    rx.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def private_targets(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True


def deliver_all(rounds: int = 5) -> list[str]:
    """Fan out what the outbox holds and attempt every due delivery, in this process."""
    from webhooks.models import WebhookDelivery
    from webhooks.services.delivery import events_fan_out, webhook_delivery_attempt

    results = []
    for _ in range(rounds):
        events_fan_out()
        due = list(
            WebhookDelivery.objects.filter(status="pending", attempts=0).values_list(
                "pk", flat=True
            )
        )
        if not due:
            break
        results += [webhook_delivery_attempt(delivery_id=pk).result for pk in due]
    return results
