"""Print the resilience figures (JSON files written by `pytest --resilience-report DIR`) as a
table: `python scripts/resilience_report.py [DIR]` (default var/resilience).

One table for the fault runs (load under WeChat faults), one for the fuzz runs, one for the
schemathesis runs (generated from /api/schema/), one for the crash runs. Exits 1 when there
are no figures (the tests did not run).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _table(title: str, rows: list[dict], columns: list[tuple[str, str]]) -> str:
    if not rows:
        return ""
    cells = [[label for _, label in columns]]
    for row in rows:
        cells.append([_fmt(row.get(key, "")) for key, _ in columns])
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = [title]
    for index, line in enumerate(cells):
        lines.append(" | ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)))
        if index == 0:
            lines.append("-+-".join("-" * width for width in widths))
    return "\n".join(lines) + "\n"


def _fmt(value: object) -> str:
    if isinstance(value, float) and value <= 1:
        return f"{value * 100:.1f}%"
    if isinstance(value, dict):
        return " ".join(f"{k}:{v}" for k, v in value.items())
    return str(value)


FAULTS = [
    ("name", "scenario"),
    ("clients", "clients"),
    ("clients_requests", "requests"),
    ("attempts", "attempts"),
    ("wechat_calls", "WeChat calls"),
    ("success_first_try", "ok 1st try"),
    ("success_after_retries", "ok after retries"),
    ("http_500", "500s"),
    ("contract_violations", "undocumented"),
    ("final", "final answers"),
    ("p50_ms", "p50 ms"),
    ("p95_ms", "p95 ms"),
    ("token_refreshes", "refreshes"),
]
FUZZ = [
    ("name", "target"),
    ("inputs_tried", "inputs"),
    ("http_5xx", "5xx"),
    ("state_changes_from_invalid", "state changes"),
    ("contract_violations", "undocumented"),
    ("statuses", "statuses"),
]
SCHEMATHESIS = [
    ("name", "run"),
    ("operations", "operations"),
    ("inputs_tried", "inputs"),
    ("http_5xx", "5xx"),
    ("schema_violations", "schema violations"),
    ("shape_violations", "error-shape violations"),
    ("statuses", "statuses"),
]
INTERLEAVING = [
    ("name", "state machine"),
    ("database", "database"),
    ("sequences", "sequences"),
    ("steps", "steps"),
]
CRASH_KEYS = ("name", "kind")


def main(argv: list[str]) -> int:
    directory = Path(argv[1] if len(argv) > 1 else "var/resilience")
    rows = [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]
    if not rows:
        print(f"no resilience figures in {directory}/ (did the tests run?)", file=sys.stderr)
        return 1
    out = [
        _table("WeChat faults, 32 concurrent clients", _of(rows, "faults"), FAULTS),
        _table("Bad input (fuzz)", _of(rows, "fuzz"), FUZZ),
        _table(
            "Token-state interleavings (every writer, any order)",
            _of(rows, "interleaving"),
            INTERLEAVING,
        ),
        _table(
            "Contract fuzz (schemathesis, /api/schema/)", _of(rows, "schemathesis"), SCHEMATHESIS
        ),
    ]
    crash = _of(rows, "crash")
    for row in crash:
        columns = [("name", "crash test")]
        columns += [(k, k.replace("_", " ")) for k in row if k not in CRASH_KEYS]
        out.append(_table("Crash", [row], columns))
    print("\n".join(part for part in out if part))
    return 0


def _of(rows: list[dict], kind: str) -> list[dict]:
    return [row for row in rows if row.get("kind") == kind]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
