"""is_lock_timeout: real lock waits that gave up, raised by the real drivers and translated by
Django's own error wrapper, on both engines; other operational errors are not lock waits."""

from __future__ import annotations

import sqlite3
from types import SimpleNamespace

import pytest
from django.db import OperationalError, connection, connections, transaction
from django.db.utils import DatabaseErrorWrapper

from core.db_locks import is_lock_timeout


def _as_django_error(call) -> OperationalError:
    """Run `call` under the wrapper Django puts around every cursor call on SQLite."""
    wrapper = DatabaseErrorWrapper(SimpleNamespace(Database=sqlite3, errors_occurred=False))
    with pytest.raises(OperationalError) as raised, wrapper:
        call()
    assert isinstance(raised.value.__cause__, sqlite3.OperationalError)
    return raised.value


def test_sqlite_busy_after_the_busy_timeout_is_a_lock_timeout(tmp_path):
    path = tmp_path / "locks.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    waiter = sqlite3.connect(path, isolation_level=None, timeout=0.05)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    try:
        error = _as_django_error(lambda: waiter.execute("BEGIN IMMEDIATE"))
    finally:
        holder.execute("ROLLBACK")
    assert str(error) == "database is locked"
    assert is_lock_timeout(error)
    assert is_lock_timeout(error.__cause__)  # the driver's own error too


def test_sqlite_shared_cache_table_lock_is_a_lock_timeout():
    # pytest-django's in-memory SQLite test database is shared cache: a reader there meets
    # another connection's uncommitted write as SQLITE_LOCKED, not as a busy wait.
    uri = "file:db_locks_test?mode=memory&cache=shared"
    writer = sqlite3.connect(uri, uri=True, isolation_level=None)
    reader = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=0.05)
    writer.execute("CREATE TABLE t (x)")
    writer.execute("BEGIN")
    writer.execute("INSERT INTO t VALUES (1)")
    try:
        error = _as_django_error(lambda: reader.execute("SELECT * FROM t").fetchall())
    finally:
        writer.execute("ROLLBACK")
        reader.close()
        writer.close()
    assert str(error).startswith("database table is locked")  # ": <table>" follows
    assert is_lock_timeout(error)


def test_other_sqlite_errors_are_not_lock_timeouts(tmp_path):
    db = sqlite3.connect(tmp_path / "other.sqlite3")
    error = _as_django_error(lambda: db.execute("SELECT * FROM missing"))
    assert not is_lock_timeout(error)
    assert not is_lock_timeout(OperationalError("disk I/O error"))


def _execute(*statements: str) -> None:
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


@pytest.mark.django_db(transaction=True)
def test_postgresql_lock_timeout_is_a_lock_timeout():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    holder = connections.create_connection("default")
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(1516)")
        # SET LOCAL: the failed transaction's rollback takes the setting with it.
        with pytest.raises(OperationalError) as raised, transaction.atomic():
            _execute("SET LOCAL lock_timeout = '50ms'", "SELECT pg_advisory_xact_lock(1516)")
    finally:
        holder.close()
    assert raised.value.__cause__.sqlstate == "55P03"
    assert is_lock_timeout(raised.value)


@pytest.mark.django_db(transaction=True)
def test_other_postgresql_operational_errors_are_not_lock_timeouts():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    with pytest.raises(OperationalError) as raised, transaction.atomic():
        _execute("SET LOCAL statement_timeout = '10ms'", "SELECT pg_sleep(1)")
    assert raised.value.__cause__.sqlstate == "57014"  # query_canceled
    assert not is_lock_timeout(raised.value)


def test_a_lock_timeout_escaping_an_api_view_is_a_retryable_503(tmp_path, settings):
    from merchant_api.exceptions import api_error_from

    settings.API_UPSTREAM_RETRY_AFTER_SECONDS = 7
    path = tmp_path / "api.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    waiter = sqlite3.connect(path, isolation_level=None, timeout=0.05)
    holder.execute("BEGIN IMMEDIATE")
    try:
        locked = _as_django_error(lambda: waiter.execute("BEGIN IMMEDIATE"))
    finally:
        holder.execute("ROLLBACK")
    error = api_error_from(locked)
    assert (error.status, error.code) == (503, "upstream_unavailable")
    assert error.headers()["Retry-After"] == "7"
    # Any other database failure stays what it is: an unexpected error, logged, a bare 500.
    missing = _as_django_error(lambda: waiter.execute("SELECT * FROM missing"))
    assert api_error_from(missing) is None
