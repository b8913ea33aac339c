"""Smoke run of the benchmarks: every benchmark runs with tiny sizes and reports its ratios.

Nothing here checks a time or a ratio's value (those depend on the machine); only that each
benchmark ran to the end and printed its ratio lines and the table.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

EXPECTED_PREFIXES = [
    "command: typed Session call / raw stub Invoke",
    "runner: write step / raw client write + completion",
    "events: typed Session.events() / raw stub StreamEvents",
    "events: typed events(batch=True) / raw stub StreamEventBatches",
    "events: batched typed events/s to one client",
    "events: runner recorder + matcher / client alone",
    "sim: StreamEvents end to end / transport limit",
    "sim: StreamEventBatches end to end / transport limit",
    "sim: StreamEventBatches end to end events/s",
    "scale: 200-item checklist",
    "scale: simulator memory per advised item",
    "scale: 5 concurrent sessions",
    "start-up: mxgw-run --version",
    "start-up: mxgw-run --validate of 5 files",
]

RATIO = re.compile(
    r"^RATIO (?P<name>.+): (?P<ratio>n/a|\d+\.\d{3}) "
    r"\(goal (?P<goal>.+): (?P<verdict>met|NOT met|-)\)$"
)


def run_benchmarks(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m benchmarks --quick ...`` from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_benchmark_runs_and_reports_its_ratio_lines() -> None:
    done = run_benchmarks()
    assert done.returncode == 0, done.stderr
    lines = [m for m in map(RATIO.match, done.stdout.splitlines()) if m]
    names = [m["name"] for m in lines]
    for prefix in EXPECTED_PREFIXES:
        assert any(name.startswith(prefix) for name in names), (prefix, done.stdout)
    for match in lines:
        # A ratio is a positive number, or n/a for a figure reported without a baseline.
        assert match["ratio"] == "n/a" or float(match["ratio"]) > 0, match.group(0)
    # The table follows, one row per ratio line.
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| benchmark | baseline | ours | ratio | goal | met |")
    assert len(rows) == 1 + len(lines)


def test_one_benchmark_as_json() -> None:
    done = run_benchmarks("--only", "command", "--json")
    assert done.returncode == 0, done.stderr
    results = {r["benchmark"]: r for r in json.loads(done.stdout)}
    typed = results["command: typed Session call / raw stub Invoke"]
    assert typed["ratio"] > 0 and typed["goal"] == "<= 1.10"
    assert typed["met"] in (True, False)
    transport = results["sim: command round trip (raw stub) / transport limit"]
    assert transport["ratio"] > 0 and transport["met"] is None


def test_an_unknown_benchmark_is_a_usage_error() -> None:
    done = run_benchmarks("--only", "nonsense")
    assert done.returncode == 2
    assert "invalid choice: 'nonsense'" in done.stderr
    assert "Traceback" not in done.stderr
