"""``mxgw-run``: run YAML scenarios against a gateway (or an embedded simulator).

Usage: ``mxgw-run [options] SCENARIO_OR_DIR...``. Every file is loaded and
checked before anything runs; ``--validate`` and ``--plan`` stop there and
never import grpc. Exit codes: 0 passed, 1 a check failed, 2 invalid scenario
or usage, 3 gateway or infrastructure error, 4 only cleanup failed, 130
interrupted (SIGINT), 143 terminated (SIGTERM).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mxgw_runner import __version__
from mxgw_runner.cli.args import EXIT_USAGE, PROG, build_parser, plugin_modules, report_dest
from mxgw_runner.cli.checks import preflight
from mxgw_runner.cli.discovery import discover, load_all, select, shard, split_simulate
from mxgw_runner.cli.plan import confirm_lines, print_plan

if TYPE_CHECKING:
    import argparse

    from mxgw_runner.reports import ReportWriter
    from mxgw_runner.steptypes import StepRegistry

EXIT_OK, EXIT_SIGINT = 0, 130

__all__ = ["build_parser", "main"]


def _err(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def _report_path_problems(
    args: argparse.Namespace, writers: Sequence[ReportWriter], files: Sequence[Path]
) -> list[str]:
    """Report paths that cannot be written, or would overwrite an input or each other.

    Checked before anything runs: a report that fails after a run that wrote to a plant
    loses the record, and one that replaces a scenario file loses the user's work.
    """
    inputs = {Path(f).resolve(): "a scenario file" for f in files}
    for vars_file in getattr(args, "vars_file", None) or []:
        inputs[Path(vars_file).resolve()] = "the vars file"
    if args.simulate:
        inputs[Path(args.simulate).resolve()] = "the galaxy file"
    taken: dict[Path, str] = {}
    problems = []
    for writer in writers:
        target = getattr(args, report_dest(writer.name), None)
        if not target:
            continue
        path = Path(target).resolve()
        option = f"--report-{writer.name}"
        if not path.parent.is_dir():
            problems.append(f"report file {target}: its directory does not exist")
        elif path.is_dir():
            problems.append(f"report file {target}: is a folder; name a file in it")
        elif path in inputs:
            problems.append(f"report file {target}: is {inputs[path]}; it would be overwritten")
        elif path in taken:
            problems.append(f"report file {target}: {option} and {taken[path]} name the same file")
        taken[path] = option
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mxgw-run`` console script; returns the exit code."""
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        _err("interrupted")
        return EXIT_SIGINT
    except BrokenPipeError:
        # the reader went away (`mxgw-run --plan ... | head`): stop quietly, as mxgw-py does
        _silence_stdout()
        return EXIT_OK


def _silence_stdout() -> None:
    """Point stdout at the null device so the interpreter's final flush cannot fail."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, sys.stdout.fileno())
        finally:
            os.close(null)


def _report_writers(pm: Any) -> list[ReportWriter]:
    """The built-in report writers and those plugins add (``--report-<name>``)."""
    from mxgw_runner.plugins import collect_report_writers
    from mxgw_runner.reports import builtin_writers

    return collect_report_writers(pm, builtin_writers())


def _print_registry(args: argparse.Namespace, pm: Any, registry: StepRegistry) -> int:
    """``--print-schema`` / ``--list-steps``: what the loaded plugins make of the language."""
    if args.print_schema:
        from mxgw_runner.schema import build_scenario_schema
        from mxgw_runner.schemas import render

        sys.stdout.write(render(build_scenario_schema(registry)))
    if args.list_steps:
        from mxgw_runner.plugins import format_step_sources, step_sources

        sys.stdout.write(format_step_sources(step_sources(pm, registry)))
    return EXIT_OK


def _main(argv: list[str]) -> int:
    if argv == ["--version"]:  # answered before any plugin is loaded
        print(f"{PROG} {__version__}")
        return EXIT_OK
    from mxgw_runner.errors import PluginError
    from mxgw_runner.plugins import autoload_enabled, build_plugin_manager, collect_step_types
    from mxgw_runner.redact import Redactor

    try:
        pm = build_plugin_manager(plugin_modules(argv), entry_points=autoload_enabled())
        registry = collect_step_types(pm)
        writers = _report_writers(pm)
    except PluginError as exc:
        _err(str(exc))
        return EXIT_USAGE
    parser = build_parser(writers)
    args = parser.parse_args(argv)
    if args.api_key_given is not None:
        parser.error(
            "--api-key: the key is never given on the command line (process lists and logs "
            "would show it); put it in an environment variable and name that variable with "
            "--api-key-env NAME"
        )
    if args.print_schema or args.list_steps:
        return _print_registry(args, pm, registry)
    from mxgw_runner.reports.html import HtmlReportWriter

    for writer in writers:
        if isinstance(writer, HtmlReportWriter):
            writer.operator = args.operator
    split_simulate(args)
    if not args.paths:
        parser.error("the following arguments are required: SCENARIO_OR_DIR")
    files, problems = discover(args.paths)
    problems += _report_path_problems(args, writers, files)
    if args.simulate and not Path(args.simulate).is_file():
        problems.append(f"--simulate {args.simulate}: no such galaxy file")
    scenarios, diagnostics = load_all(files, args, registry)
    for line in [*problems, *diagnostics]:
        print(line, file=sys.stderr)
    if problems or diagnostics:
        _err(f"{len(problems) + len(diagnostics)} problem(s); nothing was run")
        return EXIT_USAGE
    refused = preflight(scenarios, registry, read_only=args.read_only, need_passwords=not args.plan)
    for line in refused:
        print(line, file=sys.stderr)
    if refused:
        _err(f"{len(refused)} problem(s); nothing was run")
        return EXIT_USAGE
    selected = select(scenarios, args.tag, args.skip_tag)
    if args.shard is not None:
        index, count = args.shard
        before = len(selected)
        selected = shard(selected, index, count)
        if not selected and not args.validate:
            _err(
                f"--shard {index}/{count}: none of the {before} selected scenario(s) falls in "
                "this shard; nothing to run"
            )
    if args.validate:
        for scenario in scenarios:
            print(f"ok  {scenario.path} — {scenario.name} ({len(scenario.steps)} steps)")
            for line in confirm_lines(scenario, "    confirm "):
                print(line)
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
        clear_key = connection.key_in_clear_warning(args.api_key_env)
        if clear_key is not None:
            _err(clear_key)  # before anything runs, so a CI log shows it first
    redactor = Redactor()
    if connection is not None and connection.api_key:
        redactor.add([connection.api_key])
    for scenario in selected:
        redactor.add(scenario.secret_values)
    from mxgw_runner.cli.run import run_scenarios

    return asyncio.run(run_scenarios(args, selected, registry, pm, connection, redactor, writers))
