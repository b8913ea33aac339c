"""Helpers shared by the built-in steps: durations, items, waiting on the recorder."""

# Timeouts here are budgets handed to gRPC calls and recorder waits, not asyncio timeouts.
# ruff: noqa: ASYNC109

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from mxgw_runner.durations import DurationError, parse_duration
from mxgw_runner.engine.context import RunContext
from mxgw_runner.engine.recorder import EventStreamLost, Recorder
from mxgw_runner.engine.state import StepUsageError
from mxgw_runner.matching import ObservedEvent


def duration(params: Mapping[str, Any], key: str, default: float) -> float:
    """``params[key]`` as seconds, or ``default`` when absent."""
    if key not in params or params[key] is None:
        return default
    try:
        return parse_duration(params[key])
    except DurationError as exc:
        raise StepUsageError(f"{key}: {exc}") from None


def item_names(params: Mapping[str, Any]) -> list[str]:
    """The ``items:`` of advise/unadvise as a list of names."""
    items = params.get("items")
    if isinstance(items, str):
        return [items]
    if isinstance(items, list):
        return [str(i) for i in items]
    raise StepUsageError("items: needs an item or a list of items")


def latest(
    recorder: Recorder, alias: str, kind: str, start: int = 0
) -> tuple[int, ObservedEvent] | None:
    """The newest event of ``alias`` and ``kind`` at or after index ``start``."""
    events = recorder.events
    for i in range(len(events) - 1, start - 1, -1):
        event = events[i]
        if event.item == alias and event.kind == kind:
            return i, event
    return None


async def wait_for_event(
    recorder: Recorder, alias: str, kind: str, start: int, timeout: float
) -> tuple[int, ObservedEvent] | None:
    """The first event of ``alias``/``kind`` at or after index ``start`` and its index,
    waiting up to ``timeout`` s (None when none came)."""
    deadline = time.monotonic() + timeout
    position = start
    while True:
        events = recorder.events
        for i in range(position, len(events)):
            event = events[i]
            if event.item == alias and event.kind == kind:
                return i, event
        position = len(events)
        if recorder.lost is not None:
            raise EventStreamLost(recorder.lost)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        await recorder.wait_for_events(position, remaining)


def session_of(ctx: RunContext) -> Any:
    """The open ``mxgateway.Session`` (a usage error before ``open-session``)."""
    return ctx.require_state().session
