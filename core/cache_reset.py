"""A new database starts on an empty cache, on the embedded default.

The embedded default keeps its cache in files (settings/cache.py), which outlive the
database: delete `var/db.sqlite3` and migrate again (or `manage.py flush`), and the old API
keys, authorizer rows and tokens would still be served from `var/cache` for their lifetime,
under ids the new database hands out again. Redis and the per-process memory cache are left
alone (a Redis database may be shared; memory does not outlive the process). The rate-limit
buckets kept in the same directory go too.

Only the cache's own files are deleted: its entries, a write it left half done, and the
rate-limit folder. A CACHE_DIR that holds anything else (the SQLite database itself, when one
folder was given to everything) is refused before migrate applies anything, and nothing in
it is deleted.
"""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.filebased import FileBasedCache
from django.core.management.base import CommandError

logger = logging.getLogger(__name__)

# merchant_api.ratelimit.FileBuckets keeps its buckets in this folder of CACHE_DIR.
RATELIMIT_FOLDER = "ratelimit"
# FileBasedCache writes each entry to a tempfile.mkstemp() file, then renames it into place.
_WRITE_IN_PROGRESS = re.compile(r"^tmp[a-z0-9_]{8}$")


def _is_cache_own(entry: Path) -> bool:
    if entry.is_dir() and not entry.is_symlink():
        return entry.name == RATELIMIT_FOLDER
    if not entry.is_file() or entry.is_symlink():
        return False
    return entry.name.endswith(FileBasedCache.cache_suffix) or bool(
        _WRITE_IN_PROGRESS.match(entry.name)
    )


def cache_dir_foreign_entries(location: Path) -> list[str]:
    """The names under `location` that the file cache did not put there, sorted."""
    if not location.is_dir():
        return []
    return sorted(entry.name for entry in location.iterdir() if not _is_cache_own(entry))


def _cache_location() -> Path | None:
    """The file cache's folder, or None when the cache is not files."""
    if not isinstance(caches["default"], FileBasedCache):
        return None
    return Path(settings.CACHES["default"]["LOCATION"])


def _builds_new_database(sender, plan) -> bool:
    """A database is new when migrate's plan applies contenttypes' first migration (built
    from nothing), or after `flush` (the only sender without a plan: every row gone, and ids
    handed out again from 1)."""
    if sender.label != "contenttypes":
        return False
    return plan is None or any(
        migration.app_label == "contenttypes" and migration.name == "0001_initial" and not back
        for migration, back in plan
    )


def cache_dir_require_own(location: Path) -> None:
    """Raise CommandError (one line, the names it found) when `location` holds anything
    but the cache's own files."""
    foreign = cache_dir_foreign_entries(location)
    if foreign:
        more = len(foreign) - 5
        shown = ", ".join(foreign[:5]) + (f" and {more} more" if more > 0 else "")
        raise CommandError(
            f"CACHE_DIR {location} holds files that are not the cache's ({shown}); a new "
            "database empties the cache's folder, so give CACHE_DIR a folder of its own. "
            "Nothing was deleted."
        )


def cache_dir_check_before_migrate(sender, plan=None, **kwargs) -> None:
    """pre_migrate receiver: refuse before a new database is built, not after."""
    location = _cache_location()
    if location is not None and plan is not None and _builds_new_database(sender, plan):
        cache_dir_require_own(location)


def cache_clear_for_new_database(sender, plan=None, **kwargs) -> None:
    """post_migrate receiver: empties the file cache when the database is new."""
    location = _cache_location()
    if location is None or not _builds_new_database(sender, plan):
        return
    # Checked again here: `flush` sends no pre_migrate.
    cache_dir_require_own(location)
    # The entries and the rate-limit buckets beside them (a new key with an old key's id
    # must not start on its bucket).
    for entry in location.iterdir() if location.is_dir() else ():
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    logger.info("new database: the file cache was emptied")
