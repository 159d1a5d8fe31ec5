"""The operators' log of merchant API calls: one ApiCall row per request, openids masked.

Rows are buffered per process and written by a background thread in one multi-row INSERT
every API_CALL_LOG_FLUSH_SECONDS (or sooner, at API_CALL_LOG_BATCH rows): a lookup then runs
no SQL at all on its own path, and the log costs one round trip per batch instead of one
commit (with its WAL flush) per request. The price is that a killed process loses the last
second of log rows; a clean exit flushes them. With API_CALL_LOG_FLUSH_SECONDS = 0 each row
is written in the request (tests do that, to read the row back at once).

Requests refused by the key's own rate limit are not logged (a flood would turn into a flood
of rows); they are counted in the `api_rate_limited_total` metric instead.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.db.models import Model

from authorizers.models import ApiCall

logger = logging.getLogger("merchant_api")


def mask_openid(openid: str) -> str:
    """`oAbc…xyz9`: enough to tell users apart in a log, not enough to address one."""
    if not openid:
        return ""
    # The openid comes from the URL before it is validated; PostgreSQL refuses NUL in text,
    # and one such row would fail the whole buffered batch (every merchant's log rows).
    openid = openid.replace("\x00", "\ufffd")
    if len(openid) <= 10:
        return openid[:2] + "…"
    return f"{openid[:4]}…{openid[-4:]}"


@dataclass
class CallContext:
    """What a view learned while handling the request; the base view writes it out."""

    endpoint: str
    authorizer_id: int | None = None
    authorizer_appid: str = ""
    openid: str = ""
    item_count: int = 1


def api_call_record(
    *,
    merchant_id: int,
    api_key_id: int | None,
    context: CallContext,
    result: str,
    status_code: int,
    wechat_errcode: int | None,
    rid: str | None,
    latency_ms: int,
) -> None:
    row = ApiCall(
        merchant_id=merchant_id,
        api_key_id=api_key_id,
        authorizer_id=context.authorizer_id,
        authorizer_appid=context.authorizer_appid[:64],
        endpoint=context.endpoint,
        result=result[:40],
        status_code=status_code,
        wechat_errcode=wechat_errcode,
        rid=(rid or "")[:40],
        latency_ms=max(0, latency_ms),
        openid_masked=mask_openid(context.openid),
        item_count=context.item_count,
    )
    log_row_add(row)


def log_row_add(row: Model) -> None:
    """Write a log row (an ApiCall, or a sibling log's row) with the buffered writer: in
    the request when API_CALL_LOG_FLUSH_SECONDS is 0, else with the next batch."""
    if settings.API_CALL_LOG_FLUSH_SECONDS <= 0:
        _write([row])
    else:
        _buffer().add(row)


def _write(rows: list[Model]) -> None:
    by_model: dict[type[Model], list[Model]] = {}
    for row in rows:
        by_model.setdefault(type(row), []).append(row)
    for model, group in by_model.items():
        _write_model(model, group)


def _write_model(model: type[Model], rows: list[Model]) -> None:
    try:
        model.objects.bulk_create(rows)
        return
    except DatabaseError:
        logger.warning("batch insert of %d log row(s) failed; writing them one by one", len(rows))
    # One bad row must not take every merchant's rows of this flush with it.
    for row in rows:
        try:
            row.save(force_insert=True)
        except DatabaseError:
            # The answer is already sent; a lost log line must never fail a request.
            logger.exception("could not record a log row (%s)", type(row).__name__)


class _Buffer:
    def __init__(self) -> None:
        self._rows: list[Model] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="api-call-log", daemon=True)
        self._thread.start()
        atexit.register(self.flush)

    def add(self, row: Model) -> None:
        with self._lock:
            self._rows.append(row)
            full = len(self._rows) >= settings.API_CALL_LOG_BATCH
        if full:
            self._wake.set()

    def flush(self) -> None:
        with self._lock:
            rows, self._rows = self._rows, []
        if rows:
            close_old_connections()  # this thread's connection may have gone stale
            _write(rows)
            if threading.current_thread() is self._thread:
                # Hold no idle connection between flushes (PgBouncer-friendly, and test
                # databases can be dropped).
                connection.close()

    def _run(self) -> None:
        while True:
            self._wake.wait(max(0.05, settings.API_CALL_LOG_FLUSH_SECONDS))
            self._wake.clear()
            self.flush()


_buffers: dict[int, _Buffer] = {}
_buffers_lock = threading.Lock()


def _buffer() -> _Buffer:
    pid = os.getpid()  # a forked worker starts its own thread
    buffer = _buffers.get(pid)
    if buffer is None:
        with _buffers_lock:
            buffer = _buffers.get(pid) or _buffers.setdefault(pid, _Buffer())
    return buffer


def api_call_log_flush() -> None:
    """Write buffered rows now (tests, shutdown hooks)."""
    buffer = _buffers.get(os.getpid())
    if buffer is not None:
        buffer.flush()
