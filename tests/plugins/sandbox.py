"""Pytest fixtures for the WeChat sandbox: a fresh sandbox per test, and a push receiver.

def test_something(wechat_sandbox):
    requests.post(wechat_sandbox.base_url + "/cgi-bin/component/...", ...)
    assert wechat_sandbox.state.calls("api_authorizer_token", appid=...) == 1

def test_pushes(start_wechat_sandbox, push_receiver):
    sandbox = start_wechat_sandbox(callback_url=push_receiver.url)
    push = push_receiver.wait_for(1)[0]
"""

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sandbox.server import SandboxServer, start_sandbox

RID = re.compile(r" rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$")


@pytest.fixture
def wechat_sandbox() -> Iterator[SandboxServer]:
    """A sandbox with the demo world on a free loopback port, no callback."""
    server = start_sandbox()
    yield server
    server.stop()


@pytest.fixture
def start_wechat_sandbox() -> Iterator[Callable[..., SandboxServer]]:
    """Factory: start_wechat_sandbox(callback_url=..., token_ttl=..., latency_ms=...)."""
    started: list[SandboxServer] = []

    def start(**kwargs: object) -> SandboxServer:
        server = start_sandbox(**kwargs)  # type: ignore[arg-type]
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@dataclass
class ReceivedPush:
    query: dict[str, str]
    body: bytes


class PushReceiver:
    """A stand-in authorization-event receive URL that records what it is sent."""

    def __init__(self) -> None:
        self.pushes: list[ReceivedPush] = []
        self.reply_status = 200
        self.reply_body = b"success"
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                with receiver._cond:
                    receiver.pushes.append(ReceivedPush(query, body))
                    receiver._cond.notify_all()
                self.send_response(receiver.reply_status)
                self.send_header("Content-Length", str(len(receiver.reply_body)))
                self.end_headers()
                self.wfile.write(receiver.reply_body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/wechat/component/events/"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedPush]:
        """Block until at least `count` pushes arrived; return them all."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.pushes) >= count, timeout):
                raise AssertionError(f"expected {count} pushes, got {len(self.pushes)}")
            return list(self.pushes)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def push_receiver() -> Iterator[PushReceiver]:
    receiver = PushReceiver()
    yield receiver
    receiver.stop()


# -- helpers for tests that talk to the sandbox over HTTP --------------------------------------
COMPONENT = "/cgi-bin/component/"


def wechat_call(
    sandbox: SandboxServer,
    path: str,
    body: dict[str, object] | None = None,
    *,
    method: str = "POST",
    data: bytes | None = None,
    **params: str,
) -> dict[str, object]:
    """Call a sandbox API path; WeChat answers every call with HTTP 200 and a JSON body."""
    response = requests.request(
        method,
        sandbox.base_url + path,
        params=params,
        json=body if data is None else None,
        data=data,
        timeout=5,
    )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json; encoding=utf-8"
    return response.json()


def fetch_component_token(sandbox: SandboxServer) -> str:
    world = sandbox.state
    result = wechat_call(
        sandbox,
        COMPONENT + "api_component_token",
        {
            "component_appid": world.component_appid,
            "component_appsecret": world.component_appsecret,
            "component_verify_ticket": world.ticket,
        },
    )
    return str(result["component_access_token"])


def component_call(
    sandbox: SandboxServer, endpoint: str, token: str, **body: object
) -> dict[str, object]:
    """A component endpoint with component_appid filled in."""
    body = {"component_appid": sandbox.state.component_appid, **body}
    return wechat_call(sandbox, COMPONENT + endpoint, body, component_access_token=token)


def errcode(result: dict[str, object]) -> object:
    """The errcode, after checking the errmsg carries WeChat's rid suffix."""
    assert RID.search(str(result["errmsg"])), result
    return result["errcode"]
