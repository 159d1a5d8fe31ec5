"""A fake WeChat: a real local HTTP server that answers a script (for the transport tests,
and wherever an exact answer the sandbox never gives is needed)."""

import json
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Script:
    """What the fake WeChat answers, one entry per call; the last one repeats."""

    def __init__(self):
        self.answers = []
        self.calls = []

    def next(self):
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def start_fake_wechat() -> tuple["_Script", ThreadingHTTPServer]:
    """A fake WeChat on a free loopback port answering `script.answers` in turn."""
    script = _Script()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            script.calls.append((self.command, self.path, body))
            kind, value = script.next()
            if kind == "reset":
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
                return
            if kind == "redirect":  # value: (status, Location)
                self.send_response(value[0])
                self.send_header("Location", value[1])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if kind == "sleep":
                time.sleep(value)
                kind, value = "json", {"ok": True}
            status, payload = (200, json.dumps(value).encode()) if kind == "json" else value
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _answer

    class QuietServer(ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # the "reset" answer aborts its own connection on purpose

    server = QuietServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    script.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    return script, server


def stop(server: ThreadingHTTPServer) -> None:
    server.shutdown()
    server.server_close()
