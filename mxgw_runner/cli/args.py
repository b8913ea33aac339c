"""The command line of ``mxgw-run`` (argparse; exit code 2 on a usage error)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mxgw_runner import __version__

if TYPE_CHECKING:
    from mxgw_runner.reports import ReportWriter

PROG = "mxgw-run"
EXIT_USAGE = 2

_EPILOG = """\
exit codes: 0 all passed, 1 a check failed, 2 invalid scenario or usage,
3 gateway or infrastructure error, 4 only cleanup failed, 130 interrupted (Ctrl-C),
143 terminated (SIGTERM). A second Ctrl-C abandons cleanup.

environment:
  MXGATEWAY_ENDPOINT  default for --endpoint (else localhost:5000)

examples:
  mxgw-run scenarios/smoke.mxgw.yaml --simulate
  mxgw-run scenarios/ --endpoint gw01:5001 --tls --ca-file ca.pem --api-key-env MXGATEWAY_API_KEY
  mxgw-run pump101.yaml --var setpoint=40 --plan
"""


class _Parser(argparse.ArgumentParser):
    """argparse with the usage error on one line and exit code 2.

    An unrecognized argument is named without its value: a value given by mistake (an API
    key after a misspelt option) must not be echoed to the terminal or a CI log.
    """

    def error(self, message: str) -> Any:
        prefix = "unrecognized arguments: "
        if message.startswith(prefix):
            options = [a.split("=", 1)[0] for a in message[len(prefix) :].split() if a[:1] == "-"]
            message = "unrecognized option(s): " + (", ".join(options) or "(a value)")
            message += " (values not shown)"
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, got {text!r}")
    return value


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {text!r}")
    return value


def _shard(text: str) -> tuple[int, int]:
    index, sep, count = text.partition("/")
    if not sep or not index.strip().isdigit() or not count.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected I/N (e.g. 2/4), got {text!r}")
    i, n = int(index), int(count)
    if not 1 <= i <= n:
        raise argparse.ArgumentTypeError(f"I/N needs 1 <= I <= N, got {text!r}")
    return i, n


def plugin_modules(argv: Sequence[str]) -> list[str]:
    """The ``--plugin`` modules named in ``argv`` (read before the parser is built, since
    plugins add options of their own)."""
    modules: list[str] = []
    for i, arg in enumerate(argv):
        if arg == "--plugin" and i + 1 < len(argv):
            modules.append(argv[i + 1])
        elif arg.startswith("--plugin="):
            modules.append(arg.split("=", 1)[1])
    return modules


def report_dest(name: str) -> str:
    """The argparse destination of ``--report-<name>``."""
    return "report_" + name.replace("-", "_")


def build_parser(writers: Sequence[ReportWriter] = ()) -> argparse.ArgumentParser:
    """The command line of ``mxgw-run``; ``--report-<name> FILE`` for each report writer."""
    p = _Parser(
        prog=PROG,
        description="Run declarative YAML scenarios against the MXAccess Gateway.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    p.add_argument(
        "paths",
        nargs="*",  # at least one; checked after --simulate may have taken a scenario
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
    # The key itself is never an option (process lists, shell history, CI logs): a user who
    # tries gets told what to do instead, and the value is never echoed.
    c.add_argument("--api-key", dest="api_key_given", metavar="KEY", help=argparse.SUPPRESS)
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
        "--jobs",
        type=_jobs,
        default=1,
        metavar="N",
        help="run up to N scenarios at once, each in its own session (default 1)",
    )
    r.add_argument(
        "--shard",
        type=_shard,
        default=None,
        metavar="I/N",
        help="run only the I-th of N disjoint parts of the selected scenarios (CI machines)",
    )
    r.add_argument(
        "--validate", action="store_true", help="check files and variables only; connect to nothing"
    )
    r.add_argument(
        "--plan",
        action="store_true",
        help="list the steps and every write they would make; connect to nothing",
    )
    r.add_argument("--read-only", action="store_true", help="refuse scenarios that write")
    r.add_argument(
        "--assume-yes",
        action="store_true",
        help="answer yes to every confirm: step (unattended runs; each step's message says so)",
    )
    r.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE",
        help="load a plugin module (its steps, hooks and report writers); repeatable",
    )
    r.add_argument(
        "--print-schema",
        action="store_true",
        help="print the scenario JSON schema, plugin steps included, and exit; connect to nothing",
    )
    r.add_argument(
        "--list-steps",
        action="store_true",
        help="list every step with the plugin that adds it and exit; connect to nothing",
    )
    o = p.add_argument_group("output options")
    for writer in writers:
        o.add_argument(
            f"--report-{writer.name}",
            metavar="FILE",
            dest=report_dest(writer.name),
            help=writer.description,
        )
    o.add_argument(
        "--operator",
        metavar="NAME",
        help="who performs the checks: named in the HTML record's sign-off (default: the "
        "scenarios' metadata operator)",
    )
    v = o.add_mutually_exclusive_group()
    v.add_argument("-q", "--quiet", action="store_true", help="only failures and the summary")
    v.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also what passing checks observed, and event timelines",
    )
    return p


