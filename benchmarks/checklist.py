"""Checklist: ``check-items`` (bulk) against ``for-each`` of single steps, same items.

Against one ``mxgw-sim`` process serving a generated galaxy of ``--items`` integer
attributes, the real ``mxgw-run`` checks every item's first value twice:

* **step by step** (the baseline): a ``for-each`` over the CSV whose passes run
  ``add-item``, ``advise`` and ``expect-event`` (two round trips per item, and two
  cleanup entries each);
* **bulk**: one ``check-items`` step over the same CSV (AddItemBulk, AdviseItemBulk, the
  first data changes, one bulk unadvise and one bulk removal).

Each time is the whole ``mxgw-run`` process, start to exit (start-up included, the same
in both). Run ``python -m benchmarks.checklist [--items N] [--quick]``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._common import Result, bench_parser, fmt_s, print_results, simulator
from benchmarks.scale import write_galaxy

MXGW_RUN = str(Path(sys.executable).with_name("mxgw-run"))
#: The bulk step should take under half the time of the step-by-step path...
GOAL = 0.5
#: ...for checklists at least this long.
GOAL_FROM = 1000

STEP_BY_STEP = """\
name: checklist step by step
timeouts: {step: 30s}
steps:
  - open-session: {}
  - register: {}
  - for-each:
      csv: items.csv
      steps:
        - add-item: "${row.tag}"
        - advise: "${row.tag}"
        - expect-event: {item: "${row.tag}", data-change: {value: "${row.expected}"}}
"""

BULK = """\
name: checklist in bulk
timeouts: {step: 60s}
steps:
  - open-session: {}
  - register: {}
  - check-items:
      csv: items.csv
      item: "${row.tag}"
      value: "${row.expected}"
      quality: good
"""


def run_scenario(path: Path, endpoint: str, timeout: float) -> float:
    """Seconds for one ``mxgw-run`` of ``path``; raises if it did not pass."""
    started = time.perf_counter()
    done = subprocess.run(
        [MXGW_RUN, str(path), "--endpoint", endpoint, "--plaintext", "-q"],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{path.name} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return elapsed


def run(quick: bool = False, items: int | None = None) -> list[Result]:
    """Time both checklists over the same items; one result row."""
    items = items or (200 if quick else 10_000)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        expected = write_galaxy(folder / "galaxy.yaml", items)
        (folder / "items.csv").write_text(
            "tag,expected\n" + "".join(f"{ref},{value}\n" for ref, value in expected),
            encoding="utf-8",
        )
        (folder / "step-by-step.yaml").write_text(STEP_BY_STEP, encoding="utf-8")
        (folder / "bulk.yaml").write_text(BULK, encoding="utf-8")
        limit = max(120.0, items * 0.2)
        with simulator(
            "--galaxy", str(folder / "galaxy.yaml"), "--event-queue", str(max(10_000, 4 * items))
        ) as sim:
            bulk = run_scenario(folder / "bulk.yaml", sim.endpoint, limit)
            single = run_scenario(folder / "step-by-step.yaml", sim.endpoint, limit)
    ratio = bulk / single
    return [
        Result(
            benchmark=f"checklist: {items}-item check-items / for-each (mxgw-run)",
            baseline=f"for-each {fmt_s(single)}",
            ours=f"check-items {fmt_s(bulk)}",
            ratio=ratio,
            goal=f"< {GOAL} at {GOAL_FROM}+ items",
            # small checklists are mostly start-up: the goal is for large ones
            met=ratio < GOAL if items >= GOAL_FROM else None,
            note="whole mxgw-run processes, start-up (about 1 s) included",
        )
    ]


def main(argv: list[str] | None = None) -> int:
    """Print the two times and their ratio."""
    parser = bench_parser(__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, help="items to check (default 10000; 200 quick)")
    args = parser.parse_args(argv)
    results = run(quick=args.quick, items=args.items)
    print_results(results, as_json=args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
