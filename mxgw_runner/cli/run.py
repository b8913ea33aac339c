"""Running the loaded scenarios: console streaming, the embedded simulator, reports."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mxgw_runner.cli.args import EXIT_USAGE, PROG, report_dest
from mxgw_runner.hookspecs import hookimpl

if TYPE_CHECKING:
    from mxgw_runner.engine.connection import Connection
    from mxgw_runner.model import Scenario
    from mxgw_runner.redact import Redactor
    from mxgw_runner.reports import ReportWriter
    from mxgw_runner.reports.console import ConsoleReporter
    from mxgw_runner.steptypes import StepRegistry

EXIT_SIGINT = 130


def _err(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


#: On a terminal, a step still running after this many seconds gets a progress line,
#: and another every as many seconds again.
PROGRESS_EVERY = 10.0


class ConsolePlugin:
    """Streams the run to the console through the engine's hooks (steps never print)."""

    def __init__(self, reporter: ConsoleReporter, *, progress: bool = False) -> None:
        self.reporter = reporter
        self.seen: set[str] = set()
        self.progress = progress
        self._ticker: asyncio.TimerHandle | None = None

    @hookimpl
    def mxgw_scenario_start(self, scenario: Any) -> None:
        """Print the scenario's header."""
        self.seen.add(str(scenario.path))
        self.reporter.scenario_started(str(scenario.path), scenario.name)

    @hookimpl
    def mxgw_step_start(self, scenario: Any, step: Any, index: int) -> None:
        """On a terminal, arrange progress lines for a step that runs long."""
        if self.progress:
            started = time.monotonic()
            label = f"{index:02d} {step.kind}"
            loop = asyncio.get_running_loop()

            def tick() -> None:
                elapsed = time.monotonic() - started
                self.reporter.stream.write(f"  … {label} still running ({elapsed:.0f} s)\n")
                self.reporter.stream.flush()
                self._ticker = loop.call_later(PROGRESS_EVERY, tick)

            self._ticker = loop.call_later(PROGRESS_EVERY, tick)

    @hookimpl
    def mxgw_step_finish(self, scenario: Any, step: Any, result: Any) -> None:
        """Print the step's line as soon as it has a result."""
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        self.reporter.step_finished(result, file=str(scenario.path))

    @hookimpl
    def mxgw_scenario_finish(self, scenario: Any, result: Any) -> None:
        """Print the cleanup actions and the scenario's outcome."""
        for entry in result.cleanup:
            self.reporter.cleanup_finished(entry)
        self.reporter.scenario_finished(result)


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
    from mxgw_runner.reports.console import NORMAL, QUIET, VERBOSE, ConsoleReporter

    verbosity = QUIET if args.quiet else VERBOSE if args.verbose else NORMAL
    reporter = ConsoleReporter(sys.stdout, verbosity=verbosity, redactor=redactor)
    console = ConsolePlugin(reporter, progress=verbosity > QUIET and sys.stdout.isatty())
    pm.register(console, name="mxgw-run-console")
    interrupts = Interrupts()
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
            )
            engine = Engine(registry, pm, options, redactor=redactor, interrupts=interrupts)
            result = await engine.run(scenarios)
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


