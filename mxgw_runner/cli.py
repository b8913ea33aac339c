"""``mxgw-run``: run YAML scenarios against a gateway (or an embedded simulator).

Usage: ``mxgw-run [options] SCENARIO_OR_DIR...``. Every file is loaded and
checked before anything runs; ``--validate`` and ``--plan`` stop there and
never import grpc. Exit codes: 0 passed, 1 a check failed, 2 invalid scenario
or usage, 3 gateway or infrastructure error, 4 only cleanup failed, 130
interrupted (SIGINT), 143 terminated (SIGTERM).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from mxgw_runner import __version__
from mxgw_runner.hookspecs import hookimpl

if TYPE_CHECKING:
    from mxgw_runner.engine.connection import Connection
    from mxgw_runner.model import Scenario
    from mxgw_runner.redact import Redactor
    from mxgw_runner.reports.console import ConsoleReporter
    from mxgw_runner.steptypes import StepRegistry

PROG = "mxgw-run"
EXIT_OK, EXIT_USAGE, EXIT_SIGINT = 0, 2, 130

_EPILOG = """\
exit codes: 0 all passed, 1 a check failed, 2 invalid scenario or usage,
3 gateway or infrastructure error, 4 only cleanup failed, 130 interrupted (Ctrl-C),
143 terminated (SIGTERM). A second Ctrl-C abandons cleanup.

environment:
  MXGATEWAY_ENDPOINT  default for --endpoint (else localhost:5000)

examples:
  mxgw-run scenarios/smoke.yaml --simulate
  mxgw-run scenarios/ --endpoint gw01:5001 --tls --ca-file ca.pem --api-key-env MXGATEWAY_API_KEY
  mxgw-run pump101.yaml --var setpoint=40 --plan
"""


class _Parser(argparse.ArgumentParser):
    """argparse with the usage error on one line and exit code 2."""

    def error(self, message: str) -> Any:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``mxgw-run``."""
    p = _Parser(
        prog=PROG,
        description="Run declarative YAML scenarios against the MXAccess Gateway.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "paths",
        nargs="+",
        metavar="SCENARIO_OR_DIR",
        help="scenario files, or directories of *.yaml/*.yml scenarios",
    )
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    c = p.add_argument_group("connection options")
    c.add_argument(
        "--endpoint",
        metavar="HOST:PORT",
        help="gateway address (default: $MXGATEWAY_ENDPOINT, else localhost:5000)",
    )
    t = c.add_mutually_exclusive_group()
    t.add_argument(
        "--plaintext",
        dest="transport",
        action="store_const",
        const="plaintext",
        help="no TLS (default for loopback endpoints)",
    )
    t.add_argument(
        "--tls",
        dest="transport",
        action="store_const",
        const="tls",
        help="TLS (default for every other endpoint)",
    )
    c.add_argument("--ca-file", metavar="PEM", help="CA of the gateway's certificate")
    c.add_argument(
        "--server-name-override",
        metavar="NAME",
        help="host name to verify in the gateway's certificate",
    )
    c.add_argument(
        "--api-key-env",
        metavar="NAME",
        help="environment variable holding the API key (e.g. MXGATEWAY_API_KEY)",
    )
    c.add_argument(
        "--connect-timeout",
        metavar="SECONDS",
        type=_seconds,
        default=10.0,
        help="how long to wait for the gateway to accept the connection (default 10)",
    )
    c.add_argument(
        "--simulate",
        nargs="?",
        const="",
        default=None,
        metavar="GALAXY",
        help="run against an embedded simulator on loopback (default galaxy, or "
        "the galaxy file given)",
    )
    r = p.add_argument_group("run options")
    r.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a variable (over vars: and --vars-file)",
    )
    r.add_argument(
        "--vars-file", action="append", default=[], metavar="FILE", help="YAML mapping of variables"
    )
    r.add_argument("--tag", action="append", default=[], help="run only scenarios with this tag")
    r.add_argument("--skip-tag", action="append", default=[], help="skip scenarios with this tag")
    r.add_argument("--fail-fast", action="store_true", help="stop after the first failed scenario")
    r.add_argument(
        "--validate", action="store_true", help="check files and variables only; connect to nothing"
    )
    r.add_argument(
        "--plan",
        action="store_true",
        help="list the steps and every write they would make; connect to nothing",
    )
    r.add_argument("--read-only", action="store_true", help="refuse scenarios that write")
    o = p.add_argument_group("output options")
    o.add_argument("--report-json", metavar="FILE", help="write a JSON report")
    o.add_argument("--report-junit", metavar="FILE", help="write a JUnit XML report")
    v = o.add_mutually_exclusive_group()
    v.add_argument("-q", "--quiet", action="store_true", help="only failures and the summary")
    v.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also what passing checks observed, and event timelines",
    )
    return p


def _err(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def _has_steps(path: Path) -> bool:
    """A YAML file is a scenario when it is a mapping with ``steps:`` (or cannot be parsed)."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        return True  # let the loader report it with a location
    except OSError:
        return True
    return isinstance(data, dict) and "steps" in data


def discover(paths: Sequence[str]) -> tuple[list[Path], list[str]]:
    """Scenario files from files and directories (a directory's own files, sorted)."""
    files: list[Path] = []
    problems: list[str] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.suffix in (".yaml", ".yml") and p.is_file() and _has_steps(p)
            )
            if not found:
                problems.append(f"{text}: no scenario files (*.yaml, *.yml with steps:)")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(f"{text}: no such file or directory")
    return files, problems


def _split_simulate(args: argparse.Namespace) -> None:
    """``--simulate scenario.yaml`` means the default galaxy and one more scenario."""
    value = args.simulate
    if value:
        path = Path(value)
        if path.is_dir() or (path.is_file() and _has_steps(path)):
            args.paths.insert(0, value)
            args.simulate = ""


def load_all(
    files: Sequence[Path], args: argparse.Namespace, registry: StepRegistry
) -> tuple[list[Scenario], list[str]]:
    """Load every file; return the scenarios and every diagnostic (formatted)."""
    from mxgw_runner.errors import ScenarioError
    from mxgw_runner.loader import check_scenario, parse_cli_vars

    try:
        cli_vars = parse_cli_vars(args.var)
    except ScenarioError as exc:
        return [], [d.format() for d in exc.diagnostics]
    scenarios: list[Scenario] = []
    problems: list[str] = []
    for file in files:
        scenario, diagnostics = check_scenario(
            file, registry=registry, cli_vars=cli_vars, vars_files=args.vars_file
        )
        problems.extend(d.format() for d in diagnostics)
        if scenario is not None:
            scenarios.append(scenario)
    return scenarios, problems


def select(
    scenarios: Sequence[Scenario], tags: Sequence[str], skip: Sequence[str]
) -> list[Scenario]:
    """Apply ``--tag`` (any of) and ``--skip-tag``."""
    out = []
    for s in scenarios:
        if tags and not set(tags) & set(s.tags):
            continue
        if set(skip) & set(s.tags):
            continue
        out.append(s)
    return out


def writes_of(scenario: Scenario) -> list[tuple[Any, str]]:
    """Every write step of a scenario and a one-line description of what it writes."""
    from mxgw_runner.loader import resolve_step_params

    references: dict[str, str] = {}
    out = []
    for step in scenario.walk():
        if step.kind == "add-item":
            item = str(step.params.get("item"))
            references[str(step.params.get("as") or item)] = item
        if step.kind != "write":
            continue
        try:
            params = resolve_step_params(step, scenario.vars, env={})
        except Exception:
            params = dict(step.params)
        item = str(params.get("item"))
        target = references.get(item, item)
        text = f"{target} <- {params.get('value')!r}"
        details = []
        if params.get("type"):
            details.append(f"type {params['type']}")
        if params.get("verifier") is not None:
            details.append(
                f"WriteSecured as {params.get('user')}, verified by {params['verifier']}"
            )
        elif params.get("user") is not None:
            details.append(f"as {params['user']}")
        if params.get("timestamp") is not None:
            details.append(f"timestamp {params['timestamp']}")
        if params.get("restore"):
            details.append("restored at cleanup")
        if details:
            text += f" ({'; '.join(details)})"
        out.append((step, text))
    return out


def print_plan(scenarios: Sequence[Scenario], out: TextIO) -> None:
    """The steps of each scenario and every write it would make."""
    for scenario in scenarios:
        out.write(f"{scenario.path} — {scenario.name}\n")
        for step in scenario.steps:
            title = f" {step.title}" if step.title else ""
            out.write(f"  {step.index:02d} {step.kind}{title}  (line {step.line})\n")
        writes = writes_of(scenario)
        out.write(f"  writes: {len(writes)}\n")
        for step, text in writes:
            out.write(f"    {step.location.file}:{step.line}: {text}\n")


class ConsolePlugin:
    """Streams the run to the console through the engine's hooks (steps never print)."""

    def __init__(self, reporter: ConsoleReporter) -> None:
        self.reporter = reporter
        self.seen: set[str] = set()

    @hookimpl
    def mxgw_scenario_start(self, scenario: Any) -> None:
        """Print the scenario's header."""
        self.seen.add(str(scenario.path))
        self.reporter.scenario_started(str(scenario.path), scenario.name)

    @hookimpl
    def mxgw_step_finish(self, scenario: Any, step: Any, result: Any) -> None:
        """Print the step's line as soon as it has a result."""
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
) -> int:
    """Run the scenarios (starting the embedded simulator if asked), write reports."""
    import contextlib
    from pathlib import Path as _Path

    from mxgw_runner.engine.connection import Connection as _Connection
    from mxgw_runner.engine.runner import Engine, EngineOptions
    from mxgw_runner.engine.signals import Interrupts, installed
    from mxgw_runner.errors import ScenarioError
    from mxgw_runner.exitcodes import exit_code_for
    from mxgw_runner.reports import builtin_writers
    from mxgw_runner.reports.console import NORMAL, QUIET, VERBOSE, ConsoleReporter

    verbosity = QUIET if args.quiet else VERBOSE if args.verbose else NORMAL
    reporter = ConsoleReporter(sys.stdout, verbosity=verbosity, redactor=redactor)
    console = ConsolePlugin(reporter)
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
                endpoint=connection.endpoint,
            )
            engine = Engine(registry, pm, options, redactor=redactor, interrupts=interrupts)
            result = await engine.run(scenarios)
        for scenario_result in result.scenarios:
            if scenario_result.file not in console.seen:
                reporter.scenario_started(scenario_result.file, scenario_result.name)
                reporter.scenario_finished(scenario_result)
        code = int(exit_code_for(result, invalid=engine.invalid))
        writers = {w.name: w for w in builtin_writers()}
        for name, target in (("json", args.report_json), ("junit", args.report_junit)):
            if target:
                try:
                    writers[name].write(result, _Path(target), redactor)
                except OSError as exc:
                    _err(f"--report-{name} {target}: cannot write: {exc.strerror or exc}")
                    code = max(code, EXIT_USAGE) if code < EXIT_SIGINT else code
        reporter.summary(result, code)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mxgw-run`` console script; returns the exit code."""
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        _err("interrupted")
        return EXIT_SIGINT


def _with_builtin_runs(registry: StepRegistry) -> StepRegistry:
    """Interim: pair declared built-in steps with their run callables."""
    from mxgw_runner.steps.runs import with_runs
    from mxgw_runner.steptypes import StepRegistry as _Registry

    out = _Registry()
    for step_type in with_runs(registry):
        out.add(step_type, registry.owner(step_type.name))
    return out


def _main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    _split_simulate(args)
    from mxgw_runner.errors import PluginError
    from mxgw_runner.plugins import build_plugin_manager, collect_step_types
    from mxgw_runner.redact import Redactor

    try:
        pm = build_plugin_manager(entry_points=False)
        registry = _with_builtin_runs(collect_step_types(pm))
    except PluginError as exc:
        _err(str(exc))
        return EXIT_USAGE
    files, problems = discover(args.paths)
    for target in (args.report_json, args.report_junit):
        if target and not Path(target).resolve().parent.is_dir():
            problems.append(f"report file {target}: its directory does not exist")
    if args.simulate and not Path(args.simulate).is_file():
        problems.append(f"--simulate {args.simulate}: no such galaxy file")
    scenarios, diagnostics = load_all(files, args, registry)
    for line in [*problems, *diagnostics]:
        print(line, file=sys.stderr)
    if problems or diagnostics:
        _err(f"{len(problems) + len(diagnostics)} problem(s); nothing was run")
        return EXIT_USAGE
    unsupported = [
        step
        for scenario in scenarios
        for step in scenario.walk()
        if (step_type := registry.get(step.kind)) is not None and step_type.run is None
    ]
    for step in unsupported:
        print(
            f"{step.location.file}:{step.line}:{step.column}: step {step.index} {step.kind}: "
            "not supported by this version of mxgw-run",
            file=sys.stderr,
        )
    if unsupported:
        return EXIT_USAGE
    if args.read_only:
        refused = [step for s in scenarios for step, _ in writes_of(s)]
        for step in refused:
            print(
                f"{step.location.file}:{step.line}:{step.column}: step {step.index} write: "
                "--read-only refuses scenarios that write",
                file=sys.stderr,
            )
        if refused:
            return EXIT_USAGE
    selected = select(scenarios, args.tag, args.skip_tag)
    if args.validate:
        for scenario in scenarios:
            print(f"ok  {scenario.path} — {scenario.name} ({len(scenario.steps)} steps)")
        return EXIT_OK
    if args.plan:
        print_plan(selected, sys.stdout)
        return EXIT_OK
    connection = None
    if args.simulate is None:
        from mxgw_runner.engine.connection import ConnectionOptionError, resolve_connection

        try:
            connection = resolve_connection(
                endpoint=args.endpoint,
                transport=args.transport,
                ca_file=args.ca_file,
                server_name_override=args.server_name_override,
                api_key_env=args.api_key_env,
                connect_timeout=args.connect_timeout,
            )
        except ConnectionOptionError as exc:
            _err(str(exc))
            return EXIT_USAGE
    redactor = Redactor()
    if connection is not None and connection.api_key:
        redactor.add([connection.api_key])
    for scenario in selected:
        redactor.add(scenario.secret_values)
    os.environ.pop("PYTHONASYNCIODEBUG", None)
    return asyncio.run(run_scenarios(args, selected, registry, pm, connection, redactor))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
