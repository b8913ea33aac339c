"""Timelines: the last few events of an item, shown when an expectation fails."""

from __future__ import annotations

from collections.abc import Sequence

from mxgw_runner.matching.events import ObservedEvent


def timeline(
    events: Sequence[ObservedEvent], item: str, *, limit: int = 10, end: int | None = None
) -> list[ObservedEvent]:
    """The last ``limit`` events of ``item`` before ``end`` (oldest first), scanning backwards."""
    out: list[ObservedEvent] = []
    i = (len(events) if end is None else min(end, len(events))) - 1
    while i >= 0 and len(out) < limit:
        if events[i].item == item:
            out.append(events[i])
        i -= 1
    out.reverse()
    return out
