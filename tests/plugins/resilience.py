"""`--run-slow` and the resilience figures.

Slow tests (`@pytest.mark.slow`, the long versions run by `make resilience`) are skipped
unless `--run-slow` is given. Tests record figures with the `resilience_figures` fixture:

def test_faults(resilience_figures):
    resilience_figures.record("faults: -1 10%", requests=640, success_rate=0.97, ...)

With `--resilience-report DIR` (what `make resilience` passes) each record is written to
DIR/<name>.json; scripts/resilience_report.py prints them as a table.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("resilience")
    group.addoption(
        "--run-slow",
        action="store_true",
        default=False,
        help="also run the long versions marked @pytest.mark.slow (make resilience)",
    )
    group.addoption(
        "--resilience-report",
        default=None,
        metavar="DIR",
        help="write each resilience test's figures to DIR/<name>.json",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="long version: run with --run-slow (make resilience)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


_SUMMARY: list[str] = []


def pytest_terminal_summary(terminalreporter) -> None:
    """Lines tests asked to show in every run's output (not only with -s)."""
    for line in _SUMMARY:
        terminalreporter.write_line(line)


class Figures:
    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.records: list[dict[str, object]] = []

    def summarize(self, line: str) -> None:
        _SUMMARY.append(line)

    def record(self, name: str, **figures: object) -> dict[str, object]:
        row = {"name": name, **figures}
        self.records.append(row)
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")
            path = self.directory / f"{slug}.json"
            path.write_text(json.dumps(row, indent=2, sort_keys=True, default=str) + "\n")
        return row


@pytest.fixture
def resilience_figures(request: pytest.FixtureRequest) -> Figures:
    directory = request.config.getoption("--resilience-report")
    return Figures(Path(directory) if directory else None)
