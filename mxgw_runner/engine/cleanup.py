"""The cleanup stack: every acquisition pushes its undo, and all of them run at the end.

Entries run last-in first-out when a scenario ends, whatever ended it. Each entry
runs under its own timeout and its failure never stops the next one; the outcome
of each is kept for the report. The ``close-session`` entry is always attempted,
so a session is closed even when nothing else could be undone.
"""

# Timeouts here are budgets handed to gRPC calls and recorder waits, not asyncio timeouts.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

#: Outcomes of one cleanup entry.
PASSED = "passed"
FAILED = "failed"
TIMED_OUT = "timed-out"
ABANDONED = "abandoned"
SKIPPED = "skipped"

Undo = Callable[[], Awaitable[None]]


@dataclass(slots=True)
class CleanupEntry:
    """One pending undo: ``action`` (``unadvise``) on ``target`` (``sp``)."""

    action: str
    target: str
    undo: Undo
    #: Index (1-based) of the step that pushed it, for the report.
    step_index: int | None = None


@dataclass(frozen=True, slots=True)
class CleanupOutcome:
    """What happened to one entry when the stack ran."""

    action: str
    target: str
    outcome: str
    duration: float
    message: str | None = None
    step_index: int | None = None


@dataclass(slots=True)
class CleanupStack:
    """A LIFO stack of undo entries with explicit removal (``unadvise`` step etc.)."""

    entries: list[CleanupEntry] = field(default_factory=list)

    def push(self, action: str, target: str, undo: Undo, *, step_index: int | None = None) -> None:
        """Add an undo; it runs before everything pushed earlier."""
        self.entries.append(CleanupEntry(action, target, undo, step_index))

    def drop(self, action: str, target: str) -> bool:
        """Remove the most recent entry for ``action``/``target``; True if one was there."""
        for i in range(len(self.entries) - 1, -1, -1):
            entry = self.entries[i]
            if entry.action == action and entry.target == target:
                del self.entries[i]
                return True
        return False

    def has(self, action: str, target: str) -> bool:
        """True if an entry for ``action``/``target`` is pending."""
        return any(e.action == action and e.target == target for e in self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    async def unwind(
        self,
        timeout: float,
        *,
        describe_error: Callable[[BaseException], str] = str,
        on_outcome: Callable[[CleanupOutcome], None] | None = None,
    ) -> list[CleanupOutcome]:
        """Run every entry newest first and return their outcomes in that order.

        If the task running this is cancelled (a second Ctrl-C), the entry in
        progress and every entry not yet run are reported ``abandoned`` and the
        cancellation propagates after the outcomes were handed to ``on_outcome``.
        """
        outcomes: list[CleanupOutcome] = []

        def record(outcome: CleanupOutcome) -> None:
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)

        while self.entries:
            entry = self.entries.pop()
            start = time.monotonic()
            try:
                await asyncio.wait_for(entry.undo(), timeout)
            except TimeoutError:
                record(_outcome(entry, TIMED_OUT, start, f"no answer within {timeout:g} s"))
            except asyncio.CancelledError:
                record(_outcome(entry, ABANDONED, start, "cleanup abandoned"))
                for rest in reversed(self.entries):
                    record(
                        CleanupOutcome(
                            rest.action, rest.target, ABANDONED, 0.0, "cleanup abandoned",
                            rest.step_index,
                        )
                    )
                self.entries.clear()
                raise
            except Exception as exc:
                record(_outcome(entry, FAILED, start, describe_error(exc)))
            else:
                record(_outcome(entry, PASSED, start, None))
        return outcomes


def _outcome(
    entry: CleanupEntry, outcome: str, start: float, message: str | None
) -> CleanupOutcome:
    return CleanupOutcome(
        entry.action,
        entry.target,
        outcome,
        time.monotonic() - start,
        message,
        entry.step_index,
    )


async def unwind_above(
    stack: CleanupStack,
    action: str,
    target: str,
    timeout: float,
    *,
    describe_error: Callable[[BaseException], str] = str,
) -> list[CleanupOutcome]:
    """Run (newest first) the entries pushed after ``action``/``target``, then drop that entry.

    An explicit ``close-session`` or ``unregister`` first undoes what was acquired
    inside it (restores included), exactly as the end-of-scenario cleanup would.
    """
    position = None
    for i in range(len(stack.entries) - 1, -1, -1):
        entry = stack.entries[i]
        if entry.action == action and entry.target == target:
            position = i
            break
    if position is None:
        return []
    above = CleanupStack(stack.entries[position + 1 :])
    del stack.entries[position:]
    return await above.unwind(timeout, describe_error=describe_error)
