"""Run every benchmark and print one table: ``python -m benchmarks [--quick] [--json]``.

Each benchmark measures its own baseline in the same run (see ``benchmarks/_common.py``);
``--quick`` uses tiny sizes, to check that everything runs (the smoke test does), not to
measure. ``--only NAME`` (repeatable) runs a subset: command, runner, events, sim, scale,
startup.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import Any

from benchmarks import command_overhead, event_throughput, runner_overhead, scale, sim_events
from benchmarks import startup as startup_bench
from benchmarks._common import Result, bench_parser, print_results

BENCHMARKS: dict[str, Callable[[bool], Any]] = {
    "command": lambda quick: asyncio.run(command_overhead.run(quick)),
    "runner": lambda quick: asyncio.run(runner_overhead.run(quick)),
    "events": lambda quick: asyncio.run(event_throughput.run(quick)),
    "sim": lambda quick: asyncio.run(sim_events.run(quick)),
    "scale": lambda quick: asyncio.run(scale.run(quick)),
    "startup": lambda quick: startup_bench.run(quick),
}


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks in order; exit 1 if one of them could not run."""
    parser = bench_parser(__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS), default=None)
    args = parser.parse_args(argv)
    results: list[Result] = []
    failed: list[str] = []
    for name in args.only or list(BENCHMARKS):
        started = time.perf_counter()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            results.extend(BENCHMARKS[name](args.quick))
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            failed.append(name)
            print(f"benchmark {name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        print(f"  {name}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    print_results(results, as_json=args.json)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
