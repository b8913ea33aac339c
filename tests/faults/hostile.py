"""Building hostile inputs, and running the loader and ``mxgw-run --validate`` under bounds.

Every hostile input must end in a located, one-line-per-problem error within
:data:`TIME_LIMIT` seconds and :data:`MEMORY_LIMIT` bytes: in-process runs are measured with
``tracemalloc``, the executable runs under ``RLIMIT_AS`` (address space), so a blow-up shows
as a failure (a MemoryError traceback or a kill), never as a slow machine.
"""

from __future__ import annotations

import resource
import subprocess
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from e2e.support import MXGW_RUN, ROOT, env_with

#: Wall-clock bound for one hostile input loaded in process.
TIME_LIMIT = 5.0
#: Wall-clock bound for one hostile input given to an executable (interpreter start-up
#: included, on a loaded 2-core machine; the defects this catches took 20 s to 2 min).
EXEC_TIME_LIMIT = 10.0
#: Python heap bound for one hostile input loaded in process.
MEMORY_LIMIT = 64 * 1024 * 1024
#: Address-space bound of an ``mxgw-run --validate`` child.
ADDRESS_SPACE = 1024 * 1024 * 1024

T = TypeVar("T")


@dataclass
class Bounded:
    """What a bounded in-process call cost."""

    seconds: float
    peak_bytes: int


def bounded(call: Callable[[], T]) -> tuple[T, Bounded]:
    """Run ``call`` measuring wall time and the peak of Python allocations."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        value = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return value, Bounded(time.monotonic() - started, peak)


@dataclass
class Validated:
    """Exit code, output and wall time of one ``mxgw-run --validate``."""

    code: int
    stdout: str
    stderr: str
    seconds: float


def _limit_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def validate(*args: str | Path, timeout: float = 60) -> Validated:
    """``mxgw-run --validate ARGS`` under the address-space bound (killed after ``timeout``)."""
    started = time.monotonic()
    try:
        done = subprocess.run(
            [MXGW_RUN, "--validate", *map(str, args)],
            capture_output=True,
            text=True,
            errors="replace",
            env=env_with(),
            cwd=ROOT,
            timeout=timeout,
            preexec_fn=_limit_address_space,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"mxgw-run --validate still running after {timeout} s") from None
    return Validated(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


def billion_laughs(levels: int = 9, fan: int = 10) -> str:
    """The classic alias bomb: each level repeats the previous one ``fan`` times."""
    lines = ["name: laughs", "steps: []", 'l0: &l0 "lol"']
    for level in range(1, levels + 1):
        refs = ", ".join([f"*l{level - 1}"] * fan)
        lines.append(f"l{level}: &l{level} [{refs}]")
    return "\n".join(lines) + "\n"


def wide_expansion() -> str:
    """Within the alias count (50) but expanding past the node bound (10^6 leaves)."""
    lines = ["name: wide", "steps: []", "l0: &l0 [" + ", ".join(["1"] * 10) + "]"]
    for level in range(1, 6):
        refs = ", ".join([f"*l{level - 1}"] * 10)
        lines.append(f"l{level}: &l{level} [{refs}]")
    return "\n".join(lines) + "\n"


def deep_block(depth: int) -> str:
    """Mappings nested ``depth`` levels in block style."""
    lines = ["name: deep", "steps: []", "vars:"]
    lines += [f"{'  ' * (level + 1)}k{level}:" for level in range(depth)]
    lines.append(f"{'  ' * (depth + 1)}leaf")
    return "\n".join(lines) + "\n"
