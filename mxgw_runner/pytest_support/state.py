"""What one pytest process keeps for its scenarios: plugins, connection, simulator, loop.

One :class:`RunnerState` per pytest process (per xdist worker): the mxgw-run plugin
manager and step registry, built once for every file; the gateway connection settings;
the embedded simulator for ``--mxgw-simulate``, started before the first scenario runs
and stopped when pytest ends; and the event loop all of them live on. Each scenario
still runs in an :class:`~mxgw_runner.engine.runner.Engine` of its own, with its own
session and cleanup, exactly as ``mxgw-run`` would run it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mxgw_runner.engine.connection import Connection
    from mxgw_runner.model import Scenario
    from mxgw_runner.redact import Redactor
    from mxgw_runner.results import ScenarioResult
    from mxgw_runner.steptypes import StepRegistry


class SetupFailed(Exception):
    """A problem the user can fix (a scenario, a galaxy file, a plugin); the message is
    shown as it is, without a traceback."""


#: The runner's option names in connection messages, as this plugin spells them.
_OPTION = re.compile(
    r"--(endpoint|api-key-env|plaintext|tls|ca-file|server-name-override|assume-yes)\b"
)


def pytest_option_names(message: str) -> str:
    """A runner message with its option names as this plugin spells them."""
    return _OPTION.sub(r"--mxgw-\1", message)


@dataclass(frozen=True)
class Settings:
    """The ``--mxgw-*`` options of this pytest run."""

    endpoint: str | None = None
    api_key_env: str | None = None
    transport: str | None = None
    ca_file: str | None = None
    server_name_override: str | None = None
    simulate: str | None = None
    assume_yes: bool = False
    read_only: bool = False
    variables: Sequence[str] = ()
    plugins: Sequence[str] = ()

    @classmethod
    def from_config(cls, config: pytest.Config) -> Settings:
        """Read the options from pytest's configuration."""
        option = config.option
        return cls(
            endpoint=option.mxgw_endpoint,
            api_key_env=option.mxgw_api_key_env,
            transport=option.mxgw_transport,
            ca_file=option.mxgw_ca_file,
            server_name_override=option.mxgw_server_name_override,
            simulate=option.mxgw_simulate,
            assume_yes=bool(option.mxgw_assume_yes),
            read_only=bool(option.mxgw_read_only),
            variables=tuple(option.mxgw_var or ()),
            plugins=tuple(option.mxgw_plugin or ()),
        )


@dataclass
class RunOutcome:
    """A scenario's result, the redactor that knows its secrets, and any signal received."""

    result: ScenarioResult
    redactor: Redactor
    interrupted_by: str | None = None


@contextlib.contextmanager
def _signals_restored() -> Iterator[None]:
    """Put back the process's own SIGINT/SIGTERM/SIGHUP handlers after a scenario ran
    (asyncio would leave the defaults, and pytest relies on its own)."""
    from mxgw_runner.engine.signals import HANDLED

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {signum: signal.getsignal(signum) for signum in HANDLED}
    try:
        yield
    finally:
        for signum, handler in saved.items():
            if handler is not None:
                signal.signal(signum, handler)


@dataclass
class RunnerState:
    """Per-process state of the plugin; everything heavy is made on first use."""

    settings: Settings
    _plugins: tuple[Any, StepRegistry] | None = None
    _cli_vars: dict[str, Any] | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _stack: contextlib.AsyncExitStack | None = None
    _connection: Connection | None = None
    _setup_error: str | None = None

    @classmethod
    def from_config(cls, config: pytest.Config) -> RunnerState:
        """The state for this pytest process's options."""
        return cls(Settings.from_config(config))

    # -- loading -----------------------------------------------------------------------

    def plugins(self) -> tuple[Any, StepRegistry]:
        """The mxgw-run plugin manager and step registry (``--mxgw-plugin`` included)."""
        if self._plugins is None:
            from mxgw_runner.errors import PluginError
            from mxgw_runner.plugins import (
                autoload_enabled,
                build_plugin_manager,
                collect_step_types,
            )

            try:
                pm = build_plugin_manager(self.settings.plugins, entry_points=autoload_enabled())
                self._plugins = (pm, collect_step_types(pm))
            except PluginError as exc:
                named = any(repr(name) in str(exc) for name in self.settings.plugins)
                raise SetupFailed(f"{'--mxgw-plugin' if named else 'mxgw plugin'}: {exc}") from None
        return self._plugins

    def cli_vars(self) -> dict[str, Any]:
        """The ``--mxgw-var`` assignments, parsed as ``mxgw-run --var`` parses them."""
        if self._cli_vars is None:
            from mxgw_runner.errors import ScenarioError
            from mxgw_runner.loader import parse_cli_vars

            try:
                self._cli_vars = parse_cli_vars(self.settings.variables)
            except ScenarioError as exc:
                lines = (f"--mxgw-var: {d.message.removeprefix('--var ')}" for d in exc.diagnostics)
                raise SetupFailed("\n".join(dict.fromkeys(lines))) from None
        return self._cli_vars

    def load(self, path: Path) -> Scenario:
        """Load and check a scenario file; :class:`SetupFailed` lists every located problem."""
        from mxgw_runner.loader import check_scenario

        _, registry = self.plugins()
        scenario, diagnostics = check_scenario(
            _shown_path(path), registry=registry, cli_vars=self.cli_vars()
        )
        if scenario is None:
            lines = [d.format() for d in diagnostics] or [f"{path}: invalid scenario"]
            raise SetupFailed("\n".join(dict.fromkeys(lines)))  # each problem once
        return scenario

    def preflight(self, scenario: Scenario) -> list[str]:
        """What ``mxgw-run`` refuses before running (steps it cannot run, unset passwords)."""
        from mxgw_runner.cli.checks import preflight

        _, registry = self.plugins()
        problems = preflight(
            [scenario], registry, read_only=self.settings.read_only, need_passwords=True
        )
        return [p.replace("--read-only", "--mxgw-read-only") for p in problems]

    # -- connecting --------------------------------------------------------------------

    def check_options(self) -> None:
        """Refuse bad connection options before any scenario runs (a usage error)."""
        simulate = self.settings.simulate
        if simulate is not None:
            if simulate and not Path(simulate).is_file():
                raise pytest.UsageError(f"--mxgw-simulate {simulate}: no such galaxy file")
            return
        try:
            self._resolve()
        except SetupFailed as exc:
            raise pytest.UsageError(str(exc)) from None

    def _resolve(self) -> Connection:
        from mxgw_runner.engine.connection import ConnectionOptionError, resolve_connection

        try:
            return resolve_connection(
                endpoint=self.settings.endpoint,
                transport=self.settings.transport,
                ca_file=self.settings.ca_file,
                server_name_override=self.settings.server_name_override,
                api_key_env=self.settings.api_key_env,
            )
        except ConnectionOptionError as exc:
            raise SetupFailed(pytest_option_names(str(exc))) from None

    def loop(self) -> asyncio.AbstractEventLoop:
        """The process's event loop: the simulator serves on it while scenarios run."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop

    def connection(self) -> Connection:
        """Where scenarios connect; starts the embedded simulator on first use."""
        if self._setup_error is not None:
            raise SetupFailed(self._setup_error)
        if self._connection is None:
            try:
                self._connection = self._connect_settings()
            except SetupFailed as exc:
                self._setup_error = str(exc)
                raise
        return self._connection

    def _connect_settings(self) -> Connection:
        if self.settings.simulate is None:
            return self._resolve()
        from mxgw_runner.engine.connection import Connection
        from mxgw_runner.errors import ScenarioError
        from mxgw_runner.simulate import embedded_simulator

        loop = self.loop()
        stack = contextlib.AsyncExitStack()
        try:
            endpoint = loop.run_until_complete(
                stack.enter_async_context(embedded_simulator(self.settings.simulate or None))
            )
        except ScenarioError as exc:
            lines = [d.format() for d in exc.diagnostics]
            raise SetupFailed("\n".join([*lines, "--mxgw-simulate: invalid galaxy file"])) from None
        except OSError as exc:
            raise SetupFailed(f"--mxgw-simulate: cannot start the simulator: {exc}") from None
        self._stack = stack
        return Connection(endpoint, plaintext=True)

    # -- running -----------------------------------------------------------------------

    def run(self, scenario: Scenario) -> RunOutcome:
        """Run one scenario in an engine of its own (session, cleanup); Ctrl-C stops its
        steps and lets its cleanup run, as in ``mxgw-run``."""
        from mxgw_runner.engine.runner import Engine, EngineOptions
        from mxgw_runner.engine.signals import Interrupts, installed
        from mxgw_runner.redact import Redactor

        connection = self.connection()
        pm, registry = self.plugins()
        redactor = Redactor(scenario.secret_values)
        if connection.api_key:
            redactor.add([connection.api_key])
        interrupts = Interrupts()
        options = EngineOptions(
            connect=connection.connect,
            endpoint=connection.endpoint,
            read_only=self.settings.read_only,
            assume_yes=self.settings.assume_yes,
        )
        engine = Engine(registry, pm, options, redactor=redactor, interrupts=interrupts)

        async def run_one() -> ScenarioResult:
            with installed(interrupts):
                result = await engine.run([scenario])
            return result.scenarios[0]

        loop = self.loop()
        with _signals_restored():
            task = loop.create_task(run_one())
            try:
                result = loop.run_until_complete(task)
            except BaseException:
                # Something broke in from outside the loop (a timeout plugin, a signal
                # handled elsewhere): cancel the steps and still let the cleanup run.
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        loop.run_until_complete(task)
                raise
        return RunOutcome(result, engine.redactor, interrupts.signal_name() or None)

    def close(self) -> None:
        """Stop the simulator (if started) and close the loop; safe to call twice."""
        loop, self._loop = self._loop, None
        stack, self._stack = self._stack, None
        if loop is None:
            return
        try:
            if stack is not None:
                loop.run_until_complete(stack.aclose())
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


def _shown_path(path: Path) -> Path:
    """The path as messages show it: relative to the working directory when under it."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path
