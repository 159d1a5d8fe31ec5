"""The embedded default's SQLite settings, as the product loads them (DATABASE_URL a file):
every transaction.atomic() holds the write lock from its start, and readers go on meanwhile.

Run in a subprocess: the test run's own settings point at PostgreSQL, or at pytest-django's
in-memory SQLite, which is not what `make run` gets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.plugins.celery_worker import ROOT

_PROBE = """
import json, sqlite3, sys
from django.db import connection, transaction

path = connection.settings_dict["NAME"]
other = sqlite3.connect(path, isolation_level=None, timeout=0)

def other_can(sql):
    try:
        other.execute(sql).fetchall()
    except sqlite3.OperationalError as exc:
        return str(exc)
    if sql.startswith("BEGIN"):
        other.execute("ROLLBACK")
    return "ok"

with connection.cursor() as cursor:
    journal = cursor.execute("PRAGMA journal_mode").fetchone()[0]
    synchronous = cursor.execute("PRAGMA synchronous").fetchone()[0]
with transaction.atomic():
    # No statement yet: the lock must already be held when the block starts.
    inside = {
        "write": other_can("BEGIN IMMEDIATE"), "read": other_can("SELECT * FROM sqlite_master")
    }
after = other_can("BEGIN IMMEDIATE")
print(json.dumps({
    "journal": journal, "synchronous": synchronous, "inside": inside, "after": after,
    "timeout": connection.settings_dict["OPTIONS"]["timeout"],
}))
"""


def _probe(tmp_path, **env: str) -> dict:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "TEST_DATABASE"))
    }
    environment.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", ALLOW_SQLITE_IN_PRODUCTION="1", **env
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", _PROBE],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_atomic_blocks_take_the_write_lock_up_front_and_readers_go_on(tmp_path):
    probe = _probe(tmp_path)
    assert probe["journal"] == "wal"
    assert probe["synchronous"] == 2  # FULL: a committed refresh token survives a power cut
    assert probe["inside"] == {"write": "database is locked", "read": "ok"}
    assert probe["after"] == "ok"


def test_the_busy_timeout_is_the_refresh_lock_timeout(tmp_path):
    assert _probe(tmp_path)["timeout"] == 20
    assert _probe(tmp_path, AUTHORIZER_TOKEN_LOCK_TIMEOUT_SECONDS="3.5")["timeout"] == 3.5
