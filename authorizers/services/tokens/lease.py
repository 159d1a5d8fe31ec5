"""The refresh's single flight on SQLite: a lease per authorizer, not the database's lock.

On PostgreSQL a refresh holds the Authorizer row's lock across its WeChat call (tokens.py).
SQLite has no row locks: its stand-in was the database-wide write lock, and a slow WeChat
call then blocked every other writer of the file (another account's onboarding callback
failed with "database is locked" after WeChat had issued its grant). Here the refresh holds
an exclusive flock on a small file of its own per authorizer instead, around the call; the
write transaction is opened only to store the answer, which token_state stores only while
the row holds the version read before the call (compare-and-set), so a writer that did not
take the lease (a grant, an info sync) is never overwritten.

SQLite is one machine's database, so a file lock reaches every process that can write it.
The kernel drops the lock when its holder dies, as PostgreSQL drops a dead session's row
lock. The lease is re-entrant within a thread (PostgreSQL's row lock is, within a
transaction). Locks on different open files of one path exclude each other, so threads of
one process are serialised like processes.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import OperationalError, connection

_POLL_SECONDS = 0.02
_held = threading.local()


class RefreshLeaseBusy(OperationalError):
    """Another refresh of the authorizer held the lease past the lock timeout."""


def _lease_dir() -> Path:
    """Beside the database file (every process of it sees the same folder); for an
    in-memory database (one process) a folder of the temporary directory named after it."""
    name = str(connection.settings_dict["NAME"])
    if name and not name.startswith("file:") and ":memory:" not in name:
        folder = Path(name + ".leases")
    else:
        digest = hashlib.sha256(name.encode()).hexdigest()[:16]
        folder = Path(tempfile.gettempdir()) / f"wxtags-leases-{os.getpid()}-{digest}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def refresh_lease(*, authorizer_id: int, wait: bool) -> Iterator[bool]:
    """Hold the authorizer's refresh lease for the block. Yields False (without it) when
    `wait` is off and another holds it; with `wait`, waits up to
    AUTHORIZER_TOKEN_LOCK_TIMEOUT_SECONDS, then raises RefreshLeaseBusy."""
    held: set[int] = _held.__dict__.setdefault("ids", set())
    if authorizer_id in held:  # this thread holds it already
        yield True
        return
    fd = os.open(_lease_dir() / f"authorizer-{authorizer_id}", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + settings.AUTHORIZER_TOKEN_LOCK_TIMEOUT_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise
            if not wait:
                yield False
                return
            if time.monotonic() >= deadline:
                raise RefreshLeaseBusy(
                    f"database is locked: authorizer {authorizer_id} is being refreshed"
                )
            time.sleep(_POLL_SECONDS)
        held.add(authorizer_id)
        try:
            yield True
        finally:
            held.discard(authorizer_id)
    finally:
        os.close(fd)  # releases the lock
