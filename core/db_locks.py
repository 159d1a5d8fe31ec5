"""Whether a database error means "timed out waiting for a lock", on every engine we run on.

PostgreSQL raises lock_not_available (SQLSTATE 55P03) when a lock wait exceeds lock_timeout.
SQLite has one write lock for the whole file (see platform_app/settings/database.py): a
writer that waited the busy timeout out raises SQLITE_BUSY, "database is locked"; a
shared-cache connection (pytest-django's in-memory test database) raises SQLITE_LOCKED,
"database table is locked". Either way someone else is writing and a retry will succeed,
so callers answer it as retryable instead of failing the request.
"""

from __future__ import annotations

from django.db import OperationalError

POSTGRESQL_LOCK_NOT_AVAILABLE = "55P03"
# Primary result codes; the extended ones (SQLITE_BUSY_SNAPSHOT, ...) keep them in the low byte.
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
_SQLITE_MESSAGES = ("database is locked", "database table is locked")


def is_lock_timeout(exc: OperationalError) -> bool:
    """True for a lock wait that gave up (PostgreSQL 55P03, SQLite BUSY/LOCKED), else False.

    Takes Django's OperationalError (the driver's error is its __cause__) or the driver's own.
    """
    for error in (exc, exc.__cause__):
        if error is None:
            continue
        if getattr(error, "sqlstate", None) == POSTGRESQL_LOCK_NOT_AVAILABLE:
            return True
        code = getattr(error, "sqlite_errorcode", None)
        if isinstance(code, int) and code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED):
            return True
        if str(error).strip().lower().startswith(_SQLITE_MESSAGES):
            return True
    return False
