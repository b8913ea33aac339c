"""Measure memory across many scenarios in one ``mxgw-run`` (not a test: it takes about half
a minute). ``python tests/faults/measure_load.py`` runs 1,000 scenarios one after another;
``--jobs 640 --count 640`` runs ten simulators' worth of sessions at once. It prints the
run's time, its outcomes, the most sessions open at once, and the runner's resident set
size sampled every 0.5 s, as in docs/reliability.md."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from mxgw_sim.testing import ADMIN_KEY, USER_KEY, running_sim, write_keys_file  # noqa: E402

SCENARIO = """name: sequential {n}
steps:
  - open-session: {{client-session-name: load}}
  - register: {{}}
  - add-item: {{item: Types.Int, as: i}}
  - advise: i
  - expect-event: {{item: i, data-change: {{quality: good}}}}
  - write: {{item: i, value: {value}, restore: true}}
  - expect-event: {{item: i, data-change: {{value: {value}}}}}
"""


def rss_kb(pid: int) -> int | None:
    """The resident set size of a process (Linux ``/proc``), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def main(count: int = 1000, jobs: int = 1) -> None:
    """Write ``count`` scenarios, run them in one process (``jobs`` at once), print RSS
    samples and the peak of open sessions."""
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        scenarios = base / "scenarios"
        scenarios.mkdir()
        for n in range(count):
            text = SCENARIO.format(n=n, value=1000 + n)
            (scenarios / f"s{n:04d}.yaml").write_text(text, encoding="utf-8")
        keys = write_keys_file(base / "keys.json")
        cap = str(max(64, jobs))
        sim_args = ("--api-key-file", str(keys), "--log-level", "WARNING", "--max-sessions", cap)
        with running_sim(*sim_args) as sim:
            report = base / "report.json"
            mxgw_run = str(Path(sys.executable).with_name("mxgw-run"))
            started = time.monotonic()
            run = subprocess.Popen(
                [
                    mxgw_run,
                    str(scenarios),
                    "--endpoint",
                    sim.endpoint,
                    "--plaintext",
                    "--api-key-env",
                    "MXGW_LOAD_KEY",
                    "-q",
                    "--report-json",
                    str(report),
                    "--jobs",
                    str(jobs),
                ],
                env={**os.environ, "MXGW_LOAD_KEY": USER_KEY},
            )
            samples: list[tuple[float, int]] = []
            peak = 0
            while run.poll() is None:
                rss = rss_kb(run.pid)
                if rss is not None:
                    samples.append((time.monotonic() - started, rss))
                peak = max(peak, len(sim.list_sessions(ADMIN_KEY)))
                time.sleep(0.5)
            elapsed = time.monotonic() - started
            statuses: dict[str, int] = {}
            for scenario in json.loads(report.read_text(encoding="utf-8"))["scenarios"]:
                statuses[scenario["status"]] = statuses.get(scenario["status"], 0) + 1
            left = len(sim.list_sessions(ADMIN_KEY))
    print(
        f"exit {run.returncode}, {elapsed:.1f} s, {statuses}, "
        f"at most {peak} sessions open at once, sessions left {left}"
    )
    for index in sorted({1, len(samples) // 4, len(samples) // 2, 3 * len(samples) // 4}):
        at, rss = samples[index]
        print(f"  t={at:5.1f} s  RSS {rss / 1024:.1f} MiB")
    at, rss = samples[-1]
    print(f"  t={at:5.1f} s  RSS {rss / 1024:.1f} MiB (last sample: writing the report)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="scenarios (default 1000)")
    parser.add_argument("--jobs", type=int, default=1, help="mxgw-run --jobs (default 1)")
    options = parser.parse_args()
    main(options.count, options.jobs)
