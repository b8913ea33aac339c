"""One scenario being run: its steps under timeouts and hooks, then its cleanup stack.

Steps run inside a task that the first SIGINT/SIGTERM cancels; the cleanup stack
then runs in a task of its own, which a second Ctrl-C cancels. Every outcome ends
up in the :class:`~mxgw_runner.results.ScenarioResult`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mxgw_runner import variables as V
from mxgw_runner.durations import DurationError, parse_duration
from mxgw_runner.engine import cleanup as C
from mxgw_runner.engine.cleanup import CleanupOutcome, CleanupStack
from mxgw_runner.engine.context import NestedStop, RunContext
from mxgw_runner.engine.nested import NestedRunner, step_result
from mxgw_runner.engine.outcomes import ExpectationFailed, describe_error, judge
from mxgw_runner.engine.state import SessionState, StepUsageError
from mxgw_runner.loader import ROW_TEMPLATE_STEPS, resolve_step_params
from mxgw_runner.model import Scenario, Step
from mxgw_runner.results import CleanupResult, Outcome, ScenarioResult, StepResult
from mxgw_runner.steptypes import StepOutcome

if TYPE_CHECKING:
    from mxgw_runner.engine.runner import Engine

#: Keys whose duration extends a step's time budget (the wait itself plus the step timeout).
_WAIT_KEYS = ("within", "for")
#: Seconds a step may overrun its timeout so that its own failure message wins the race.
BUDGET_GRACE = 0.5
#: Steps with no overall time limit unless they set ``timeout:`` (their nested steps keep
#: their own; a ``confirm`` waits for the operator).
UNBOUNDED_STEPS = frozenset({"for-each", "include", "confirm"})
#: Steps over rows, which set their own title ("200 rows of tags.csv").
ROWS_TITLED_STEPS = frozenset({"for-each", "check-items"})

_CLEANUP_STATUS = {
    C.PASSED: Outcome.PASSED,
    C.FAILED: Outcome.FAILED,
    C.TIMED_OUT: Outcome.FAILED,
    C.ABANDONED: Outcome.INTERRUPTED,
    C.SKIPPED: Outcome.SKIPPED,
}


def _now() -> datetime:
    return datetime.now(UTC)


async def call_hook(results: Sequence[Any]) -> None:
    """Await whatever awaitables hook implementations returned."""
    for value in results:
        if inspect.isawaitable(value):
            await value


def skipped_scenario(
    scenario: Scenario, reason: str, status: Outcome = Outcome.SKIPPED
) -> ScenarioResult:
    """The result of a scenario that was not run (every step skipped)."""
    result = ScenarioResult(
        file=str(scenario.path),
        name=scenario.name,
        status=status,
        tags=scenario.tags,
        metadata=dict(scenario.metadata),
        message=reason,
    )
    for step in scenario.steps:
        result.steps.append(step_result(step, Outcome.SKIPPED, reason))
    return result


class ScenarioRun:
    """One scenario being run: variables, cleanup stack, session and results."""

    def __init__(self, engine: Engine, scenario: Scenario) -> None:
        self.engine = engine
        self.scenario = scenario
        self.variables: dict[str, Any] = dict(scenario.vars)
        self.cleanup = CleanupStack()
        self.state: SessionState | None = None
        self.notes: list[str] = []
        self.result = ScenarioResult(
            file=str(scenario.path),
            name=scenario.name,
            tags=scenario.tags,
            metadata=dict(scenario.metadata),
        )
        self._current: StepResult | None = None
        self._scenario_timed_out = False
        #: Runs ``for-each`` passes and ``include`` bodies (see :mod:`.nested`).
        self.nested = NestedRunner(self)

    # ------------------------------------------------------------------ the whole scenario

    async def execute(self) -> ScenarioResult:
        """Run the steps, then the cleanup stack, and return the final result."""
        engine = self.engine
        interrupts = engine.interrupts
        result = self.result
        result.start = _now()
        started = time.monotonic()
        try:
            await call_hook(engine.pm.hook.mxgw_scenario_start(scenario=self.scenario))
        except Exception as exc:
            result.status = Outcome.ERROR
            result.message = f"a plugin failed at scenario start: {describe_error(exc)}"
        else:
            steps_task = asyncio.get_running_loop().create_task(self._run_steps())
            interrupts.steps_task = steps_task
            if interrupts.interrupted:
                steps_task.cancel()  # the signal came while the scenario was starting
            try:
                await asyncio.shield(steps_task)
            except asyncio.CancelledError:
                if not steps_task.done():
                    # The engine itself is being cancelled: stop the steps, still clean up.
                    steps_task.cancel()
                    await asyncio.gather(steps_task, return_exceptions=True)
            finally:
                interrupts.steps_task = None
            self._account_for_unrun_steps(steps_task)
        await self._run_cleanup()
        result.duration = time.monotonic() - started
        result.status = self._final_status()
        try:
            finished = engine.pm.hook.mxgw_scenario_finish(scenario=self.scenario, result=result)
            await call_hook(finished)
        except Exception as exc:
            result.message = _join(result.message, f"a plugin failed at scenario finish: {exc}")
        return result

    def _account_for_unrun_steps(self, steps_task: asyncio.Task[None]) -> None:
        """A steps task cancelled before it began records nothing: say what did not run."""
        recorded = len(self.result.steps)
        if recorded >= len(self.scenario.steps):
            return
        reason = f"interrupted by {self.engine.interrupts.signal_name() or 'cancellation'}"
        if steps_task.cancelled():
            self.result.message = _join(self.result.message, reason)
        first = True
        for step in self.scenario.steps[recorded:]:
            status = Outcome.INTERRUPTED if first else Outcome.SKIPPED
            self.result.steps.append(step_result(step, status, reason))
            first = False

    def _final_status(self) -> Outcome:
        result = self.result
        if self.engine.interrupts.interrupted and any(
            s.status == Outcome.INTERRUPTED for s in result.steps
        ):
            return Outcome.INTERRUPTED
        statuses = {s.status for s in result.steps}
        if result.status == Outcome.ERROR or Outcome.ERROR in statuses:
            return Outcome.ERROR
        if Outcome.FAILED in statuses:
            return Outcome.FAILED
        if Outcome.INTERRUPTED in statuses:
            return Outcome.INTERRUPTED
        return Outcome.PASSED

    # ------------------------------------------------------------------ steps

    async def _run_steps(self) -> None:
        scenario = self.scenario
        steps = list(scenario.steps)
        done = 0
        try:
            async with asyncio.timeout(scenario.timeouts.scenario):
                for step in steps:
                    ok = await self._run_step(step)
                    done += 1
                    if not ok:
                        break
        except TimeoutError:
            self._scenario_timed_out = True
            current = self._current
            limit = scenario.timeouts.scenario or 0.0
            message = f"the scenario timed out after {limit:g} s (timeouts.scenario)"
            if current is not None:
                current.status = Outcome.FAILED
                current.message = _join(current.message, message)
                await self._finish_step(steps[done], current)
                done += 1
            self.result.message = message
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            current = self._current
            interrupts = self.engine.interrupts
            reason = f"interrupted by {interrupts.signal_name() or 'cancellation'}"
            if current is not None:
                current.status = Outcome.INTERRUPTED
                current.message = _join(current.message, reason)
                await self._finish_step(steps[done], current)
                done += 1
            self.result.message = reason
        for step in steps[done:]:
            skipped = step_result(step, Outcome.SKIPPED, "not run: an earlier step did not pass")
            self.result.steps.append(skipped)

    async def _run_step(self, step: Step) -> bool:
        """Run one step and record its result; False if the scenario must stop."""
        result = step_result(step, Outcome.PASSED)
        result.start = _now()
        self._current = result
        await self._execute(step, result, announce=True)
        await self._finish_step(step, result)
        return result.status == Outcome.PASSED

    async def _execute(self, step: Step, result: StepResult, *, announce: bool = False) -> None:
        """Run a step (top-level or nested) and fill in its result; CancelledError passes."""
        engine = self.engine
        outer_notes, self.notes = self.notes, []
        started = time.monotonic()
        try:
            if announce:
                await call_hook(
                    engine.pm.hook.mxgw_step_start(
                        scenario=self.scenario, step=step, index=step.index
                    )
                )
            outcome = await self._invoke(step, result)
        except asyncio.CancelledError:
            result.duration = time.monotonic() - started
            self.notes = outer_notes
            raise
        except ExpectationFailed as exc:
            result.status = Outcome.FAILED
            result.message = exc.message
            result.expected = exc.expected
            result.timeline = exc.timeline
            result.closest = exc.closest
            result.closest_explanation = exc.closest_explanation
        except TimeoutError:
            result.status = Outcome.FAILED
            result.message = f"timed out after {time.monotonic() - started:.3g} s"
        except NestedStop as exc:
            result.status = exc.outcome
            result.message = exc.message
        except Exception as exc:
            judgement = judge(exc)
            result.status = judgement.outcome
            result.message = judgement.message
            if judgement.invalid:
                engine.invalid = True
            expected = getattr(exc, "expected", None)
            if isinstance(expected, str):
                result.expected = expected
        else:
            if outcome is not None:
                result.observed_value = outcome.observed_value
                result.observed_quality = outcome.observed_quality
                result.observed_timestamp = outcome.observed_timestamp
                result.expected = outcome.expected
                result.message = outcome.message
        if self.notes:
            result.message = _join(result.message, "; ".join(self.notes))
        self.notes = outer_notes
        result.duration = time.monotonic() - started

    async def _finish_step(self, step: Step, result: StepResult) -> None:
        self._current = None
        self.result.steps.append(result)
        await self.notify(step, result)

    async def notify(self, step: Step, result: StepResult) -> None:
        """Tell the plugins (the console) that a result is final."""
        try:
            await call_hook(
                self.engine.pm.hook.mxgw_step_finish(
                    scenario=self.scenario, step=step, result=result
                )
            )
        except Exception as exc:
            result.message = _join(result.message, f"a plugin failed at step finish: {exc}")

    async def _invoke(self, step: Step, result: StepResult) -> StepOutcome | None:
        engine = self.engine
        secrets: set[str] = set()
        if step.kind in ROW_TEMPLATE_STEPS:
            # Resolves its own params, row by row (its templates name the row variable).
            params: Mapping[str, Any] = step.params
        elif _has_templates(step.params):
            params = resolve_step_params(
                step,
                self.variables,
                env=engine.options.env,
                registry=engine.registry,
                secrets=secrets,
            )
            engine.redactor.add(secrets)
        else:
            # Nothing to substitute: the loader already validated exactly these params.
            params = step.params
        result.name = self._title(step, params)
        step_type = engine.registry.get(step.kind)
        if step_type is None or step_type.run is None:
            raise StepUsageError(f"step {step.kind!r} is not supported by this version of mxgw-run")
        budget: float | None = self._budget(step, params)
        if step.kind in UNBOUNDED_STEPS and step.timeout is None:
            # Nested steps keep their own timeouts; an operator may think as long as needed.
            budget = None
        ctx = RunContext(
            self, step, params, self._step_timeout(step), result.start or _now(), result=result
        )
        async with asyncio.timeout(budget):
            return await step_type.run(ctx)

    def _title(self, step: Step, params: Mapping[str, Any]) -> str:
        """The step's title with variables resolved (the name as written if one is unknown)."""
        name = step.name
        if step.kind in ROWS_TITLED_STEPS and (name is None or "$" in name):
            return ""  # the step titles itself by its row count (its rows may be thousands)
        if name is not None and "$" in name:
            with contextlib.suppress(V.VariableError):
                name = str(V.resolve(name, self.variables, self.engine.options.env))
        if params is step.params and name == step.name:
            return step.title  # nothing resolved: no copy of the step needed
        return dataclasses.replace(step, params=params, name=name).title

    def _step_timeout(self, step: Step) -> float:
        return step.timeout if step.timeout is not None else self.scenario.timeouts.step

    def _budget(self, step: Step, params: Mapping[str, Any] | None) -> float:
        """The step's time limit: its timeout, plus the wait it asks for, plus a grace.

        The grace lets a wait that defaults to the step timeout (``expect-event``
        without ``within:``) end with its own explanation rather than a bare
        "timed out".
        """
        timeout = self._step_timeout(step)
        source = params if params is not None else step.params
        for key in _WAIT_KEYS:
            if key in source:
                with contextlib.suppress(DurationError):
                    return timeout + parse_duration(source[key]) + BUDGET_GRACE
        return timeout + BUDGET_GRACE

    # ------------------------------------------------------------------ cleanup

    async def _run_cleanup(self) -> None:
        interrupts = self.engine.interrupts
        outcomes: list[CleanupOutcome] = []
        if interrupts.abandon_cleanup:
            task_outcomes = self._abandon_all()
            outcomes.extend(task_outcomes)
        else:
            task = asyncio.get_running_loop().create_task(
                self.cleanup.unwind(
                    self.scenario.timeouts.cleanup,
                    describe_error=describe_error,
                    on_outcome=outcomes.append,
                )
            )
            interrupts.cleanup_task = task
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                if not task.done():
                    task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                # Cancelled before it even started: every entry is still on the stack.
                outcomes.extend(self._abandon_all())
            finally:
                interrupts.cleanup_task = None
            if task.done() and not task.cancelled() and task.exception() is not None:
                exc = task.exception()
                assert exc is not None
                self.result.message = _join(self.result.message, f"cleanup crashed: {exc}")
        if self.state is not None:
            # Whatever happened, stop reading the session's events.
            await self.state.recorder.stop()
            resumed = self.state.recorder.reconnects
            if resumed:
                self.result.message = _join(
                    self.result.message,
                    f"the event stream dropped and was resumed {resumed} time(s)",
                )
        self.record_cleanup(outcomes)
        left = [f"{o.action} {o.target}" for o in outcomes if o.outcome == C.ABANDONED]
        if left:
            self.result.message = _join(
                self.result.message,
                "cleanup abandoned by a second Ctrl-C; left open: " + ", ".join(left),
            )

    def record_cleanup(self, outcomes: Sequence[CleanupOutcome]) -> None:
        """Add undo outcomes to the scenario's cleanup results."""
        for outcome in outcomes:
            self.result.cleanup.append(
                CleanupResult(
                    action=outcome.action,
                    target=outcome.target,
                    status=_CLEANUP_STATUS.get(outcome.outcome, Outcome.ERROR),
                    message=outcome.message,
                    duration=outcome.duration,
                )
            )

    def _abandon_all(self) -> list[CleanupOutcome]:
        out = [
            CleanupOutcome(e.action, e.target, C.ABANDONED, 0.0, "cleanup abandoned", e.step_index)
            for e in reversed(self.cleanup.entries)
        ]
        self.cleanup.entries.clear()
        return out


def _has_templates(value: Any) -> bool:
    """True if any string inside ``value`` may hold a ``${...}`` (or an escaped ``$${``)."""
    if isinstance(value, str):
        return "$" in value
    if isinstance(value, Mapping):
        return any(_has_templates(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_templates(v) for v in value)
    return False


def _join(first: str | None, second: str) -> str:
    return second if not first else f"{first}; {second}"
