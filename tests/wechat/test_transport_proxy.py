"""WECHAT_PROXY: every call goes through the configured forward proxy, as an absolute URL."""

import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from wechat.transport import TransportConfig, WeChatTransport

# The proxy itself goes straight to the target, whatever proxy the environment names.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture
def forward_proxy():
    """A plain-HTTP forward proxy on loopback that records the request lines it relays."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            seen.append(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            upstream = urllib.request.Request(
                self.path, data=body, method="POST", headers={"Content-Type": "application/json"}
            )
            with DIRECT.open(upstream, timeout=5) as answer:
                payload = answer.read()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_calls_go_through_the_proxy(fake_wechat, forward_proxy):
    proxy_url, seen = forward_proxy
    fake_wechat.answers = [("json", {"errcode": 0, "tagid_list": [2]})]
    transport = WeChatTransport(TransportConfig(base_url=fake_wechat.base_url, proxy=proxy_url))
    answer = transport.post("/cgi-bin/tags/getidlist", params={"access_token": "T"}, body={})
    assert answer["tagid_list"] == [2]
    assert seen == [f"{fake_wechat.base_url}/cgi-bin/tags/getidlist?access_token=T"]
    assert [path for _, path, _ in fake_wechat.calls] == ["/cgi-bin/tags/getidlist?access_token=T"]
