"""pytest plugin (``pytest11`` entry point): collects ``*.mxgw.yaml`` scenarios as tests.

``pytest scenarios/ --mxgw-simulate`` runs every example scenario against an embedded
simulator, one test item per scenario, so ``-k``, ``-m <tag>``, ``--junitxml`` and
pytest-xdist work as they do for Python tests. Every pytest run that has this package
installed loads this module, so it imports nothing heavy: the loader, the engine and
grpc are imported inside the hooks, and only once a scenario file is collected.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from mxgw_runner.pytest_support.state import RunnerState

#: Where the plugin keeps its per-process state (the simulator, the plugin manager).
STATE_KEY: pytest.StashKey[RunnerState] = pytest.StashKey()

#: File name patterns collected as scenarios unless the ``mxgw_files`` ini option says.
DEFAULT_PATTERNS = ("*.mxgw.yaml", "*.mxgw.yml")


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ``mxgw`` option group: where the gateway is and how to reach it."""
    group = parser.getgroup("mxgw", "MXAccess Gateway scenarios (*.mxgw.yaml)")
    group.addoption(
        "--mxgw-endpoint",
        metavar="HOST:PORT",
        default=None,
        help="gateway to run scenarios against (default: $MXGATEWAY_ENDPOINT, else localhost:5000)",
    )
    group.addoption(
        "--mxgw-api-key-env",
        metavar="NAME",
        default=None,
        help="environment variable holding the API key (the key itself is never an option)",
    )
    group.addoption(
        "--mxgw-tls",
        dest="mxgw_transport",
        action="store_const",
        const="tls",
        default=None,
        help="use TLS (the default for endpoints that are not loopback)",
    )
    group.addoption(
        "--mxgw-plaintext",
        dest="mxgw_transport",
        action="store_const",
        const="plaintext",
        help="no TLS (the default on loopback)",
    )
    group.addoption("--mxgw-ca-file", metavar="PEM", default=None, help="CA bundle for TLS")
    group.addoption(
        "--mxgw-server-name-override",
        metavar="NAME",
        default=None,
        help="TLS server name to verify instead of the endpoint's host",
    )
    group.addoption(
        "--mxgw-simulate",
        metavar="GALAXY",
        nargs="?",
        const="",
        default=None,
        help="run against an embedded simulator (started once per pytest process, or per "
        "xdist worker) serving GALAXY, or the default galaxy",
    )
    group.addoption(
        "--mxgw-assume-yes",
        action="store_true",
        default=False,
        help="answer yes to every confirm step (pytest has no operator at a terminal)",
    )
    group.addoption(
        "--mxgw-read-only",
        action="store_true",
        default=False,
        help="refuse (fail) scenarios that write, before they run",
    )
    group.addoption(
        "--mxgw-var",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help="set a scenario variable (repeatable)",
    )
    group.addoption(
        "--mxgw-plugin",
        metavar="MODULE",
        action="append",
        default=[],
        help="load an mxgw-run plugin module (repeatable)",
    )
    parser.addini(
        "mxgw_files",
        type="args",
        default=list(DEFAULT_PATTERNS),
        help="file name patterns collected as mxgw scenarios (default: *.mxgw.yaml *.mxgw.yml)",
    )


def _is_scenario_path(value: str) -> bool:
    """True when ``--mxgw-simulate``'s value is a scenario or a directory, not a galaxy."""
    path = Path(value)
    if path.is_dir():
        return True
    if path.is_file() and path.suffix in (".yaml", ".yml"):
        from mxgw_runner.cli.discovery import has_steps

        return has_steps(path)
    return False


#: Options that show the run means to reach a gateway: checked as pytest starts.
_CONNECTION_OPTIONS = (
    "mxgw_endpoint",
    "mxgw_api_key_env",
    "mxgw_transport",
    "mxgw_ca_file",
    "mxgw_server_name_override",
    "mxgw_simulate",
)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """``--mxgw-simulate scenarios/`` means the default galaxy and one more path to test;
    connection options given are checked now, so a mistake is one usage error (also with
    xdist, before any worker starts)."""
    value = config.getoption("mxgw_simulate", None)
    if value and _is_scenario_path(value):
        config.option.mxgw_simulate = ""
        if config.args_source == pytest.Config.ArgsSource.ARGS:
            config.args.append(value)
        else:  # the path was the only argument: it replaces testpaths / the current folder
            config.args[:] = [value]
    if any(getattr(config.option, name, None) is not None for name in _CONNECTION_OPTIONS):
        from mxgw_runner.pytest_support.state import RunnerState

        RunnerState.from_config(config).check_options()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """A scenario file (by ``mxgw_files`` pattern, or named on the command line) is a test."""
    name = file_path.name
    patterns = parent.config.getini("mxgw_files")
    matched = any(fnmatch.fnmatch(name, pattern) for pattern in patterns)
    if not matched:
        if file_path.suffix not in (".yaml", ".yml") or not parent.session.isinitpath(file_path):
            return None
        from mxgw_runner.cli.discovery import has_steps

        if not has_steps(file_path):
            return None
    from mxgw_runner.pytest_support.items import ScenarioFile

    file: pytest.Collector = ScenarioFile.from_parent(parent, path=file_path)
    return file


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Check the connection options once, when scenarios are about to run."""
    state = config.stash.get(STATE_KEY, None)
    if state is None or config.option.collectonly or hasattr(config, "workerinput"):
        return  # an xdist worker cannot stop the run cleanly: its scenarios fail instead
    from mxgw_runner.pytest_support.items import ScenarioItem

    if any(isinstance(item, ScenarioItem) for item in items):
        state.check_options()


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the embedded simulator and close the event loop, if this process made them."""
    state = config.stash.get(STATE_KEY, None)
    if state is not None:
        state.close()
