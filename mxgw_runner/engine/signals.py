"""SIGINT, SIGTERM and SIGHUP for a run: the first stops the scenario, a second Ctrl-C
abandons cleanup.

SIGHUP (the terminal or SSH session that started the run went away) is treated like
SIGTERM: a run that was writing to a plant must still restore and release what it holds.

Handlers are installed with ``loop.add_signal_handler`` so they run on the loop,
between callbacks, never in the middle of a step's bookkeeping. The first signal
cancels the task running the steps (cleanup then runs); a second SIGINT while
cleanup runs cancels the cleanup task, and the report says what was left open.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from dataclasses import dataclass

#: Exit codes for a run stopped by a signal (128 + the signal number, as shells do).
EXIT_SIGINT = 130
EXIT_SIGTERM = 143
EXIT_SIGHUP = 129

#: The signals a run handles (SIGHUP only where the platform has it).
HANDLED = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


@dataclass(slots=True)
class Interrupts:
    """What signals arrived, and which task each should cancel now."""

    received: signal.Signals | None = None
    count: int = 0
    abandon_cleanup: bool = False
    #: The task the next signal cancels: the steps first, then the cleanup.
    steps_task: asyncio.Task[object] | None = None
    cleanup_task: asyncio.Task[object] | None = None

    @property
    def interrupted(self) -> bool:
        """True once any handled signal arrived."""
        return self.received is not None

    @property
    def exit_code(self) -> int | None:
        """128 + the signal's number (130 SIGINT, 143 SIGTERM, 129 SIGHUP); None if none."""
        if self.received is None:
            return None
        return 128 + int(self.received)

    def signal_name(self) -> str:
        """``SIGINT``, ``SIGTERM`` or ``SIGHUP`` (empty when none arrived)."""
        return self.received.name if self.received is not None else ""

    def handle(self, signum: signal.Signals) -> None:
        """React to one signal (called on the loop)."""
        self.count += 1
        if self.received is None:
            self.received = signum
            if self.steps_task is not None and not self.steps_task.done():
                self.steps_task.cancel()
        elif signum == signal.SIGINT or self.count > 2:
            # A second Ctrl-C (or a third signal of any kind) gives up on cleanup.
            self.abandon_cleanup = True
            if self.cleanup_task is not None and not self.cleanup_task.done():
                self.cleanup_task.cancel()


@contextlib.contextmanager
def installed(interrupts: Interrupts) -> Iterator[Interrupts]:
    """Route the handled signals to ``interrupts`` while the block runs (on the running loop)."""
    loop = asyncio.get_running_loop()
    added: list[signal.Signals] = []
    for signum in HANDLED:
        try:
            loop.add_signal_handler(signum, interrupts.handle, signum)
        except (NotImplementedError, RuntimeError, ValueError):  # pragma: no cover - non-Unix
            continue
        added.append(signum)
    try:
        yield interrupts
    finally:
        for signum in added:
            loop.remove_signal_handler(signum)
