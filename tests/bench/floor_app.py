"""The floor: the least a tag-lookup proxy does, as a yardstick for the service.

    gunicorn tests.bench.floor_app:application -k gthread -w 2 --threads 16 ...

Same URL and answer as GET /api/v1/authorizers/{appid}/users/{openid}/tags, but nothing a
real service needs beyond the one upstream call: no framework, no database, no cache, no
rate limit, no call log, no retries, no token refresh. Comparing the service with this,
under the same gunicorn settings and the same load, shows what the service's own work costs;
comparing it with wechatpy straight to the sandbox would also charge the service for the
extra HTTP hop that any proxy pays.

The upstream call goes through one module-level urllib3 pool per worker process, as the
service's WeChat transport does: kept-alive connections, no layers on top.

Configured by the harness (tests/bench/tags_support.py) through the environment:
FLOOR_SANDBOX_URL, FLOOR_ACCESS_TOKEN (the authorizer's token, read from the product's row
after onboarding), FLOOR_APPID and FLOOR_API_KEY.

It also answers the token center's loan (GET /internal/v1/authorizers/{appid}/access-token)
the least way: the key checked in a dict, the token from the environment, no upstream call
(tests/bench/bench_token_center.py).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from urllib.parse import urlencode

import urllib3

_PATH = re.compile(r"/api/v1/authorizers/(?P<appid>[^/]+)/users/(?P<openid>[^/]+)/tags")
# API key -> the one appid it may read, as the service's key -> merchant -> authorizer check.
_KEYS = {os.environ["FLOOR_API_KEY"]: os.environ["FLOOR_APPID"]}
_GETIDLIST = "/cgi-bin/tags/getidlist?" + urlencode(
    {"access_token": os.environ["FLOOR_ACCESS_TOKEN"]}
)
_SANDBOX = urllib3.util.parse_url(os.environ["FLOOR_SANDBOX_URL"])
# The service's WeChat defaults: WECHAT_CONNECT_TIMEOUT 3 s, WECHAT_READ_TIMEOUT 5 s,
# WECHAT_POOL_SIZE 64 (more than a worker's 16 threads, so no thread ever waits for one).
_POOL = urllib3.HTTPConnectionPool(
    _SANDBOX.host,
    _SANDBOX.port or 80,
    maxsize=int(os.environ.get("FLOOR_POOL_SIZE", "64")),
    timeout=urllib3.Timeout(connect=3.0, read=5.0),
    retries=False,
)
_JSON = [("Content-Type", "application/json")]

StartResponse = Callable[[str, list[tuple[str, str]]], object]


def _answer(start_response: StartResponse, status: str, body: dict) -> Iterable[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [*_JSON, ("Content-Length", str(len(data)))])
    return [data]


_LOAN = re.compile(r"/internal/v1/authorizers/(?P<appid>[^/]+)/access-token")
_LOAN_BODY = {
    "appid": os.environ["FLOOR_APPID"],
    "access_token": os.environ["FLOOR_ACCESS_TOKEN"],
    "expires_at": "2099-01-01T00:00:00+00:00",
}


def _loan(environ: dict, start_response: StartResponse, appid: str) -> Iterable[bytes]:
    scheme, _, key = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme != "Bearer" or _KEYS.get(key) != appid:
        return _answer(start_response, "401 Unauthorized", {"error": {"code": "unauthorized"}})
    return _answer(start_response, "200 OK", _LOAN_BODY)


def application(environ: dict, start_response: StartResponse) -> Iterable[bytes]:
    """WSGI entry point: one tag lookup (or loan), or 404/401/502 with a JSON error."""
    loan = _LOAN.fullmatch(environ.get("PATH_INFO", ""))
    if loan is not None and environ["REQUEST_METHOD"] == "GET":
        return _loan(environ, start_response, loan["appid"])
    match = _PATH.fullmatch(environ.get("PATH_INFO", ""))
    if match is None or environ["REQUEST_METHOD"] != "GET":
        return _answer(start_response, "404 Not Found", {"error": {"code": "not_found"}})
    scheme, _, key = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme != "Bearer" or _KEYS.get(key) != match["appid"]:
        return _answer(start_response, "401 Unauthorized", {"error": {"code": "unauthorized"}})
    openid = match["openid"]
    try:
        reply = _POOL.request(
            "POST",
            _GETIDLIST,
            body=json.dumps({"openid": openid}).encode(),
            headers={"Content-Type": "application/json"},
        )
        payload = json.loads(reply.data)
    except (urllib3.exceptions.HTTPError, ValueError) as exc:
        error = {"code": "wechat_unavailable", "detail": type(exc).__name__}
        return _answer(start_response, "502 Bad Gateway", {"error": error})
    if payload.get("errcode"):
        error = {"code": "wechat_error", "wechat_errcode": payload["errcode"]}
        return _answer(start_response, "502 Bad Gateway", {"error": error})
    return _answer(
        start_response, "200 OK", {"openid": openid, "tagid_list": payload["tagid_list"]}
    )
