"""Nested steps: the passes of a ``for-each`` and the body of an ``include``.

A pass is a result of its own (numbered ``05.2``, its steps ``05.2.01``...) and is
the check the reports count; an ``include``'s steps are details of the one include
check (``06.01``...). Inside a pass or an include, a step that does not pass skips
the rest of that body, as at the top level. A failed pass lets the next pass run
(a checklist wants every row's verdict); an error (session lost, invalid step) or
an interruption stops the whole step.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mxgw_runner.engine.context import NestedStop
from mxgw_runner.model import Step
from mxgw_runner.results import Outcome, StepResult

if TYPE_CHECKING:
    from mxgw_runner.engine.scenario import ScenarioRun

_MISSING = object()
#: Worst first: the status a body takes from its steps.
_SEVERITY = (Outcome.ERROR, Outcome.INTERRUPTED, Outcome.FAILED)


def step_result(
    step: Step, status: Outcome, message: str | None = None, number: str = ""
) -> StepResult:
    """The (empty) result of a step: top-level, or nested and numbered ``number``."""
    return StepResult(
        index=step.index,
        kind=step.kind,
        name=step.title,
        line=step.line,
        file=step.location.file,
        status=status,
        message=message,
        number=number,
    )


def worst(results: Sequence[StepResult]) -> StepResult | None:
    """The first result of the worst non-passing status (None when all passed or skipped)."""
    for status in _SEVERITY:
        for r in results:
            if r.status == status:
                return r
    return None


def describe_failure(result: StepResult) -> str:
    """``05.2.02 expect-event at checks.yaml:14: <message>``: where a body stopped."""
    where = f" at {result.file}:{result.line}" if result.file and result.line else ""
    return f"{result.label} {result.kind}{where}: {result.message or result.status}"


class NestedRunner:
    """Runs nested step lists for one scenario run (``RunContext.run_steps``)."""

    def __init__(self, run: ScenarioRun) -> None:
        self.run = run
        #: Where the last body that did not pass stopped (for the step's message).
        self.last_failure: str | None = None
        self.last_failed: StepResult | None = None

    @contextmanager
    def bound(self, variables: Mapping[str, Any]) -> Iterator[None]:
        """Bind extra variables for a body; afterwards restore what they hid.

        A variable a nested ``save:`` changed keeps its new value (the loader lets
        later steps use it).
        """
        store = self.run.variables
        previous = {name: store.get(name, _MISSING) for name in variables}
        store.update(variables)
        try:
            yield
        finally:
            for name, value in variables.items():
                if store.get(name, _MISSING) is not value:
                    continue  # saved over inside the body: keep it
                old = previous[name]
                if old is _MISSING:
                    del store[name]
                else:
                    store[name] = old

    async def run_body(
        self,
        owner: Step,
        parent: StepResult,
        steps: Sequence[Step],
        variables: Mapping[str, Any],
        label: str,
    ) -> bool:
        """Run ``steps`` with ``variables`` bound; True if every one passed.

        With a ``label`` the body is a pass: a child result of ``parent`` named by the
        label, holding the steps' results, and ``parent`` becomes a group. Without one
        the steps' results are ``parent``'s children directly (an include).
        """
        if label:
            container = StepResult(
                index=len(parent.children) + 1,
                kind=parent.kind,
                name=label,
                line=parent.line,
                file=parent.file,
                number=f"{parent.label}.{len(parent.children) + 1}",
                start=datetime.now(UTC),
            )
            parent.children.append(container)
            parent.group = True
        else:
            container = parent
        started = time.monotonic()
        try:
            with self.bound(variables):
                await self._steps(container, steps)
        finally:
            if label:
                container.duration = time.monotonic() - started
                self._summarise(container)
                await self.run.notify(owner, container)
        failed = worst(container.children)
        self.last_failed = failed
        self.last_failure = None if failed is None else describe_failure(failed)
        if failed is not None and failed.status in (Outcome.ERROR, Outcome.INTERRUPTED):
            raise NestedStop(failed.status, self.last_failure or str(failed.status))
        return failed is None

    async def _steps(self, container: StepResult, steps: Sequence[Step]) -> None:
        run = self.run
        prefix = container.label
        done = 0
        try:
            for step in steps:
                result = step_result(step, Outcome.PASSED, number=f"{prefix}.{step.index:02d}")
                result.start = datetime.now(UTC)
                try:
                    await run._execute(step, result, announce=True)
                except asyncio.CancelledError:
                    interrupts = run.engine.interrupts
                    if interrupts.interrupted:
                        result.status = Outcome.INTERRUPTED
                        reason = f"interrupted by {interrupts.signal_name() or 'cancellation'}"
                    else:
                        result.status = Outcome.FAILED
                        reason = "stopped: the scenario ran out of time"
                    result.message = reason if not result.message else f"{result.message}; {reason}"
                    container.children.append(result)
                    done += 1
                    await run.notify(step, result)
                    raise
                container.children.append(result)
                done += 1
                await run.notify(step, result)
                if result.status != Outcome.PASSED:
                    break
        finally:
            for step in steps[done:]:
                skipped = step_result(step, Outcome.SKIPPED, number=f"{prefix}.{step.index:02d}")
                skipped.message = "not run: an earlier step did not pass"
                container.children.append(skipped)

    @staticmethod
    def _summarise(container: StepResult) -> None:
        """A pass's status, message and observations, from its steps."""
        failed = worst(container.children)
        shown = failed
        if failed is None:
            container.status = Outcome.PASSED
            observed = [
                r
                for r in container.children
                if r.observed_value is not None or r.observed_quality is not None
            ]
            shown = observed[-1] if observed else None
        else:
            container.status = failed.status
            container.message = describe_failure(failed)
        if shown is None:
            return
        container.expected = shown.expected
        container.observed_value = shown.observed_value
        container.observed_quality = shown.observed_quality
        container.observed_timestamp = shown.observed_timestamp
        closest = shown.closest
        if closest is not None and shown.observed_value is None and shown.observed_quality is None:
            # a failed expectation observed nothing that matched: show what came closest
            container.observed_value = closest.value
            container.observed_quality = closest.quality
            container.observed_timestamp = closest.source_timestamp
