"""The ``mxgw-py`` parser and the run loop: parse, run one command, report, pick an exit code.

Nothing here prints directly: results and errors go through ``Output``, which scrubs secrets.
Usage errors (argparse's included) are reported like every other error, as a JSON error
object with ``--json``, and exit with code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import textwrap
import warnings
from collections.abc import Sequence
from typing import Any, NoReturn

from mxgateway_cli.commands import COMMANDS, Command
from mxgateway_cli.commands.base import SESSION_ENV
from mxgateway_cli.context import Context
from mxgateway_cli.errors import EXIT_CODE_HELP, CliError, ExitCode, UsageError, classify
from mxgateway_cli.options import ENDPOINT_ENV, add_output_options, connection_parent
from mxgateway_cli.output import Output

__all__ = ["build_parser", "run"]

PROG = "mxgw-py"

DESCRIPTION = """\
Command line client for the MXAccess Gateway: open a session, register, add and
advise items, write, read and stream events, one gateway call per command. Sessions
live on the gateway, so commands run as separate processes work on one session:
pass the id open-session prints with --session-id."""

EPILOG = f"""\
connection and output options (--endpoint, --plaintext/--tls, --ca-file,
--server-name-override, --api-key-env, --api-key, --timeout, --connect-timeout,
--json, --raw) go after the command name; see '{PROG} <command> --help'.

environment:
  {ENDPOINT_ENV}    default for --endpoint (else localhost:5000)
  {SESSION_ENV}  default for --session-id
  the variable named by --api-key-env (e.g. MXGATEWAY_API_KEY) holds the API key;
  prefer it to --api-key, which is visible in process lists.

{EXIT_CODE_HELP}

example session (POSIX shell; PowerShell: $env:MXGATEWAY_API_KEY = '...'):
  export MXGATEWAY_API_KEY=...
  {PROG} open-session --endpoint localhost:5000 --plaintext --api-key-env MXGATEWAY_API_KEY --json
  {PROG} register --session-id <id> --client-name python-client --api-key-env MXGATEWAY_API_KEY
  {PROG} add-item --session-id <id> --server-handle 1 --item Object.Attribute --json
  {PROG} advise --session-id <id> --server-handle 1 --item-handle 2 --json
  {PROG} stream-events --session-id <id> --max-events 1 --json
  {PROG} write --session-id <id> --server-handle 1 --item-handle 2 --type int32 --value 123
  {PROG} close-session --session-id <id>

full reference: docs/cli.md"""

SECRET_OPTIONS = ("--api-key", "--password")


class CliParser(argparse.ArgumentParser):
    """An ArgumentParser that raises ``UsageError`` instead of printing and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _epilog(command: Command) -> str:
    parts: list[str] = []
    if command.notes:
        parts.extend(command.notes)
        parts.append("")
    parts.append("examples:")
    parts.extend(f"  {example}" for example in command.examples)
    if command.connects:
        parts.append("")
        parts.append(f"exit codes: see '{PROG} --help'")
    return "\n".join(parts)


def build_parser() -> CliParser:
    """The full parser: one subparser per command, each with the shared options."""
    parser = CliParser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    subparsers = parser.add_subparsers(
        dest="command", metavar="<command>", title="commands", required=True
    )
    plain_parent = connection_parent()
    stream_parent = connection_parent(stream_command=True)
    output_parent = argparse.ArgumentParser(add_help=False)
    add_output_options(output_parent)
    for command in COMMANDS:
        parents: list[Any]
        if not command.connects:
            parents = [output_parent]
        else:
            parents = [stream_parent if command.stream else plain_parent]
        sub = subparsers.add_parser(
            command.name,
            help=command.summary,
            description=textwrap.fill(command.description, width=79),
            epilog=_epilog(command),
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=parents,
            allow_abbrev=False,
        )
        command.configure(sub)
        sub.set_defaults(handler=command)
    return parser


def _prescan(argv: Sequence[str], out: Output) -> None:
    """Register secrets given on the command line before parsing, so even a usage error
    that echoes them is scrubbed; pick the output mode the same way."""
    for index, token in enumerate(argv):
        if token == "--":
            break
        if token == "--json":
            out.json_mode = True
        elif token == "--raw":
            out.raw = True
        for option in SECRET_OPTIONS:
            if token == option and index + 1 < len(argv):
                out.add_secret(argv[index + 1])
            elif token.startswith(option + "="):
                out.add_secret(token[len(option) + 1 :])


async def _run_command(command: Command, ctx: Context) -> ExitCode:
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None and hasattr(signal, "SIGTERM"):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        result = await command.run(ctx)
    finally:
        await ctx.close()
    if result is None:
        return ExitCode.OK
    ctx.out.result(result)
    return result.exit_code


def run(argv: Sequence[str] | None = None, out: Output | None = None) -> int:
    """Run ``mxgw-py`` with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    out = out if out is not None else Output()
    _prescan(args_list, out)
    logging.getLogger("mxgateway").addHandler(logging.NullHandler())
    parser = build_parser()
    command_name = ""
    ctx: Context | None = None
    try:
        try:
            args = parser.parse_args(args_list)
        except SystemExit as exc:  # --help
            return int(exc.code or 0) if isinstance(exc.code, int) else 0
        command: Command = args.handler
        command_name = command.name
        out.json_mode = args.json
        out.raw = args.raw
        ctx = Context(args, out)
        if command.connects:
            _ = ctx.settings  # usage errors before any connection attempt
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                code = asyncio.run(_run_command(command, ctx))
            finally:
                for warning in caught:
                    # our own and the library's notices; not third-party deprecations
                    if issubclass(warning.category, UserWarning):
                        out.warn(str(warning.message))
        return int(code)
    except BrokenPipeError:
        # the reader went away (e.g. `| head -1`): stop quietly, as other CLI tools do
        _silence_stdout()
        return int(ExitCode.OK)
    except (Exception, KeyboardInterrupt, asyncio.CancelledError) as exc:
        if isinstance(exc, asyncio.CancelledError):
            error = CliError("interrupted", ExitCode.INTERRUPTED, "Interrupted", "INTERRUPTED")
        else:
            error = classify(exc, endpoint=ctx.endpoint if ctx is not None else "")
        try:
            out.error(error, command=command_name)
        except BrokenPipeError:
            _silence_stdout()
        return int(error.exit_code)


def _silence_stdout() -> None:
    """Point stdout at the null device so the interpreter's final flush cannot fail."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
