"""What every benchmark shares: a result row, medians of interleaved rounds, a simulator
process and the table and ratio lines the benchmarks print.

Every figure is a ratio to a baseline measured in the same run on the same machine, because
absolute numbers on a shared two-core machine say little. Baseline and subject run in
alternating rounds and each side's median is kept, so a burst of noise hits both.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass

from mxgw_sim.testing import SimProcess, start_sim

__all__ = [
    "Result",
    "bench_parser",
    "fmt_ms",
    "fmt_s",
    "interleaved",
    "median",
    "print_results",
    "rate",
    "ratio_line",
    "simulator",
    "timed",
]


@dataclass(frozen=True)
class Result:
    """One row of the performance table.

    ``ratio`` is ours / baseline in the benchmark's own unit; ``higher_is_better`` says which
    way the goal points. ``met`` is None when there is no goal to meet (a figure reported
    for the record).
    """

    benchmark: str
    baseline: str
    ours: str
    ratio: float | None
    goal: str
    met: bool | None
    note: str = ""

    def verdict(self) -> str:
        """``met``, ``NOT met`` or ``-`` (no goal)."""
        if self.met is None:
            return "-"
        return "met" if self.met else "NOT met"


def median(values: Sequence[float]) -> float:
    """The median (the statistic every benchmark reports; robust to one noisy round)."""
    return float(statistics.median(values))


async def interleaved(
    rounds: int,
    baseline: Callable[[], Awaitable[float]],
    subject: Callable[[], Awaitable[float]],
) -> tuple[float, float]:
    """Run baseline and subject alternately ``rounds`` times; their median figures."""
    base: list[float] = []
    ours: list[float] = []
    for n in range(rounds):
        # Alternate who goes first so neither always runs on a warmer cache.
        if n % 2 == 0:
            base.append(await baseline())
            ours.append(await subject())
        else:
            ours.append(await subject())
            base.append(await baseline())
    return median(base), median(ours)


@contextlib.contextmanager
def timed() -> Iterator[list[float]]:
    """``with timed() as t: ...`` then ``t[0]`` is the wall time in seconds."""
    out: list[float] = []
    started = time.perf_counter()
    try:
        yield out
    finally:
        out.append(time.perf_counter() - started)


@contextlib.contextmanager
def simulator(*args: str) -> Iterator[SimProcess]:
    """A real ``mxgw-sim`` process (quiet log) for the duration of the block."""
    sim = start_sim("--log-level", "WARNING", *args)
    try:
        yield sim
    finally:
        sim.close()


def ratio_line(result: Result) -> str:
    """The line the smoke test looks for: ``RATIO <benchmark>: <ratio> (goal ...: met)``."""
    ratio = "n/a" if result.ratio is None else f"{result.ratio:.3f}"
    return f"RATIO {result.benchmark}: {ratio} (goal {result.goal}: {result.verdict()})"


def print_results(results: Sequence[Result], *, as_json: bool = False) -> None:
    """Print each result's ratio line, then a Markdown table (or one JSON document)."""
    if as_json:
        print(json.dumps([asdict(r) for r in results], indent=2))
        return
    for result in results:
        print(ratio_line(result))
    print()
    header = ("benchmark", "baseline", "ours", "ratio", "goal", "met", "note")
    rows = [
        (
            r.benchmark,
            r.baseline,
            r.ours,
            "-" if r.ratio is None else f"{r.ratio:.2f}",
            r.goal,
            r.verdict(),
            r.note,
        )
        for r in results
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def bench_parser(description: str) -> argparse.ArgumentParser:
    """The options every benchmark script takes: ``--quick`` and ``--json``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes: checks it runs, not how fast"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    return parser


def rate(count: int, seconds: float) -> str:
    """``123.4 k/s`` style text for an events-per-second figure."""
    per_s = count / seconds if seconds > 0 else float("inf")
    return f"{per_s / 1000:.1f} k/s"


def fmt_ms(seconds: float) -> str:
    """Seconds as milliseconds text with three significant decimals."""
    return f"{seconds * 1000:.3f} ms"


def fmt_s(seconds: float) -> str:
    """Seconds as text."""
    return f"{seconds:.3f} s"
