"""The prometheus multiprocess directory stays bounded: a dead process's counters are folded
into one archive file (totals kept), its live gauges dropped, and gunicorn's master does both
for every worker it reaps. Real prometheus_client writers in real child processes."""

import os
import runpy
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from prometheus_client import CollectorRegistry, multiprocess

from platform_app.ops.multiproc import clear_directory, retire_process

ROOT = Path(__file__).resolve().parents[2]

WRITER = """
import os, sys
from prometheus_client import Counter, Gauge, Histogram
c = Counter("reqs_total", "requests", ["route"])
h = Histogram("lat_seconds", "latency", ["route"], buckets=(0.1, 1))
g = Gauge("horizon", "live gauge", multiprocess_mode="livemostrecent")
for _ in range(int(sys.argv[1])):
    c.labels("a").inc()
    h.labels("a").observe(0.05)
g.set(7)
print(os.getpid())
"""


def _child_writes(directory: Path, count: int) -> int:
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(directory))
    out = subprocess.run(
        [sys.executable, "-c", WRITER, str(count)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip())


def _values(directory: Path) -> dict[str, float]:
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(directory))
    return {
        sample.name: sample.value
        for metric in registry.collect()
        for sample in metric.samples
        if sample.name in {"reqs_total", "lat_seconds_count", "lat_seconds_sum", "horizon"}
    }


def _db_files(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir() if p.name.endswith(".db")}


def test_retiring_processes_keeps_totals_and_leaves_one_file_per_kind(tmp_path):
    pids = [_child_writes(tmp_path, n) for n in (3, 4)]
    assert _values(tmp_path)["reqs_total"] == 7
    for pid in pids:
        retire_process(pid, str(tmp_path))
    values = _values(tmp_path)
    assert values["reqs_total"] == 7 and values["lat_seconds_count"] == 7
    assert abs(values["lat_seconds_sum"] - 0.35) < 1e-9
    assert "horizon" not in values  # a dead process's live gauge is gone
    assert _db_files(tmp_path) == {"counter_archive.db", "histogram_archive.db"}
    # many more recycled workers: still one file per kind, totals still add up
    for _ in range(3):
        retire_process(_child_writes(tmp_path, 1), str(tmp_path))
    assert _values(tmp_path)["reqs_total"] == 10
    assert _db_files(tmp_path) == {"counter_archive.db", "histogram_archive.db"}


def test_retiring_a_process_without_files_is_harmless(tmp_path):
    retire_process(123456, str(tmp_path))
    assert _db_files(tmp_path) == set()


def test_clear_directory_empties_it(tmp_path):
    _child_writes(tmp_path, 1)
    (tmp_path / "sub").mkdir()
    clear_directory(str(tmp_path))
    assert list(tmp_path.iterdir()) == []
    clear_directory(str(tmp_path / "new"))
    assert (tmp_path / "new").is_dir()


def test_gunicorn_master_archives_reaped_workers_and_wipes_at_start(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    conf = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    (tmp_path / "counter_99999.db").write_bytes(b"left by a previous run")
    conf["on_starting"](None)
    assert list(tmp_path.iterdir()) == []
    pid = _child_writes(tmp_path, 5)
    conf["child_exit"](None, SimpleNamespace(pid=pid))
    assert _db_files(tmp_path) == {"counter_archive.db", "histogram_archive.db"}
    assert _values(tmp_path)["reqs_total"] == 5
