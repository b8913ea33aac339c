"""Per-step overhead of mxgw-run against the raw client calls the same steps make.

One process, one embedded simulator (in process, loopback), one event loop. The
same work is done twice, alternating rounds so both see the same conditions:

* raw: ``Session.write`` then waiting for the item's ``WriteComplete`` on the
  event stream, with the client alone;
* runner: a scenario of ``write`` steps (each waits for its completion) run by
  the engine, with the console silenced.

Reports the median time per write for each and their ratio (runner / raw); goal <= 1.15.
Usage: ``python -m benchmarks.runner_overhead [--quick] [--writes N] [--rounds R]``.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

if not __package__:  # run as a file (python benchmarks/x.py): import from the repo root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import Result, bench_parser, fmt_ms, interleaved, print_results
from mxgateway import GatewayClient, WriteComplete
from mxgw_runner.engine.runner import Engine, EngineOptions
from mxgw_runner.loader import load_scenario
from mxgw_runner.plugins import build_plugin_manager, collect_step_types
from mxgw_runner.results import Outcome
from mxgw_runner.simulate import embedded_simulator
from mxgw_runner.steptypes import StepRegistry

ITEM = "Types.Int"


def registry() -> StepRegistry:
    """The built-in steps, registered through the plugin hook as ``mxgw-run`` does."""
    return collect_step_types(build_plugin_manager(entry_points=False))


async def raw_round(endpoint: str, writes: int) -> float:
    """Seconds per write with the client alone (write, then its completion)."""
    async with await GatewayClient.connect(endpoint, plaintext=True) as client:
        session = await client.open_session("bench-raw")
        events = session.events()
        try:
            server = await session.register("bench")
            handle = await session.add_item(server, ITEM)
            await session.advise(server, handle)
            iterator = events.__aiter__()
            while True:  # the initial data change: the item's type is known after it
                event = await iterator.__anext__()
                if event.item_handle == handle:
                    break
            start = time.perf_counter()
            for i in range(writes):
                await session.write(server, handle, i)
                while True:
                    event = await iterator.__anext__()
                    if isinstance(event, WriteComplete) and event.item_handle == handle:
                        break
            elapsed = time.perf_counter() - start
            await session.unadvise(server, handle)
            await session.remove_item(server, handle)
            await session.unregister(server)
        finally:
            events.cancel()
            await session.close()
    return elapsed / writes


def scenario_text(writes: int) -> str:
    """The same work as a scenario (setup steps, then ``writes`` write steps)."""
    lines = [
        "name: bench",
        "steps:",
        "  - open-session: {client-session-name: bench-runner}",
        "  - register: {client-name: bench}",
        f"  - add-item: {{item: {ITEM}, as: v}}",
        "  - advise: v",
        "  - expect-event: {item: v, data-change: {}}",
    ]
    lines += [f"  - write: {{item: v, value: {i}}}" for i in range(writes)]
    lines += ["  - close-session: {}"]
    return "\n".join(lines) + "\n"


async def runner_round(endpoint: str, path: Path, reg: StepRegistry, writes: int) -> float:
    """Seconds per write step run by the engine (from the steps' own durations)."""
    scenario = load_scenario(path, registry=reg)

    async def connect() -> GatewayClient:
        return await GatewayClient.connect(endpoint, plaintext=True, wait_for_ready=False)

    engine = Engine(reg, build_plugin_manager(entry_points=False), EngineOptions(connect=connect))
    start = time.perf_counter()
    result = await engine.run([scenario])
    total = time.perf_counter() - start
    steps = result.scenarios[0].steps
    assert result.scenarios[0].status == Outcome.PASSED, result.scenarios[0].message
    write_steps = [s for s in steps if s.kind == "write"]
    assert len(write_steps) == writes and total > 0
    # Wall time of the write steps, measured the way a user sees them: first start to last end.
    first, last = write_steps[0], write_steps[-1]
    assert first.start is not None and last.start is not None
    span = (last.start - first.start).total_seconds() + last.duration
    return span / writes


async def measure(writes: int, rounds: int) -> tuple[float, float]:
    """Alternate raw and runner rounds against one embedded simulator: median seconds per
    write for each (raw, runner)."""
    reg = registry()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(scenario_text(writes), encoding="utf-8")
        async with embedded_simulator() as endpoint:
            await raw_round(endpoint, 20)  # warm up both paths
            await runner_round(endpoint, path, reg, writes)
            return await interleaved(
                rounds,
                lambda: raw_round(endpoint, writes),
                lambda: runner_round(endpoint, path, reg, writes),
            )


async def run(
    quick: bool = False, writes: int | None = None, rounds: int | None = None
) -> list[Result]:
    """Measure and return the table row."""
    writes = writes or (10 if quick else 200)
    rounds = rounds or (1 if quick else 7)
    raw, runner = await measure(writes, rounds)
    ratio = runner / raw
    return [
        Result(
            "runner: write step / raw client write + completion",
            fmt_ms(raw),
            fmt_ms(runner),
            ratio,
            "<= 1.15",
            ratio <= 1.15,
            f"{writes} writes x {rounds} rounds, embedded simulator",
        )
    ]


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = bench_parser(__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args(argv)
    print_results(asyncio.run(run(args.quick, args.writes, args.rounds)), as_json=args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
