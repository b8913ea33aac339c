"""The engine: runs scenarios in order, with one gateway connection and one signal state.

One :class:`Engine` per ``mxgw-run`` invocation holds the gateway connection
(opened before the first scenario), the plugin manager, the redactor and the
signal state; each scenario is a :class:`~mxgw_runner.engine.scenario.ScenarioRun`
with its own variables, cleanup stack and session.
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
from mxgw_runner.results import Outcome, RunResult
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
            self._connect_error = f"cannot connect: {judge(exc).message}"
            return self._connect_error
        finally:
            self.interrupts.steps_task = None
        return None

    async def run(self, scenarios: Sequence[Scenario]) -> RunResult:
        """Run every scenario in order; the result is complete even when interrupted."""
        stop_reason: str | None = None
        try:
            needs_gateway = any(
                step.kind == "open-session" for scenario in scenarios for step in scenario.walk()
            )
            if needs_gateway and self.options.connect is not None:
                stop_reason = await self._connect_first()
            for scenario in scenarios:
                if stop_reason is None and self.interrupts.interrupted:
                    stop_reason = f"not run: interrupted by {self.interrupts.signal_name()}"
                if stop_reason is not None:
                    status = Outcome.SKIPPED
                    if self._connect_error is not None:
                        status = Outcome.ERROR
                    self.result.scenarios.append(skipped_scenario(scenario, stop_reason, status))
                    continue
                self.redactor.add(scenario.secret_values)
                outcome = await ScenarioRun(self, scenario).execute()
                self.result.scenarios.append(outcome)
                if self.options.fail_fast and outcome.status in (Outcome.FAILED, Outcome.ERROR):
                    stop_reason = "not run: --fail-fast after a failure"
        finally:
            await self.close()
            self.result.end = _now()
            if self.interrupts.interrupted:
                self.result.interrupted_by = self.interrupts.signal_name()
        return self.result


