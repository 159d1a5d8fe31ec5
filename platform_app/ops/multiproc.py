"""Keeps prometheus_client's multiprocess directory bounded.

Each process writes its own files (counter_<pid>.db, histogram_<pid>.db, gauges). A recycled
gunicorn worker (max_requests) or Celery pool process leaves them behind, and the directory
is a small memory-backed volume: left alone it fills up and the pod is evicted. So when a
process dies its counters and histograms are added into one archive file per kind (totals
never go down) and its files deleted; its live gauges are dropped (mark_process_dead).

No Django here: gunicorn's master imports this before any worker exists.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import multiprocess
from prometheus_client.mmap_dict import MmapedDict

# Kinds whose values are sums over processes, so a dead process's share can be folded in.
_SUMMED_KINDS = ("counter", "histogram", "summary")
_ARCHIVE = "archive"  # MultiProcessCollector reads "<kind>_<anything>.db"; the pid is unused
_LOCK_NAME = ".retire.lock"  # not *.db: the collector must not read it


def _directory(path: str | None) -> Path:
    return Path(path or os.environ["PROMETHEUS_MULTIPROC_DIR"])


def clear_directory(path: str | None = None) -> None:
    """Empties (or creates) the directory: a previous run's files, pids possibly reused,
    would be added to this run's counters."""
    directory = _directory(path)
    if directory.exists():
        for entry in directory.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    directory.mkdir(parents=True, exist_ok=True)


@contextlib.contextmanager
def _retire_lock(directory: Path) -> Iterator[None]:
    # Celery pool processes retire themselves, possibly several at once.
    with (directory / _LOCK_NAME).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _fold_into_archive(directory: Path, kind: str, dead: Path) -> None:
    archive = directory / f"{kind}_{_ARCHIVE}.db"
    totals: dict[str, float] = {}
    for source in (archive, dead):
        if source.exists():
            for key, value, _timestamp, _pos in MmapedDict.read_all_values_from_file(str(source)):
                totals[key] = totals.get(key, 0.0) + value
    staging = directory / f"{kind}_{_ARCHIVE}.staging"
    staging.unlink(missing_ok=True)
    writer = MmapedDict(str(staging))
    try:
        for key, value in totals.items():
            writer.write_value(key, value, 0.0)
    finally:
        writer.close()
    # A scrape between these two steps counts the dead share twice, once: far better than a
    # directory that grows until the pod is evicted.
    os.replace(staging, archive)
    dead.unlink()


def retire_process(pid: int, path: str | None = None) -> None:
    """Bookkeeping for a process that has exited (or is about to, writing nothing more)."""
    directory = _directory(path)
    if not directory.is_dir():
        return
    multiprocess.mark_process_dead(pid, str(directory))
    dead_files = [(kind, directory / f"{kind}_{pid}.db") for kind in _SUMMED_KINDS]
    if not any(dead.exists() for _, dead in dead_files):
        return
    with _retire_lock(directory):
        for kind, dead in dead_files:
            if dead.exists():
                _fold_into_archive(directory, kind, dead)
