"""On the embedded default the cache is files that outlive the database: a database built
from nothing starts on an empty cache, or the old one's API keys and rows would still be
served under ids the new database hands out again. Real processes, as `make run` runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _manage(tmp_path, *args: str) -> str:
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "TEST_DATABASE", "REDIS_URL", "CELERY_", "CACHE_"))
    }
    environment.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        ALLOW_SQLITE_IN_PRODUCTION="1",
        CACHE_DIR=str(tmp_path / "cache"),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _remember(tmp_path) -> None:
    _manage(
        tmp_path,
        "shell",
        "-v",
        "0",
        "-c",
        "from django.core.cache import cache; cache.set('k', 'old', 600)",
    )


def _recalled(tmp_path) -> str:
    return _manage(
        tmp_path,
        "shell",
        "-v",
        "0",
        "-c",
        "from django.core.cache import cache; print(cache.get('k'))",
    )


def test_a_new_database_empties_the_file_cache_and_a_migration_does_not(tmp_path):
    _manage(tmp_path, "migrate", "--noinput", "-v", "0")
    _remember(tmp_path)
    _manage(tmp_path, "migrate", "--noinput", "-v", "0")  # nothing to apply: the cache stays
    assert _recalled(tmp_path) == "old"

    buckets = tmp_path / "cache" / "ratelimit"
    buckets.mkdir()
    (buckets / "1").write_text("an old key's bucket")

    (tmp_path / "db.sqlite3").unlink()  # a newcomer starting over
    _manage(tmp_path, "migrate", "--noinput", "-v", "0")
    assert _recalled(tmp_path) == "None"
    assert not buckets.exists()
