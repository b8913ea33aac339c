"""``RunContext``: what a step's ``run`` callable receives (satisfies ``steptypes.StepContext``).

Plugin steps use only the :class:`~mxgw_runner.steptypes.StepContext` protocol;
the built-in steps also reach the session state, the gateway connection and the
run's options through the extra members here (see :func:`engine_context`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mxgw_runner.engine.state import SessionState, StepUsageError
from mxgw_runner.model import Scenario, Step
from mxgw_runner.steptypes import StepContext

if TYPE_CHECKING:
    from mxgw_runner.engine.cleanup import CleanupOutcome, CleanupStack
    from mxgw_runner.engine.recorder import Recorder
    from mxgw_runner.engine.scenario import ScenarioRun
    from mxgw_runner.results import Outcome, StepResult


class NestedStop(Exception):
    """A nested step erred or was interrupted: the enclosing step stops with that outcome."""

    def __init__(self, outcome: Outcome, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message


class RunContext:
    """The engine's side of one step run."""

    def __init__(
        self,
        run: ScenarioRun,
        step: Step,
        params: Mapping[str, Any],
        timeout: float,
        step_start: datetime,
        *,
        result: StepResult | None = None,
    ) -> None:
        self._run = run
        self._step = step
        self._params = params
        self._timeout = timeout
        self._step_start = step_start
        self._result = result

    # ------------------------------------------------------------------ StepContext

    @property
    def scenario(self) -> Scenario:
        """The scenario being run."""
        return self._run.scenario

    @property
    def step(self) -> Step:
        """The step being run."""
        return self._step

    @property
    def params(self) -> Mapping[str, Any]:
        """The step's params, variables resolved."""
        return self._params

    @property
    def timeout(self) -> float:
        """Seconds this step may take."""
        return self._timeout

    @property
    def step_start(self) -> datetime:
        """Wall-clock UTC time the step started."""
        return self._step_start

    @property
    def session(self) -> Any:
        """The open ``mxgateway.Session``, or None before ``open-session``."""
        state = self._run.state
        return None if state is None else state.session

    @property
    def recorder(self) -> Recorder:
        """The session's event log; a usage error before ``open-session``."""
        return self.require_state().recorder

    def item_handle(self, alias: str) -> int:
        """The item handle of an alias (or item reference)."""
        return self.require_state().item(alias).handle

    def get_var(self, name: str) -> Any:
        """A variable's current value (KeyError if unknown)."""
        return self._run.variables[name]

    def set_var(self, name: str, value: Any, *, secret: bool = False) -> None:
        """Bind a variable for later steps; secret values are masked in reports."""
        self._run.variables[name] = value
        if secret:
            self.add_secret(str(value))

    def push_cleanup(self, action: str, target: str, undo: Callable[[], Awaitable[None]]) -> None:
        """Register an undo, run in reverse order when the scenario ends."""
        self._run.cleanup.push(action, target, undo, step_index=self._step.index)

    def drop_cleanup(self, action: str, target: str) -> bool:
        """Remove a pending undo; True if one was found."""
        return self._run.cleanup.drop(action, target)

    async def run_steps(
        self, steps: Sequence[Step], variables: Mapping[str, Any], *, label: str
    ) -> bool:
        """Run nested steps with extra variables bound; True if all of them passed.

        A non-empty ``label`` makes the call a pass of its own (a check in every
        report, named by the label); an empty one adds the steps' results under
        this step (an include). A nested error or interruption raises (the step
        stops); a failed check only returns False.
        """
        if self._result is None:
            raise StepUsageError(f"{self._step.kind}: nested steps need the mxgw-run engine")
        return await self._run.nested.run_body(self._step, self._result, steps, variables, label)

    async def confirm(self, prompt: str) -> bool:
        """Ask the operator ``prompt [y/N]`` on the terminal; ``--assume-yes`` answers yes.

        With no terminal (and no ``--assume-yes``) the check fails at once: an
        unattended run must never hang on a question nobody sees.
        """
        from mxgw_runner.errors import StepFailed
        from mxgw_runner.steps.terminal import ask_yes_no, have_terminal

        if self._run.engine.options.assume_yes:
            self.note("answered yes by --assume-yes")
            return True
        if not have_terminal():
            raise StepFailed(
                "confirm needs an operator at a terminal; run with --assume-yes for unattended runs"
            )
        answer = await ask_yes_no(self._run.engine.redactor.text(prompt))
        if answer:
            self.note("operator answered yes")
        return answer

    # ------------------------------------------------------------------ nested steps

    @property
    def result(self) -> StepResult | None:
        """This step's result as it is being filled in (nested results go under it)."""
        return self._result

    def nested_failure(self) -> tuple[str | None, StepResult | None]:
        """Where the last nested body that did not pass stopped, and that step's result."""
        nested = self._run.nested
        return nested.last_failure, nested.last_failed

    @property
    def interrupted(self) -> bool:
        """True once Ctrl-C or SIGTERM asked the run to stop."""
        return self._run.engine.interrupts.interrupted

    def skip_passes(self, labels: Sequence[str], reason: str) -> None:
        """Record passes that will not run (after an error or an interrupt) as skipped."""
        from mxgw_runner.results import Outcome
        from mxgw_runner.results import StepResult as _StepResult

        parent = self._result
        if parent is None:
            return
        for label in labels:
            number = len(parent.children) + 1
            parent.children.append(
                _StepResult(
                    index=number,
                    kind=parent.kind,
                    name=label,
                    line=parent.line,
                    file=parent.file,
                    status=Outcome.SKIPPED,
                    number=f"{parent.label}.{number}",
                    message=reason,
                )
            )
        if labels:
            parent.group = True

    def record_check(self, check: StepResult) -> None:
        """Add a check of this step (a ``check-items`` item) as a child result."""
        if self._result is None:
            raise StepUsageError(f"{self._step.kind}: checks need the mxgw-run engine")
        self._result.children.append(check)
        self._result.group = True

    async def add_check(self, check: StepResult) -> None:
        """Add a check of this step and report it now (the console shows it)."""
        self.record_check(check)
        await self._run.notify(self._step, check)

    def variables(self) -> Mapping[str, Any]:
        """Every variable in force now (static, saved, rows)."""
        return self._run.variables

    def resolve(self, value: Any, extra: Mapping[str, Any], *, pointer: str = "") -> Any:
        """Substitute variables in ``value`` with ``extra`` (a row) over those in force."""
        from collections import ChainMap

        from mxgw_runner import variables as V

        secrets: set[str] = set()
        resolved = V.resolve(
            value,
            ChainMap(dict(extra), self._run.variables),
            self._run.engine.options.env,
            secrets=secrets,
            pointer=pointer,
        )
        if secrets:
            self._run.engine.redactor.add(secrets)
        return resolved

    # ------------------------------------------------------------------ built-in steps

    @property
    def state(self) -> SessionState | None:
        """The open session's state, or None."""
        return self._run.state

    def require_state(self) -> SessionState:
        """The open session's state; a usage error before ``open-session``."""
        state = self._run.state
        if state is None or state.closed:
            raise StepUsageError("no session is open: add an open-session step before this one")
        return state

    def set_state(self, state: SessionState | None) -> None:
        """Install (``open-session``) or clear (``close-session``) the session state."""
        self._run.state = state

    async def client(self) -> Any:
        """The run's ``GatewayClient`` (connected on first use)."""
        return await self._run.engine.client()

    @property
    def cleanup_stack(self) -> CleanupStack:
        """The scenario's cleanup stack (explicit undo steps unwind part of it)."""
        return self._run.cleanup

    @property
    def read_only(self) -> bool:
        """True with ``--read-only``: writes are refused."""
        return self._run.engine.options.read_only

    @property
    def cleanup_timeout(self) -> float:
        """Seconds each cleanup entry may take."""
        return self._run.scenario.timeouts.cleanup

    @property
    def environ(self) -> Mapping[str, str]:
        """The environment the run reads (``password-env``, ``${env:...}``)."""
        return self._run.engine.options.env

    def add_secret(self, text: str) -> None:
        """A text that must never appear in any report or output (a password)."""
        self._run.engine.redactor.add([text])

    def set_protocol_version(self, version: int) -> None:
        """The gateway protocol version the session reported, for the run's report."""
        self._run.engine.result.protocol_version = version

    def record_cleanup(self, outcomes: Sequence[CleanupOutcome]) -> None:
        """Report undo actions an explicit step ran early (close-session, unregister)."""
        self._run.record_cleanup(outcomes)

    def note(self, text: str) -> None:
        """A line of detail for the step's report message (no printing)."""
        self._run.notes.append(text)


def engine_context(ctx: StepContext) -> RunContext:
    """The engine's context behind a step's ``ctx`` (built-in steps need its extra members)."""
    if not isinstance(ctx, RunContext):
        raise TypeError("built-in steps run only inside the mxgw-run engine")
    return ctx
