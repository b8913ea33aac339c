"""The engine: runs scenarios, one at a time or ``jobs`` at once, with one gateway connection.

One :class:`Engine` per ``mxgw-run`` invocation holds the gateway connection
(opened before the first scenario), the plugin manager, the redactor and the
signal state; each scenario is a :class:`~mxgw_runner.engine.scenario.ScenarioRun`
with its own variables, cleanup stack and session, run in a task of its own. The
results keep the input order whatever order the scenarios finish in.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pluggy

from mxgw_runner import __version__
from mxgw_runner.engine.outcomes import judge
from mxgw_runner.engine.scenario import ScenarioRun, skipped_scenario
from mxgw_runner.engine.signals import Interrupts
from mxgw_runner.engine.state import StepUsageError
from mxgw_runner.model import Scenario
from mxgw_runner.redact import Redactor
from mxgw_runner.results import Outcome, RunResult, ScenarioResult
from mxgw_runner.steptypes import StepRegistry

Connector = Callable[[], Awaitable[Any]]
"""Opens the gateway connection: returns an ``mxgateway.GatewayClient``."""


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """How a run behaves, from the command line."""

    connect: Connector | None = None
    read_only: bool = False
    fail_fast: bool = False
    #: ``--assume-yes``: every ``confirm`` step is answered yes (unattended runs).
    assume_yes: bool = False
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    endpoint: str | None = None
    #: How many scenarios may run at once (``--jobs``).
    jobs: int = 1


def _now() -> datetime:
    return datetime.now(UTC)


class Engine:
    """Runs a list of loaded scenarios and returns the :class:`RunResult`."""

    def __init__(
        self,
        registry: StepRegistry,
        pm: pluggy.PluginManager,
        options: EngineOptions,
        *,
        redactor: Redactor | None = None,
        interrupts: Interrupts | None = None,
    ) -> None:
        self.registry = registry
        self.pm = pm
        self.options = options
        self.redactor = redactor if redactor is not None else Redactor()
        self.interrupts = interrupts if interrupts is not None else Interrupts()
        self.invalid = False
        self.result = RunResult(tool_version=__version__, start=_now(), endpoint=options.endpoint)
        self._client: Any = None
        self._connect_error: str | None = None
        self._stop_reason: str | None = None
        self._client_lock = asyncio.Lock()

    async def client(self) -> Any:
        """The gateway client, connected on first use (an error here is the gateway's)."""
        async with self._client_lock:
            if self._client is None:
                if self.options.connect is None:
                    raise StepUsageError("this run has no gateway connection (--validate/--plan)")
                self._client = await self.options.connect()
            return self._client

    async def close(self) -> None:
        """Close the gateway connection (cancelling anything still in flight)."""
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    async def _connect_first(self) -> str | None:
        """Connect before the first scenario (when any opens a session); on failure, the
        reason every scenario errs."""
        task = asyncio.get_running_loop().create_task(self.client())
        self.interrupts.steps_task = task
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.done():
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            return f"not run: interrupted by {self.interrupts.signal_name() or 'cancellation'}"
        except Exception as exc:
            # the client library names its own parameters; a runner user types options
            message = judge(exc).message.replace(
                "(plaintext, ca_file, server_name_override)",
                "(--plaintext or --tls, --ca-file, --server-name-override)",
            )
            self._connect_error = f"cannot connect: {message}"
            return self._connect_error
        finally:
            self.interrupts.steps_task = None
        return None

    async def run(self, scenarios: Sequence[Scenario]) -> RunResult:
        """Run every scenario (up to ``jobs`` at once); the result lists them in input order
        and is complete even when interrupted."""
        slots: list[ScenarioResult | None] = [None] * len(scenarios)
        try:
            needs_gateway = any(
                step.kind == "open-session" for scenario in scenarios for step in scenario.walk()
            )
            stop_reason: str | None = None
            if needs_gateway and self.options.connect is not None:
                stop_reason = await self._connect_first()
            if stop_reason is None:
                await self._run_pool(scenarios, slots)
        finally:
            try:
                await self.close()
            finally:
                self._fill(scenarios, slots)
                self.result.end = _now()
                if self.interrupts.interrupted:
                    self.result.interrupted_by = self.interrupts.signal_name()
        return self.result

    async def _run_pool(
        self, scenarios: Sequence[Scenario], slots: list[ScenarioResult | None]
    ) -> None:
        """Start scenarios in input order, at most ``jobs`` running, until all ran or a
        signal or ``--fail-fast`` stops the starting (running ones always finish)."""
        pending = iter(enumerate(scenarios))

        async def worker() -> None:
            me = asyncio.current_task()
            for index, scenario in pending:
                if self._stop_reason is not None or self.interrupts.interrupted:
                    return
                if me is not None and me.cancelling():
                    return  # the run itself is being cancelled: start nothing more
                self.redactor.add(scenario.secret_values)
                outcome = await ScenarioRun(self, scenario).execute()
                slots[index] = outcome
                if self.options.fail_fast and outcome.status in (Outcome.FAILED, Outcome.ERROR):
                    self._stop_reason = "not run: --fail-fast after a failure"

        workers = max(1, min(self.options.jobs, len(scenarios)))
        if workers == 1:
            await worker()  # in the caller's task, as a plain sequential run
            return
        tasks = [asyncio.get_running_loop().create_task(worker()) for _ in range(workers)]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _fill(self, scenarios: Sequence[Scenario], slots: list[ScenarioResult | None]) -> None:
        """Put every result in the run's result, in input order; say why the rest did not run."""
        for scenario, outcome in zip(scenarios, slots, strict=True):
            if outcome is None:
                status = Outcome.SKIPPED
                reason = self._stop_reason
                if self._connect_error is not None:
                    status, reason = Outcome.ERROR, self._connect_error
                elif self.interrupts.interrupted:
                    reason = f"not run: interrupted by {self.interrupts.signal_name()}"
                elif reason is None:
                    reason = "not run: the run was cancelled"
                outcome = skipped_scenario(scenario, reason, status)
            self.result.scenarios.append(outcome)
