"""HTTP plumbing: keep-alive, framing, robustness against any input, the management command."""

import http.client
import json
import os
import pathlib
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox import demo, routes

ROOT = pathlib.Path(__file__).resolve().parents[2]
SANDBOX_DIR = ROOT / "sandbox"


def test_keep_alive_and_framing(wechat_sandbox):
    host, port = wechat_sandbox.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=5)
    conn.request("GET", "/cgi-bin/tags/get")
    first = conn.getresponse()
    body = first.read()
    sock = conn.sock
    assert first.status == 200
    assert first.getheader("Content-Length") == str(len(body))
    assert json.loads(body)["errcode"] == 41001

    conn.request("POST", "/cgi-bin/tags/getidlist", body=b"{}")
    second = conn.getresponse()
    second.read()
    assert conn.sock is sock  # the same connection served both

    conn.request("HEAD", "/sandbox/state")
    head = conn.getresponse()
    assert head.status == 200
    assert int(head.getheader("Content-Length")) > 0
    assert head.read() == b""

    conn.request("GET", "/sandbox/", headers={"Connection": "close"})
    last = conn.getresponse()
    assert last.getheader("Connection") == "close"
    last.read()
    conn.close()


def test_chunked_request_body(wechat_sandbox):
    body = json.dumps({"component_appid": demo.COMPONENT_APPID}).encode()
    response = requests.post(
        wechat_sandbox.base_url + "/cgi-bin/component/api_component_token",
        data=iter([body[:10], body[10:]]),  # a generator makes requests send it chunked
        timeout=5,
    )
    assert response.json()["errcode"] == 41004  # the body was read: appid passed, secret missing


PATHS = [*routes.ROUTES, *routes.PAGES, "/sandbox/faults", "/sandbox/push", "/x", "/cgi-bin/"]
printable = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
FIELDS = [
    "component_appid", "component_appsecret", "component_verify_ticket", "authorizer_appid",
    "authorizer_refresh_token", "authorization_code", "openid", "offset", "count",
]  # fmt: skip
# Real credentials and appids get the fuzzer past the first checks.
REAL = [demo.COMPONENT_APPID, demo.COFFEE_APPID, demo.demo_openids(demo.COFFEE_APPID)[0],
        "@component", "@authorizer", "@refresh"]  # fmt: skip
values = st.one_of(
    printable, st.sampled_from(REAL), st.integers(), st.none(), st.lists(st.integers())
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(PATHS),
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    query=st.dictionaries(
        st.sampled_from(["access_token", "component_access_token", "pre_auth_code", "offset"]),
        st.one_of(printable, st.sampled_from(REAL)),
        max_size=2,
    ),
    body=st.one_of(
        st.binary(max_size=64),
        st.dictionaries(st.one_of(st.sampled_from(FIELDS), printable), values, max_size=4),
    ),
)
def test_no_input_gets_a_server_error(wechat_sandbox, path, method, query, body):
    world = wechat_sandbox.state
    if not world.component_access.current:
        world.issue_component_token()
        world.authorize(demo.COFFEE_APPID)
    secrets = {
        "@component": world.component_access.current,
        "@authorizer": world.authorizers[demo.COFFEE_APPID].access.current,
        "@refresh": world.authorizers[demo.COFFEE_APPID].refresh.current,
    }

    def real(value):
        return secrets.get(value, value) if isinstance(value, str) else value

    query = {k: real(v) for k, v in query.items()}
    if isinstance(body, dict):
        body = json.dumps({k: real(v) for k, v in body.items()}, ensure_ascii=False).encode()
    response = requests.request(
        method, wechat_sandbox.base_url + path, params=query, data=body, timeout=5,
        allow_redirects=False,
    )  # fmt: skip
    assert response.status_code < 500
    if path.startswith("/cgi-bin/") and path not in routes.PAGES:
        assert response.status_code == 200
        assert isinstance(response.json().get("errcode", 0), int)  # success bodies have none
    assert wechat_sandbox.internal_errors == 0


def test_management_command_runs_until_sigterm(push_receiver):
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONWARNINGS": "ignore"}
    args = ["--port", "0", "--callback", push_receiver.url, "--token-ttl", "60"]
    args += ["--latency-ms", "2", "--rotate-refresh-token", "--seed", "3"]
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "wechat_sandbox", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first_line = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in first_line, proc.stderr.read()
        base_url = first_line.split("listening on ")[1].strip()
        state = requests.get(base_url + "/sandbox/state", timeout=5).json()
        assert state["settings"]["token_ttl"] == 60
        assert state["settings"]["rotate_refresh_token"] is True
        assert state["faults"]["base"]["latency_ms"] == 2
        assert push_receiver.wait_for(1)  # the ticket, pushed at start
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert "stopped" in out


# -- stop signals at the worst moments ---------------------------------------------------------
# The command runs under a prelude (python -c) that stages the moment, then as manage.py would.
RUN_MANAGE_PY = """
sys.argv = ["manage.py", *sys.argv[1:]]
import runpy
runpy.run_path("manage.py", run_name="__main__")
"""
# The signal lands while the main thread holds a threading lock (a Condition's, as inside
# Event.wait()), once the command has its own handler. Raised there, it is handled there: what a
# signal arriving at that instant does. Announced on stdout, so the test knows it happened.
IN_A_LOCK = """
import signal, sys, threading
SIG = signal.Signals[sys.argv.pop(1)]
DEFAULTS = (signal.SIG_DFL, signal.SIG_IGN, signal.default_int_handler)
_acquire_restore = threading.Condition._acquire_restore
_done = []

def _holding_the_lock(self, state):
    _acquire_restore(self, state)
    main = threading.current_thread() is threading.main_thread()
    if main and not _done and signal.getsignal(SIG) not in DEFAULTS:
        _done.append(SIG)
        print("signal raised inside a lock", flush=True)
        signal.raise_signal(SIG)

threading.Condition._acquire_restore = _holding_the_lock
"""
# The signal lands as soon as the server serves: mid-startup, before the listening line.
AT_STARTUP = """
import signal, sys
SIG = signal.Signals[sys.argv.pop(1)]
from sandbox.server import SandboxServer
_start = SandboxServer.start

def _start_then_signal(self):
    started = _start(self)
    signal.raise_signal(SIG)
    return started

SandboxServer.start = _start_then_signal
"""
# The parent started the command with the signal blocked (a mask is inherited across exec).
INHERITED_BLOCKED = """
import signal, sys
SIG = signal.Signals[sys.argv.pop(1)]
signal.pthread_sigmask(signal.SIG_BLOCK, {SIG})
"""
STOP_SIGNALS = [signal.SIGTERM, signal.SIGINT]


def start_command(prelude: str, signum: signal.Signals) -> tuple[subprocess.Popen, queue.Queue]:
    """The command with `prelude` first; its merged output lines arrive on the queue."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONWARNINGS": "ignore"}
    args = [signum.name, "wechat_sandbox", "--port", "0"]
    proc = subprocess.Popen(
        [sys.executable, "-c", prelude + RUN_MANAGE_PY, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue = queue.Queue()

    def read() -> None:
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return proc, lines


def read_until(lines: queue.Queue, marker: str | None, timeout: float) -> list[str]:
    """Lines up to the one containing `marker` (or to the end of the output, or the timeout)."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line is None:
            lines.put(None)
            break
        seen.append(line)
        if marker is not None and marker in line:
            break
    return seen


def assert_stops_cleanly(proc: subprocess.Popen, lines: queue.Queue, seen: list[str]) -> None:
    try:
        proc.wait(timeout=10)
        exited = True
    except subprocess.TimeoutExpired:
        exited = False
    finally:
        proc.kill()
        proc.wait()
    output = "".join(seen + read_until(lines, None, timeout=5))
    assert exited, f"still running 10 s after the stop signal:\n{output}"
    assert proc.returncode == 0, output
    assert "WeChat sandbox stopped" in output, output


@pytest.mark.parametrize("signum", STOP_SIGNALS, ids=lambda s: s.name)
def test_stop_signal_while_the_main_thread_holds_a_lock(signum):
    proc, lines = start_command(IN_A_LOCK, signum)
    seen = read_until(lines, "control:", timeout=30)
    assert any("listening on" in line for line in seen), "".join(seen)
    # The main thread takes a Condition's lock when it starts a thread, when it waits on an Event
    # (however briefly) and at the latest while stopping: the test signals only if the prelude
    # has not signalled yet.
    seen += read_until(lines, "signal raised inside a lock", timeout=3)
    if not any("inside a lock" in line for line in seen):
        proc.send_signal(signum)
    assert_stops_cleanly(proc, lines, seen)


@pytest.mark.parametrize("signum", STOP_SIGNALS, ids=lambda s: s.name)
def test_stop_signal_during_startup(signum):
    proc, lines = start_command(AT_STARTUP, signum)
    assert_stops_cleanly(proc, lines, [])


@pytest.mark.parametrize("signum", STOP_SIGNALS, ids=lambda s: s.name)
def test_stop_signal_inherited_blocked(signum):
    proc, lines = start_command(INHERITED_BLOCKED, signum)
    seen = read_until(lines, "control:", timeout=30)
    assert any("listening on" in line for line in seen), "".join(seen)
    proc.send_signal(signum)
    assert_stops_cleanly(proc, lines, seen)
