"""On the embedded default the cache is files that outlive the database: a database built
from nothing (or flushed) starts on an empty cache, or the old one's API keys and rows would
still be served under ids the new database hands out again. Real `manage.py` processes on
their own SQLite file and cache directory, as `make run` runs them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.plugins.celery_worker import ROOT
from tests.resilience.sqlite_stack import SqliteStack

_SET = "from django.core.cache import cache; cache.set('k', 'old', 600)"
_GET = "from django.core.cache import cache; print(cache.get('k'))"


@pytest.fixture
def stack(wechat_sandbox, tmp_path) -> SqliteStack:
    return SqliteStack(wechat_sandbox, tmp_path)


def _recalled(stack: SqliteStack) -> str:
    return stack.manage("shell", "-v", "0", "-c", _GET).strip()


def test_a_new_database_empties_the_file_cache_and_a_migration_does_not(stack, tmp_path):
    stack.migrate()
    stack.manage("shell", "-v", "0", "-c", _SET)
    stack.migrate()  # nothing to apply: the cache stays
    assert _recalled(stack) == "old"

    buckets = tmp_path / "cache" / "ratelimit"
    buckets.mkdir()
    (buckets / "1").write_text("an old key's bucket")

    stack.database.unlink()  # a newcomer starting over
    stack.migrate()
    assert _recalled(stack) == "None"
    assert not buckets.exists()


def test_a_flushed_database_empties_the_file_cache(stack):
    stack.migrate()
    stack.manage("shell", "-v", "0", "-c", _SET)
    stack.manage("flush", "--noinput", "-v", "0")
    assert _recalled(stack) == "None"


def test_a_cache_dir_holding_other_files_is_refused_and_nothing_is_deleted(stack, tmp_path):
    """One folder for everything: the database, an operator's notes and a backup beside the
    cache. A new database there must not take them with the cache; migrate refuses, in one
    line that names what it found, before it applies anything."""
    (tmp_path / "notes.txt").write_text("keep me")
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "db.sqlite3.1").write_text("an old copy")
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env={**stack.environment(), "CACHE_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert "CACHE_DIR" in message and "notes.txt" in message and "backup" in message, message
    assert "Traceback" not in result.stderr
    assert (tmp_path / "notes.txt").read_text() == "keep me"
    assert (tmp_path / "backup" / "db.sqlite3.1").exists()
    # Refused before anything was applied.
    assert "django_migrations" not in stack.manage(
        "shell", "-v", "0", "-c", _TABLES, CACHE_DIR=str(tmp_path / "cache")
    )


def test_a_flush_deletes_only_the_caches_own_files(stack, tmp_path):
    stack.migrate()
    stack.manage("shell", "-v", "0", "-c", _SET)
    cache_dir = tmp_path / "cache"
    (cache_dir / "ratelimit").mkdir()
    (cache_dir / "ratelimit" / "1").write_text("an old key's bucket")
    (cache_dir / "tmpab12_x9z").write_text("a write a killed process left")
    stack.manage("flush", "--noinput", "-v", "0")
    assert _recalled(stack) == "None"
    assert sorted(p.name for p in cache_dir.iterdir()) == []

    # A file of someone else's: flush refuses, and deletes nothing.
    stack.manage("shell", "-v", "0", "-c", _SET)
    (cache_dir / "db.sqlite3").write_text("not the cache's")
    result = subprocess.run(
        [sys.executable, "manage.py", "flush", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=stack.environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "db.sqlite3" in result.stderr.strip().splitlines()[-1]
    assert (cache_dir / "db.sqlite3").exists()
    assert _recalled(stack) == "old"


_TABLES = "from django.db import connection; print(connection.introspection.table_names())"
