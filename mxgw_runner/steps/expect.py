"""``expect-event`` and ``expect-no-event``: waiting on the recorder, never polling.

``expect-event`` scans forward from the item's cursor (or from its last write
with ``since: last-write``) and sleeps on the recorder between arrivals; a match
moves the cursor past what it consumed. ``expect-no-event`` watches the events
that arrive during its ``for:`` window and consumes nothing. A replay gap inside
the window fails either with "events lost".
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from mxgw_runner.engine.context import RunContext, engine_context
from mxgw_runner.engine.outcomes import ExpectationFailed
from mxgw_runner.engine.recorder import EventStreamLost, Recorder
from mxgw_runner.engine.state import StepUsageError
from mxgw_runner.matching import (
    EventExpectation,
    MatchContext,
    MatcherError,
    Scanner,
    ScanResult,
    timeline,
)
from mxgw_runner.steps._common import duration
from mxgw_runner.steptypes import StepContext, StepOutcome

#: Events of the item shown when an expectation fails.
TIMELINE_LENGTH = 10


def expectation(rc: RunContext, params: Mapping[str, Any]) -> EventExpectation:
    """Compile the step's expectation, naming the item by its alias (as events are)."""
    state = rc.require_state()
    alias = state.item(str(params["item"])).alias
    try:
        compiled = EventExpectation.from_params(params)
    except MatcherError as exc:
        raise StepUsageError(str(exc)) from None
    return dataclasses.replace(compiled, item=alias)


def _failure(
    recorder: Recorder, exp: EventExpectation, result: ScanResult | None, message: str, end: int
) -> ExpectationFailed:
    closest = result.closest if result is not None else None
    return ExpectationFailed(
        message,
        expected=exp.describe(),
        timeline=timeline(recorder.events, exp.item, limit=TIMELINE_LENGTH, end=end),
        closest=closest.event if closest is not None else None,
        closest_explanation=closest.explanation if closest is not None else None,
    )


def _observed(result: ScanResult, expected: str | None = None) -> StepOutcome:
    _, event = result.matches[-1]
    return StepOutcome(
        observed_value=event.value,
        observed_quality=event.quality,
        observed_timestamp=event.source_timestamp,
        expected=expected,
    )


async def run_expect_event(ctx: StepContext) -> StepOutcome:
    """Wait up to ``within`` for the expected event(s) of the item."""
    rc = engine_context(ctx)
    recorder = rc.require_state().recorder
    exp = expectation(rc, ctx.params)
    within = duration(ctx.params, "within", ctx.timeout)
    if exp.since_last_write:
        start = recorder.last_write_index(exp.item)
        if start is None:
            raise StepUsageError(f"since: last-write, but nothing was written to {exp.item} yet")
    else:
        start = recorder.cursor(exp.item)
    scanner = Scanner(exp, start, MatchContext(step_start=ctx.step_start))
    deadline = time.monotonic() + within
    while True:
        events = recorder.events
        end = len(events)
        result = scanner.feed(events, now=datetime.now(UTC))
        # Lost events inside the window could have changed the verdict either way.
        window_end = result.cursor - 1 if result.status == "matched" else end
        gap = recorder.gap_between(start, window_end)
        if gap is not None:
            raise _failure(recorder, exp, result, gap.describe(), end)
        if result.status == "matched":
            recorder.set_cursor(exp.item, result.cursor)
            save = ctx.params.get("save")
            if save:
                ctx.set_var(str(save), result.matches[-1][1].value)
            return _observed(result, exp.describe())
        if result.status == "failed":
            raise _failure(recorder, exp, result, result.message, end)
        if recorder.lost is not None:
            raise EventStreamLost(recorder.lost)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            final = scanner.result(final=True)
            raise _failure(recorder, exp, final, f"after {within:g} s: {final.message}", end)
        await recorder.wait_for_events(end, remaining)


async def run_expect_no_event(ctx: StepContext) -> StepOutcome:
    """Pass when no matching event of the item arrives during ``for:``."""
    rc = engine_context(ctx)
    recorder = rc.require_state().recorder
    exp = expectation(rc, ctx.params)
    exp = dataclasses.replace(exp, mode="eventually", count=1, since_last_write=False)
    window = duration(ctx.params, "for", 0.0)
    start = len(recorder.events)
    scanner = Scanner(exp, start, MatchContext(step_start=ctx.step_start))
    deadline = time.monotonic() + window
    while True:
        events = recorder.events
        end = len(events)
        result = scanner.feed(events, now=datetime.now(UTC))
        if result.status == "matched":
            index, event = result.matches[0]
            raise ExpectationFailed(
                f"an unwanted event arrived: {event.describe()}",
                expected=f"no {exp.describe()} for {window:g} s",
                timeline=timeline(events, exp.item, limit=TIMELINE_LENGTH, end=index + 1),
                closest=event,
                closest_explanation="matches what must not arrive",
            )
        gap = recorder.gap_between(start, end)
        if gap is not None:
            raise _failure(recorder, exp, None, gap.describe(), end)
        if recorder.lost is not None:
            raise EventStreamLost(recorder.lost)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return StepOutcome(expected=f"no {exp.describe()} for {window:g} s")
        await recorder.wait_for_events(end, remaining)
