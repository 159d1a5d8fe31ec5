"""Gunicorn settings for the web process; every knob comes from the environment.

Run as: gunicorn --config deploy/gunicorn.conf.py platform_app.wsgi:application
"""

from __future__ import annotations

import datetime
import json
import math
import os
from pathlib import Path

from gunicorn.glogging import Logger


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _available_cpus() -> int:
    """CPUs this container may use: the cgroup quota when there is one, not the host's count
    (os.cpu_count() in a 1-CPU pod on a 64-core node would start 129 workers)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cpus = min(cpus or 1, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cpus or 1)


# --- sockets and processes -------------------------------------------------------------
bind = [f"0.0.0.0:{_env_int('PORT', 8000)}"]
# 2 * cores + 1, capped: each worker holds a database connection (CONN_MAX_AGE) and its own
# WeChat connection pool, so more workers than that only add memory and connections.
workers = _env_int(
    "GUNICORN_WORKERS", min(2 * _available_cpus() + 1, _env_int("GUNICORN_MAX_WORKERS", 8))
)
# Threads let a worker keep serving while a request waits on WeChat (network-bound).
worker_class = "gthread"
threads = _env_int("GUNICORN_THREADS", 4)
# Recycle workers now and then so a slow leak cannot grow forever; jitter avoids all at once.
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max(1, max_requests // 10) if max_requests else 0
# No runtime control socket (gunicorn >= 25 puts one under $HOME, which is read-only here):
# the orchestrator scales and restarts, not gunicornc.
control_socket_disable = True
# Heartbeat files on tmpfs: a read-only root filesystem has no writable /tmp otherwise.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

# --- timeouts --------------------------------------------------------------------------
# A WeChat call may take attempts x (connect + read) plus backoff (~30 s with the defaults):
# the hard timeout sits above that so only a truly stuck worker is killed.
timeout = _env_int("GUNICORN_TIMEOUT", 60)
# On SIGTERM (rolling update, scale down) in-flight requests get this long to finish;
# the orchestrator's grace period must be longer (k8s: terminationGracePeriodSeconds).
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Longer than the load balancer's idle timeout (60 s on most), so the balancer closes idle
# connections first and never sends a request on one gunicorn is closing.
keepalive = _env_int("GUNICORN_KEEPALIVE", 75)

# --- proxies ---------------------------------------------------------------------------
# Who may set X-Forwarded-*: the load balancer's addresses ("*" when only it can reach us).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# --- logging ---------------------------------------------------------------------------
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()


def _masked_path(path: str | None) -> str | None:
    """Invites (/authorize/<invite>/) and openids (/users/<openid>/tags) sit in paths."""
    if not path:
        return path
    from core.logs import mask_secrets  # no Django: safe in the master

    return mask_secrets(path)


class JsonAccessLogger(Logger):
    """One JSON object per request on stdout. The path is logged without its query string
    (OAuth callbacks carry auth codes there) and with invites and openids masked."""

    def access(self, resp, req, environ, request_time) -> None:  # type: ignore[override]
        if not self.cfg.accesslog:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        headers = dict(resp.headers.items() if hasattr(resp.headers, "items") else resp.headers)
        record = {
            "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
            "logger": "gunicorn.access",
            "method": environ.get("REQUEST_METHOD"),
            "path": _masked_path(environ.get("PATH_INFO")),
            "status": int(status),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "remote_addr": environ.get("REMOTE_ADDR"),
            "user_agent": environ.get("HTTP_USER_AGENT"),
            "request_id": next(
                (v for k, v in headers.items() if k.lower() == "x-request-id"), None
            ),
        }
        try:
            self.access_log.info(json.dumps(record, default=str))
        except Exception:  # a log line must never break a response
            self.exception("could not write the access log line")


logger_class = JsonAccessLogger

# --- Prometheus multiprocess mode ------------------------------------------------------
# Several workers each count their own requests; /metrics (platform_app/ops/views.py) sums
# the files they write here. Set before any worker imports prometheus_client.
PROMETHEUS_MULTIPROC_DIR = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR",
    "/tmp/prometheus-multiproc",  # noqa: S108
)


def on_starting(server) -> None:
    """Master, once, before any worker: start from an empty directory, or the counters of a
    previous run (same container restarted, pids reused) would be added to this one's."""
    from platform_app.ops.multiproc import clear_directory

    clear_directory(PROMETHEUS_MULTIPROC_DIR)


def child_exit(server, worker) -> None:
    """A worker died or was recycled: drop its live gauges and fold its counters into the
    archive, so recycled workers (max_requests) do not fill the memory-backed volume."""
    from platform_app.ops.multiproc import retire_process

    retire_process(worker.pid, PROMETHEUS_MULTIPROC_DIR)
