"""A new database starts on an empty cache, on the embedded default.

The embedded default keeps its cache in files (settings/cache.py), which outlive the
database: delete `var/db.sqlite3` and migrate again (or `manage.py flush`), and the old API
keys, authorizer rows and tokens would still be served from `var/cache` for their lifetime,
under ids the new database hands out again. Redis and the per-process memory cache are left
alone (a Redis database may be shared; memory does not outlive the process). The rate-limit
buckets kept in the same directory go too.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.filebased import FileBasedCache

logger = logging.getLogger(__name__)


def cache_clear_for_new_database(sender, plan=None, **kwargs) -> None:
    """post_migrate receiver. A database is new when migrate's plan applies contenttypes'
    first migration (built from nothing), or after `flush` (the only sender without a plan:
    every row gone, and ids handed out again from 1)."""
    cache = caches["default"]
    if sender.label != "contenttypes" or not isinstance(cache, FileBasedCache):
        return
    if plan is None or any(
        migration.app_label == "contenttypes" and migration.name == "0001_initial" and not back
        for migration, back in plan
    ):
        # Everything under the directory: the entries and the rate-limit buckets beside them
        # (a new key with an old key's id must not start on its bucket).
        location = Path(settings.CACHES["default"]["LOCATION"])
        for entry in location.iterdir() if location.is_dir() else ():
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
        logger.info("new database: the file cache was emptied")
