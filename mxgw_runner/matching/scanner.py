"""Scanning recorded events for an expectation, and picking the closest miss.

Matchers only compare while scanning; the explanation of a mismatch is built
for the one candidate that came closest, so a long stream costs a few
comparisons per event of the item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from mxgw_runner.matching.events import ObservedEvent
from mxgw_runner.matching.expectation import EventExpectation
from mxgw_runner.matching.timestamps import MatchContext


@dataclass(frozen=True, slots=True)
class Closest:
    """The candidate event that came closest to matching, and why it did not."""

    index: int
    event: ObservedEvent
    score: float
    explanation: str


ScanStatus = Literal["matched", "pending", "failed"]


@dataclass(frozen=True, slots=True)
class ScanResult:
    """Outcome of scanning recorded events for an expectation.

    ``matched``: the expectation holds (``matches`` lists the consumed events
    with their indexes) and ``cursor`` is just past the last one. ``pending``:
    not yet; more events may still satisfy it. ``failed``: it cannot hold any more
    (``mode: next`` saw a mismatch). ``closest`` is the best non-matching
    candidate, and ``message`` explains a pending/failed result.
    """

    status: ScanStatus
    matches: tuple[tuple[int, ObservedEvent], ...]
    cursor: int
    closest: Closest | None
    candidates: int
    message: str


class Scanner:
    """Incremental scan: feed it the growing event list; it resumes where it stopped.

    Re-scanning from the cursor on every new event would be quadratic over a
    long wait; the scanner keeps its position, matches so far and the best
    candidate, so each event is looked at once.
    """

    def __init__(
        self,
        expectation: EventExpectation,
        start: int,
        ctx: MatchContext | None = None,
    ) -> None:
        self.expectation = expectation
        self.ctx = ctx or MatchContext()
        self.position = max(0, start)
        self.start = self.position
        self._matches: list[tuple[int, ObservedEvent]] = []
        self._best: tuple[float, int, ObservedEvent] | None = None
        self._candidates = 0
        self._failed_at: int | None = None
        self._events: Sequence[ObservedEvent] = ()
        self._misses: list[int] = []
        self._scored = 0
        self._predicate = expectation.predicate()

    def feed(self, events: Sequence[ObservedEvent], *, now: datetime | None = None) -> ScanResult:
        """Look at events from the current position to the end of ``events``."""
        self._events = events
        if now is not None:
            self.ctx = MatchContext(now=now, step_start=self.ctx.step_start)
        exp = self.expectation
        ctx = self.ctx
        end = len(events)
        i = self.position
        if self._failed_at is not None or len(self._matches) >= exp.count:
            return self.result()
        still_needed = exp.count - len(self._matches)
        next_mode = exp.mode == "next"
        item = exp.item
        kind = exp.kind
        match = self._predicate
        matches = self._matches
        candidates = 0
        while i < end:
            event = events[i]
            i += 1
            # The slots behind ``item`` and ``kind``: no property call per event.
            if event._item == item and (kind is None or event._kind == kind):
                candidates += 1
                if match(event, ctx):
                    matches.append((i - 1, event))
                    still_needed -= 1
                    if not still_needed:
                        break
                else:
                    self._misses.append(i - 1)
                    if next_mode:
                        self._failed_at = i - 1
                        break
        self._candidates += candidates
        self.position = i
        return self.result()

    def result(self, *, final: bool = False) -> ScanResult:
        """The result so far; with ``final`` (time is up) a pending result becomes failed."""
        exp = self.expectation
        matched = len(self._matches) >= exp.count
        if not matched and (final or self._failed_at is not None):
            self._score_misses()
        closest = None
        if self._best is not None:
            score, index, event = self._best
            closest = Closest(index, event, score, exp.explain(event, self.ctx))
        matches = tuple(self._matches)
        if len(matches) >= exp.count:
            return ScanResult("matched", matches, matches[-1][0] + 1, closest, self._candidates, "")
        if self._failed_at is not None:
            failed = self._events[self._failed_at] if self._failed_at < len(self._events) else None
            why = exp.explain(failed, self.ctx) if failed is not None else ""
            message = f"the next {exp.kind or 'event'} of {exp.item} did not match: {why}"
            return ScanResult(
                "failed", matches, self._failed_at + 1, closest, self._candidates, message
            )
        message = self._pending_message()
        status: ScanStatus = "failed" if final else "pending"
        return ScanResult(status, matches, self.start, closest, self._candidates, message)

    def _score_misses(self) -> None:
        """Score the misses not scored yet (only a failure shows the closest one)."""
        exp, ctx, events = self.expectation, self.ctx, self._events
        for i in self._misses[self._scored :]:
            score = exp.score(events[i], ctx)
            if self._best is None or score >= self._best[0]:
                self._best = (score, i, events[i])
        self._scored = len(self._misses)

    def _pending_message(self) -> str:
        exp = self.expectation
        what = exp.kind or "event"
        got = len(self._matches)
        if self._candidates == 0:
            return f"no {what} of {exp.item} arrived"
        prefix = f"{got} of {exp.count} matching {what}s of {exp.item}; " if exp.count > 1 else ""
        if self._best is None:
            return f"{prefix}every {what} matched, but fewer than {exp.count} arrived"
        return (
            f"{prefix}no matching {what} of {exp.item} among {self._candidates}; "
            f"closest: {exp.explain(self._best[2], self.ctx)}"
        )


def scan_start(expectation: EventExpectation, cursor: int, last_write_index: int | None) -> int:
    """Where an expectation starts reading: the item's cursor, or after the last write.

    With ``since: last-write`` events before the last write to the item never count
    (and with no write yet, nothing before the cursor does either).
    """
    if expectation.since_last_write and last_write_index is not None:
        return max(cursor, last_write_index)
    return cursor


def scan(
    events: Sequence[ObservedEvent],
    start: int,
    expectation: EventExpectation,
    ctx: MatchContext | None = None,
    *,
    final: bool = False,
) -> ScanResult:
    """One-shot scan of ``events[start:]`` (see :class:`Scanner` for repeated scans)."""
    scanner = Scanner(expectation, start, ctx)
    scanner.feed(events)
    return scanner.result(final=final)
