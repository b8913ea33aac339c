"""Running the loaded scenarios: console streaming, the embedded simulator, reports."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mxgw_runner.cli.args import EXIT_USAGE, PROG, report_dest
from mxgw_runner.hookspecs import hookimpl

if TYPE_CHECKING:
    from mxgw_runner.engine.connection import Connection
    from mxgw_runner.model import Scenario
    from mxgw_runner.redact import Redactor
    from mxgw_runner.reports import ReportWriter
    from mxgw_runner.reports.console import ConsoleReporter, RunProgress
    from mxgw_runner.steptypes import StepRegistry

EXIT_SIGINT = 130


def _err(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


#: Seconds between redraws of the live progress line (its elapsed time).
LIVE_EVERY = 1.0
#: Off a terminal with ``--jobs`` above 1 (scenario lines come only as each finishes), a
#: plain ``progress:`` line this often shows the run is alive.
PLAIN_EVERY = 30.0

#: Steps that ask the operator on the terminal: no progress line or other output meanwhile.
INTERACTIVE = frozenset({"confirm"})

_NOT_PASSED = ("failed", "error", "interrupted")


class ConsolePlugin:
    """Streams the run to the console through the engine's hooks (steps never print).

    With one job, each line is printed as it happens. With more, each scenario's lines
    are held and printed as one block when it finishes, so scenarios never interleave.
    The counts of :class:`RunProgress` follow the same hooks.
    """

    def __init__(
        self, reporter: ConsoleReporter, progress: RunProgress, *, jobs: int = 1
    ) -> None:
        self.reporter = reporter
        self.progress = progress
        self.jobs = jobs
        self.seen: set[str] = set()
        self._blocks: dict[int, ConsoleReporter] = {}
        self._steps_counted: dict[int, int] = {}
        #: Held by the scenario whose ``confirm`` question is on the terminal.
        self._terminal: asyncio.Lock | None = None
        self._asking: int | None = None

    def _for(self, scenario: Any) -> ConsoleReporter:
        return self._blocks.get(id(scenario), self.reporter)

    @hookimpl
    def mxgw_scenario_start(self, scenario: Any) -> None:
        """Print (or hold) the scenario's header; the progress line lists it as running."""
        key = id(scenario)
        self.seen.add(str(scenario.path))
        if self.jobs > 1:
            self._blocks[key] = self.reporter.block()
        self._steps_counted[key] = 0
        self.progress.running[key] = scenario.name or Path(str(scenario.path)).name
        self._for(scenario).scenario_started(str(scenario.path), scenario.name)
        self.reporter.refresh()

    @hookimpl
    def mxgw_step_start(self, scenario: Any, step: Any, index: int) -> Awaitable[None] | None:
        """A question for the operator gets the terminal to itself while it waits, and
        with ``--jobs`` questions of different scenarios are asked one after another."""
        if step.kind in INTERACTIVE:
            return self._take_terminal(scenario)
        return None

    async def _take_terminal(self, scenario: Any) -> None:
        if self._terminal is None:
            self._terminal = asyncio.Lock()
        await self._terminal.acquire()
        self._asking = id(scenario)
        self.reporter.suspend()

    def _give_terminal_back(self, scenario: Any) -> None:
        if self._asking == id(scenario) and self._terminal is not None:
            self._asking = None
            self.reporter.resume()
            self._terminal.release()

    @hookimpl
    def mxgw_step_finish(self, scenario: Any, step: Any, result: Any) -> None:
        """Print (or hold) the step's line as soon as it has a result."""
        if step.kind in INTERACTIVE:
            self._give_terminal_back(scenario)
        self._for(scenario).step_finished(result, file=str(scenario.path))
        if "." not in result.label:  # a top-level step (nested ones are part of it)
            key = id(scenario)
            self._steps_counted[key] = self._steps_counted.get(key, 0) + 1
            self.progress.steps_done += 1
            self.reporter.refresh()

    @hookimpl
    def mxgw_scenario_finish(self, scenario: Any, result: Any) -> None:
        """Print the cleanup actions and the scenario's outcome (the whole block, with jobs)."""
        key = id(scenario)
        self._give_terminal_back(scenario)  # a question ended without its step's result
        progress = self.progress
        progress.running.pop(key, None)
        progress.scenarios_done += 1
        progress.steps_done += max(0, len(scenario.steps) - self._steps_counted.pop(key, 0))
        if str(result.status) in _NOT_PASSED:
            progress.failed += 1
        reporter = self._for(scenario)
        for entry in result.cleanup:
            reporter.cleanup_finished(entry)
        reporter.scenario_finished(result)
        block = self._blocks.pop(key, None)
        if block is not None:
            block.emit_block()
        self.reporter.refresh(force=True)


def _notice(reporter: ConsoleReporter, text: str) -> None:
    """A line on stderr (what a signal does now), the progress line erased first."""
    if reporter.live is not None and reporter.live.shown:
        reporter.live.clear()
        with contextlib.suppress(OSError, ValueError):
            reporter.stream.flush()
    _err(text)


def _is_terminal(stream: Any) -> bool:
    """A terminal that understands ``\\r`` and erase-to-end-of-line."""
    try:
        tty = bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
    return tty and os.environ.get("TERM", "") != "dumb"


def _start_ticker(
    reporter: ConsoleReporter, progress: RunProgress, jobs: int
) -> Callable[[], None]:
    """Redraw the live line every second on a terminal; off one with jobs, print a plain
    ``progress:`` line every :data:`PLAIN_EVERY` seconds. Returns a stopper."""
    loop = asyncio.get_running_loop()
    handle: list[asyncio.TimerHandle] = []
    if reporter.live is not None:
        every = LIVE_EVERY

        def tick() -> None:
            reporter.refresh()
            handle[:] = [loop.call_later(every, tick)]

    elif jobs > 1 and reporter.verbosity > 0:
        every = PLAIN_EVERY

        def tick() -> None:
            reporter.emit([f"progress: {progress.describe()}"])
            handle[:] = [loop.call_later(every, tick)]

    else:
        return lambda: None
    handle.append(loop.call_later(every, tick))

    def stop() -> None:
        for timer in handle:
            timer.cancel()

    return stop


async def run_scenarios(
    args: argparse.Namespace,
    scenarios: Sequence[Scenario],
    registry: StepRegistry,
    pm: Any,
    connection: Connection | None,
    redactor: Redactor,
    writers: Sequence[ReportWriter],
) -> int:
    """Run the scenarios (starting the embedded simulator if asked), write the reports asked
    for with ``--report-<name>`` (also when interrupted)."""

    from mxgw_runner.engine.connection import Connection as _Connection
    from mxgw_runner.engine.runner import Engine, EngineOptions
    from mxgw_runner.engine.signals import Interrupts, installed
    from mxgw_runner.errors import ScenarioError
    from mxgw_runner.exitcodes import exit_code_for
    from mxgw_runner.reports.console import (
        NORMAL,
        QUIET,
        VERBOSE,
        ConsoleReporter,
        LiveLine,
        RunProgress,
    )

    verbosity = QUIET if args.quiet else VERBOSE if args.verbose else NORMAL
    jobs = getattr(args, "jobs", 1)
    reporter = ConsoleReporter(sys.stdout, verbosity=verbosity, redactor=redactor)
    progress = RunProgress(
        len(scenarios), sum(len(s.steps) for s in scenarios), clock=time.monotonic
    )
    if _is_terminal(sys.stdout):
        reporter.live = LiveLine(sys.stdout, progress)
    console = ConsolePlugin(reporter, progress, jobs=jobs)
    pm.register(console, name="mxgw-run-console")
    interrupts = Interrupts(announce=lambda text: _notice(reporter, text))
    with installed(interrupts):
        async with contextlib.AsyncExitStack() as stack:
            if args.simulate is not None:
                from mxgw_runner.simulate import embedded_simulator

                try:
                    endpoint = await stack.enter_async_context(
                        embedded_simulator(args.simulate or None)
                    )
                except ScenarioError as exc:  # an invalid galaxy file, located
                    for diagnostic in exc.diagnostics:
                        print(diagnostic.format(), file=sys.stderr)
                    _err("--simulate: invalid galaxy file; nothing was run")
                    return EXIT_USAGE
                except OSError as exc:
                    _err(f"--simulate: cannot start the simulator: {exc}")
                    return EXIT_USAGE
                connection = _Connection(endpoint, plaintext=True)
            assert connection is not None
            options = EngineOptions(
                connect=connection.connect,
                read_only=args.read_only,
                fail_fast=args.fail_fast,
                assume_yes=args.assume_yes,
                endpoint=connection.endpoint,
                jobs=jobs,
            )
            engine = Engine(registry, pm, options, redactor=redactor, interrupts=interrupts)
            stop_ticker = _start_ticker(reporter, progress, jobs)
            try:
                result = await engine.run(scenarios)
            finally:
                stop_ticker()
                reporter.resume(every=True)
                if reporter.live is not None:
                    reporter.live.clear()
                    reporter.live = None
                    reporter.emit([])
        for scenario_result in result.scenarios:
            if scenario_result.file not in console.seen:
                reporter.scenario_started(scenario_result.file, scenario_result.name)
                reporter.scenario_finished(scenario_result)
        code = int(exit_code_for(result, invalid=engine.invalid))
        for writer in writers:
            target = getattr(args, report_dest(writer.name), None)
            if not target:
                continue
            try:
                writer.write(result, Path(target), redactor)
            except OSError as exc:
                _err(f"--report-{writer.name} {target}: cannot write: {exc.strerror or exc}")
                code = max(code, EXIT_USAGE) if code < EXIT_SIGINT else code
        reporter.summary(result, code)
    return code


