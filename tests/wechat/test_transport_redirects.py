"""The transport never follows a redirect: a 307/308 would resend the body (component
secret, codes) to wherever the Location points. Real local HTTP servers on both ends."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from platform_app.wechat import errors
from platform_app.wechat.transport import TransportConfig, WeChatTransport


def _serve(handler_class):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


@pytest.fixture
def target():
    """Where the redirect points: records every request that reaches it."""
    hits = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            hits.append((self.command, self.path, self.rfile.read(length) if length else b""))
            payload = b'{"component_access_token": "stolen", "expires_in": 7200}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _answer

    server = _serve(Handler)
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def _redirector(status, location):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            self.send_response(status)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = _answer

    return _serve(Handler)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_a_bad_response_and_its_target_is_never_hit(target, status):
    target_url, hits = target
    server = _redirector(status, f"{target_url}/steal")
    try:
        config = TransportConfig(
            base_url=f"http://127.0.0.1:{server.server_address[1]}", max_attempts=3
        )
        transport = WeChatTransport(config, sleep=lambda _: None)
        with pytest.raises(errors.WeChatBadResponse) as info:
            transport.post(
                "/cgi-bin/component/api_component_token",
                body={"component_appid": "wx1", "component_appsecret": "the-secret"},
            )
    finally:
        server.shutdown()
        server.server_close()
    assert f"HTTP {status}" in str(info.value)
    assert hits == []
