"""Fuzzing the merchant API (SPEC 4.3) with hypothesis: malformed paths, openids, bodies and
headers, through Django's test client (fast, and `raise_request_exception=False` so a crash
is counted as the 500 a client would get), plus a few malformed requests over real HTTP to
the production server (gunicorn). Counted: inputs tried, 5xx seen (must be 0), state
changes (must be 0: lookups only read), and answers outside SPEC 4.3 (must be 0).
"""

from __future__ import annotations

import socket
from collections import Counter
from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from authorizers.services.api_keys import api_key_create, api_key_revoke
from sandbox.demo import BOOKS_APPID, COFFEE_APPID, demo_openid

from .contract import ContractViolation, check_api_response
from .state import changed_tables, state_fingerprint
from .web_process import WebProcess

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=latin-1",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "application/xml",
    "",
]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
OPENID = st.one_of(
    st.just(demo_openid(COFFEE_APPID, 0)),
    st.text(max_size=80),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=19, max_size=65),
    st.sampled_from(["..", ".", "%00", "a" * 10_000, "o" * 28 + "\x00", "oUser<script>" * 3]),
)


@st.composite
def api_requests(draw, keys: dict[str, str]):
    appid = draw(st.sampled_from([COFFEE_APPID, BOOKS_APPID, "wx00000000000000ff", ""]) | st.text())
    openid = draw(OPENID)
    segments = draw(st.lists(st.text(max_size=20), max_size=5))
    path = draw(
        st.sampled_from(
            [
                f"authorizers/{appid}/users/{openid}/tags",
                f"authorizers/{appid}/users/tags",
                f"authorizers/{appid}/",
                "authorizers/",
                "/".join(segments),
                f"authorizers/{appid}/users/{openid}/tags/" + "/".join(segments),
            ]
        )
    )
    query = draw(
        st.sampled_from(["", "expand=names", "expand=", "expand=names&expand=ids"])
        | st.text(max_size=30).map(lambda t: quote(t, safe="=&"))
    )
    url = "/api/v1/" + quote(path, safe="/") + (f"?{query}" if query else "")
    method = draw(st.sampled_from(METHODS))
    auth = draw(
        st.sampled_from(
            [
                f"Bearer {keys['own']}",
                f"Bearer {keys['own']}",
                f"Bearer {keys['own']}",
                f"Bearer {keys['other']}",
                f"Bearer {keys['revoked']}",
                f"bearer {keys['own']}",
                f"Basic {keys['own']}",
                f"Bearer {keys['own']}x",
                f"Bearer  {keys['own']} ",
                "Bearer",
                "Bearer " + "k" * 5000,
                None,
            ]
        )
        | st.text(max_size=100)
    )
    body_kind = draw(st.integers(0, 3))
    if body_kind == 0:
        body = b""
    elif body_kind == 1:
        body = draw(st.binary(max_size=300))
    elif body_kind == 2:
        import json

        body = json.dumps(draw(JSON)).encode()
    else:
        import json

        openids = draw(
            st.one_of(
                st.lists(OPENID, max_size=4),
                st.just([demo_openid(COFFEE_APPID, 0)] * 1001),
                JSON,
            )
        )
        body = json.dumps({"openids": openids}).encode()
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    extra = {}
    if draw(st.booleans()):
        extra["HTTP_ACCEPT"] = draw(
            st.sampled_from(["text/html", "application/xml", "*/*", "application/json;q=0"])
            | st.text(max_size=30)
        )
    if draw(st.booleans()):
        extra["HTTP_X_FORWARDED_FOR"] = draw(st.text(max_size=40))
    return method, url, body, content_type, auth, extra


@pytest.fixture
def fuzz_world(authorizer_factory, settings, db):
    from authorizers.models import Merchant

    settings.API_RATE_LIMIT_BURST = 10_000_000
    settings.API_RATE_LIMIT_PER_MINUTE = 600_000_000
    coffee = authorizer_factory(appid=COFFEE_APPID)
    other = Merchant.objects.create(name="Other")
    authorizer_factory(appid=BOOKS_APPID, merchant=other)
    _, own = api_key_create(merchant=coffee.merchant)
    _, theirs = api_key_create(merchant=other)
    revoked_key, revoked = api_key_create(merchant=coffee.merchant)
    api_key_revoke(api_key=revoked_key)
    return {"own": own, "other": theirs, "revoked": revoked}


def test_merchant_api_fuzz(fuzz_world, wechat_api, profile, resilience_figures):
    client = Client(raise_request_exception=False)
    baseline = state_fingerprint()
    statuses: Counter = Counter()
    codes: Counter = Counter()
    server_errors: list[str] = []
    violations: list[str] = []
    state_changes: list[str] = []
    calls_before = wechat_api.state.counters.snapshot()["by_endpoint"]

    @hsettings(
        max_examples=profile.fuzz_examples,
        deadline=None,
        database=None,
        derandomize=profile.name == "short",
        suppress_health_check=list(HealthCheck),
    )
    @given(case=api_requests(fuzz_world))
    def run(case):
        method, url, body, content_type, auth, extra = case
        headers = dict(extra)
        if auth is not None:
            headers["HTTP_AUTHORIZATION"] = auth
        response = client.generic(method, url, data=body, content_type=content_type, **headers)
        statuses[response.status_code] += 1
        where = f"{method} {url[:120]} auth={str(auth)[:30]!r}"
        if response.status_code >= 500:
            server_errors.append(f"{where}: {response.status_code} {response.content[:200]!r}")
        if method != "HEAD":
            try:
                codes[check_api_response(response.status_code, response, response.content)] += 1
            except ContractViolation as exc:
                violations.append(f"{where}: {exc}")
        changed = changed_tables(baseline, state_fingerprint())
        if changed:
            state_changes.append(f"{where}: {changed}")

    run()
    resilience_figures.record(
        f"fuzz merchant API ({profile.name})",
        kind="fuzz",
        inputs_tried=sum(statuses.values()),
        statuses=dict(sorted(statuses.items())),
        answers=dict(sorted(codes.items())),
        http_5xx=len(server_errors),
        contract_violations=len(violations),
        state_changes_from_invalid=len(state_changes),
        wechat_calls=sum(wechat_api.state.counters.snapshot()["by_endpoint"].values())
        - sum(calls_before.values()),
    )
    assert server_errors == [], server_errors[:5]
    assert violations == [], violations[:5]
    assert state_changes == [], state_changes[:5]


# Found by the fuzz run: PostgreSQL refuses NUL in a query parameter (a DataError, a 500).
NUL_REQUESTS = [
    ("GET", "/api/v1/authorizers/wx%00/", b""),
    ("GET", f"/api/v1/authorizers/wx%00/users/{demo_openid(COFFEE_APPID, 0)}/tags", b""),
    ("GET", f"/api/v1/authorizers/{COFFEE_APPID}/users/{'o%00' * 10}/tags", b""),
    (
        "POST",
        "/api/v1/authorizers/wx%00/users/tags",
        b'{"openids": ["oUser0000000000000000000000"]}',
    ),
    ("POST", f"/api/v1/authorizers/{COFFEE_APPID}/users/tags", b'{"openids": ["o\\u0000"]}'),
    ("GET", f"/api/v1/authorizers/{COFFEE_APPID}/?expand=%00", b""),
    # Also from the fuzz run: a newline escaped the /api/ catch-all into Django's HTML 404.
    ("GET", "/api/v1/authorizers/a/users/x/tags/%0A/more", b""),
    ("GET", "/api/v1/%0A", b""),
]


@pytest.mark.parametrize(("method", "url", "body"), NUL_REQUESTS)
def test_nul_bytes_are_refused_not_crashed(fuzz_world, wechat_api, method, url, body):
    client = Client(raise_request_exception=False)
    response = client.generic(
        method,
        url,
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {fuzz_world['own']}",
    )
    assert check_api_response(response.status_code, response, response.content) in (
        "ok",
        "not_found",
        "invalid_request",
    ), response.content
    # The call log's INSERT did not fail (which would break this test's transaction).
    from authorizers.models import ApiCall

    assert ApiCall.objects.count() >= 0


def test_a_nul_openid_does_not_lose_other_merchants_call_log_rows(
    fuzz_world, settings, monkeypatch
):
    from authorizers.models import ApiCall
    from merchant_api import call_log
    from merchant_api.call_log import api_call_log_flush

    settings.API_CALL_LOG_FLUSH_SECONDS = 60  # buffered, as in production; flushed by hand
    # (the flush would reconnect: not inside this test's transaction)
    monkeypatch.setattr(call_log, "close_old_connections", lambda: None)
    client = Client(raise_request_exception=False)
    for key, openid in (("other", demo_openid(BOOKS_APPID, 0)), ("own", "o%00" * 10)):
        client.get(
            f"/api/v1/authorizers/{BOOKS_APPID}/users/{openid}/tags",
            HTTP_AUTHORIZATION=f"Bearer {fuzz_world[key]}",
        )
    api_call_log_flush()
    assert ApiCall.objects.count() == 2


# -- over real HTTP, to the production server ---------------------------------------------------

RAW_REQUESTS = [
    b"GET /api/v1/authorizers/%ZZ/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /api/v1/authorizers/\xff\xfe/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /api/v1/authorizers/wx1/users/%00%00/tags HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /api/v1/../../etc/passwd HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET http://evil.example/api/v1/authorizers/ HTTP/1.1\r\nHost: evil.example\r\n\r\n",
    b"GET /api/v1/authorizers/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Authorization: Bearer \xff\xfe\r\n\r\n",
    b"GET /api/v1/authorizers/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: "
    + b"B" * 20_000
    + b"\r\n\r\n",
    b"POST /api/v1/authorizers/wx1/users/tags HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b'Content-Type: application/json\r\nContent-Length: 5\r\n\r\n{"ope',
    b"POST /api/v1/authorizers/wx1/users/tags HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: application/json\r\nContent-Length: -1\r\n\r\n{}",
    b"POST /api/v1/authorizers/wx1/users/tags HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n",
    b"GARBAGE\r\n\r\n",
    b"GET /api/v1/authorizers/ HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /api/v1/authorizers/ HTTP/1.1\r\n" + b"X-Pad: a\r\n" * 500 + b"\r\n",
]


def _status_of(port: int, raw: bytes) -> int | None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    if not reply:
        return None  # the server closed without answering: not a 500 either
    return int(reply.split(b" ", 2)[1])


@pytest.mark.django_db(transaction=True)
def test_malformed_http_requests_to_gunicorn(wechat_api, tmp_path, resilience_figures):
    web = WebProcess(wechat_api, tmp_path).start()
    try:
        statuses = [_status_of(web.port, raw) for raw in RAW_REQUESTS]
        assert web.process.poll() is None, "the server died"
        assert web._ready()
    finally:
        web.stop()
    server_errors = [
        (raw[:60], status)
        for raw, status in zip(RAW_REQUESTS, statuses, strict=True)
        if status and status >= 500
    ]
    resilience_figures.record(
        "fuzz malformed HTTP to gunicorn",
        kind="fuzz",
        inputs_tried=len(RAW_REQUESTS),
        statuses=dict(Counter(str(s) for s in statuses)),
        http_5xx=len(server_errors),
    )
    assert server_errors == []
    # (Django logs DisallowedHost with a traceback at ERROR and answers 400: not a crash.)
    assert "Internal Server Error" not in web.log, web.log[-3000:]
