"""On the embedded default the cache is files that outlive the database: a database built
from nothing (or flushed) starts on an empty cache, or the old one's API keys and rows would
still be served under ids the new database hands out again. Real `manage.py` processes on
their own SQLite file and cache directory, as `make run` runs them."""

from __future__ import annotations

import pytest

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
