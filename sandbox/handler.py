"""One HTTP connection: keep-alive, one send per response, injected faults applied."""

import json
import re
import socket
import struct
import sys
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from . import control, routes
from .errors import error_body
from .request import Call, Reply, Response
from .rids import masked_body, masked_url, rid_of

if TYPE_CHECKING:
    from .server import SandboxServer


def encode(reply: dict[str, object]) -> bytes:
    return json.dumps(reply, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_SLASHES = re.compile(r"/{2,}")


def request_target(target: str) -> tuple[str, str]:
    """The path and the query string of a request line's target. Consecutive slashes in the
    path count as one, as WeChat serves them: SDKs join a base ending in "/" to paths
    starting with one (wechatpy: /cgi-bin//component/api_component_token)."""
    path, _, query = target.partition("?")
    if not path.startswith("/"):  # absolute form: http://host/path
        path = urlsplit(path).path or "/"
    return _SLASHES.sub("/", path), query.partition("#")[0]


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every answer carries Content-Length
    server: "SandboxServer"  # type: ignore[assignment]
    # An idle keep-alive connection gives its thread back after this long (reads only).
    timeout = 300

    def setup(self) -> None:
        # Without TCP_NODELAY a small answer waits on the client's delayed ACK: ~40 ms a call.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()
        self.server.track(self.request, open_=True)

    def finish(self) -> None:
        self.server.track(self.request, open_=False)
        super().finish()

    def log_message(self, format: str, *args: object) -> None:
        if self.server.verbose:
            sys.stderr.write(f"sandbox {self.address_string()} {format % args}\n")

    def _serve(self) -> None:
        started = time.perf_counter()
        path, query_string = request_target(self.path)
        query = {k: v[0] for k, v in parse_qs(query_string, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        call = Call(self.command, path, query, self._read_body(), headers)
        sandbox = self.server
        if path == "/sandbox" or path.startswith("/sandbox/"):
            self._send(control.dispatch(sandbox, call))
            return
        world = sandbox.state
        world.counters.count(path, routes.attribute(world, call))
        # Whose call it is, read before the route runs (a revoke may unindex the token).
        caller = None if routes.is_page(path) else routes.caller(world, call)
        decision = None if routes.is_page(path) else sandbox.faults.decide(path)
        if decision is None:
            self._answer(call, routes.dispatch(sandbox, call), caller, started)
            return
        # Sleep without any lock held, so latency does not serialise concurrent callers.
        if decision.delay and sandbox.stopping.wait(decision.delay):
            return self._reset()
        if decision.action == "reset":
            return self._reset()
        if decision.action in ("error", "quota"):
            errcode = -1 if decision.action == "error" else 45009
            return self._answer(call, error_body(errcode, world.now()), caller, started)
        reply = routes.dispatch(sandbox, call)
        if decision.action == "timeout":
            # Handled, then held: the harsher case where WeChat acted but the caller never heard.
            sandbox.stopping.wait(decision.timeout_seconds)
        self._answer(call, reply, caller, started)

    def _answer(self, call: Call, reply: Reply, caller: str | None, started: float) -> None:
        """Send, and keep an error answer's request for openapi/rid/get."""
        rid = rid_of(reply.get("errmsg")) if isinstance(reply, dict) else None
        if rid and caller:
            world = self.server.state
            body = encode(reply)  # type: ignore[arg-type]
            world.rids.record(
                rid,
                caller,
                {
                    "invoke_time": int(world.now()),
                    "cost_in_ms": int((time.perf_counter() - started) * 1000),
                    "request_url": masked_url(call.path, call.query),
                    "request_body": masked_body(call.body),
                    "response_body": body.decode("utf-8"),
                    "client_ip": self.client_address[0],
                },
                world.now(),
            )
        self._send(reply)

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _serve

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline().strip():  # trailers
                pass
            return b"".join(chunks)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, reply: Reply) -> None:
        if isinstance(reply, Response):
            status, body, ctype, extra = reply.status, reply.body, reply.content_type, reply.headers
        else:
            status, extra = 200, {}
            body = encode(reply)
            ctype = "application/json; encoding=utf-8"  # WeChat's own (sic) header
        headers = {"Content-Type": ctype, "Content-Length": str(len(body)), **extra}
        headers["Date"] = self.date_time_string()
        if self.close_connection:
            headers["Connection"] = "close"
        head = f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        payload = head.encode("latin-1") + (b"" if self.command == "HEAD" else body)
        # One write, one send: headers and body in separate segments cost a delayed ACK.
        self.wfile.write(payload)
        self.log_request(status, len(body))

    def _reset(self) -> None:
        """Drop the connection with a TCP RST (SO_LINGER 0), no answer."""
        self.close_connection = True
        self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()  # the socket really closes only once its file objects are gone
        self.request.close()
