"""``read``: an item's current value (its latest data change), checked and saved."""

# Timeouts here are budgets handed to gRPC calls and recorder waits, not asyncio timeouts.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from mxgw_runner.engine.context import RunContext, engine_context
from mxgw_runner.engine.outcomes import ExpectationFailed
from mxgw_runner.engine.state import ItemState, StepUsageError
from mxgw_runner.errors import StepFailed
from mxgw_runner.matching import (
    EventExpectation,
    MatchContext,
    MatcherError,
    ObservedEvent,
    timeline,
)
from mxgw_runner.steps._common import latest, wait_for_event
from mxgw_runner.steptypes import StepContext, StepOutcome

_CHECK_KEYS = ("value", "quality", "status", "timestamp")
TEMPORARY_ADVISE = "unadvise (read)"


async def current_event(
    rc: RunContext, item: ItemState, timeout: float
) -> tuple[int, ObservedEvent]:
    """The item's latest data change; advises for the moment when it is not advised.

    Returns the event and its index in the log; StepFailed when none arrives in time.
    """
    state = rc.require_state()
    recorder = state.recorder
    if item.advised:
        found = latest(recorder, item.alias, "data-change", item.advised_at)
        if found is None:
            found = await wait_for_event(
                recorder, item.alias, "data-change", item.advised_at, timeout
            )
    else:
        server = state.require_server()
        session = state.session
        start = len(recorder.events)
        cleanup_timeout = rc.cleanup_timeout

        async def unadvise() -> None:
            await session.unadvise(server, item.handle, timeout=cleanup_timeout)

        await session.advise(server, item.handle, timeout=timeout)
        # Registered so that an interrupt while waiting still unadvises.
        rc.push_cleanup(TEMPORARY_ADVISE, item.alias, unadvise)
        try:
            found = await wait_for_event(recorder, item.alias, "data-change", start, timeout)
        finally:
            if rc.drop_cleanup(TEMPORARY_ADVISE, item.alias):
                await asyncio.shield(unadvise())
    if found is None:
        raise StepFailed(f"no data change of {item.alias} arrived within {timeout:g} s")
    return found


async def run_read(ctx: StepContext) -> StepOutcome:
    """Read the item's current value, check any given matchers, ``save:`` it."""
    rc = engine_context(ctx)
    state = rc.require_state()
    item = state.item(str(ctx.params["item"]))
    index, event = await current_event(rc, item, ctx.timeout)
    checks = {k: ctx.params[k] for k in _CHECK_KEYS if k in ctx.params}
    expected: str | None = None
    if checks:
        try:
            exp = EventExpectation.from_params({"item": item.alias, "data-change": checks})
        except MatcherError as exc:
            raise StepUsageError(str(exc)) from None
        match_ctx = MatchContext(now=datetime.now(UTC), step_start=ctx.step_start)
        if not exp.matches(event, match_ctx):
            raise ExpectationFailed(
                f"{item.alias} is {event.describe()}: {exp.explain(event, match_ctx)}",
                expected=exp.describe(),
                timeline=timeline(state.recorder.events, item.alias, end=index + 1),
                closest=event,
                closest_explanation=exp.explain(event, match_ctx),
            )
        expected = exp.describe()  # the record shows what a passing check checked
    save = ctx.params.get("save")
    if save:
        ctx.set_var(str(save), event.value)
    return StepOutcome(
        observed_value=event.value,
        observed_quality=event.quality,
        observed_timestamp=event.source_timestamp,
        expected=expected,
    )
