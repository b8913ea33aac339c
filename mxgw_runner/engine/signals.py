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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

#: Exit codes for a run stopped by a signal (128 + the signal number, as shells do).
EXIT_SIGINT = 130
EXIT_SIGTERM = 143
EXIT_SIGHUP = 129

#: The signals a run handles (SIGHUP only where the platform has it).
HANDLED = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def _owner() -> asyncio.Task[object] | None:
    """The task running the caller: each scenario runs in its own, with ``--jobs``."""
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running loop (set from plain code, e.g. a test's setup)
        return None


@dataclass(slots=True)
class Interrupts:
    """What signals arrived, and which tasks each should cancel now.

    With ``--jobs N`` several scenarios run at once, each in a task of its own; each
    registers its steps task and then its cleanup task through :attr:`steps_task` and
    :attr:`cleanup_task`, which are kept per calling task. The first signal cancels the
    steps of every running scenario; a second Ctrl-C cancels every cleanup.
    """

    received: signal.Signals | None = None
    count: int = 0
    abandon_cleanup: bool = False
    #: Told, in words, what a signal does now (the command line prints it on stderr).
    announce: Callable[[str], None] | None = None
    _steps: dict[object, asyncio.Task[object]] = field(default_factory=dict)
    _cleanups: dict[object, asyncio.Task[object]] = field(default_factory=dict)

    @property
    def steps_task(self) -> asyncio.Task[object] | None:
        """The calling task's steps task, which the first signal cancels."""
        return self._steps.get(_owner())

    @steps_task.setter
    def steps_task(self, task: asyncio.Task[object] | None) -> None:
        _register(self._steps, task)

    @property
    def cleanup_task(self) -> asyncio.Task[object] | None:
        """The calling task's cleanup task, which a second Ctrl-C cancels."""
        return self._cleanups.get(_owner())

    @cleanup_task.setter
    def cleanup_task(self, task: asyncio.Task[object] | None) -> None:
        _register(self._cleanups, task)

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
            stopped = [t for t in self._steps.values() if not t.done()]
            for task in stopped:
                task.cancel()
            self._say(
                f"{signum.name}: stopping; cleanup runs "
                f"({len(stopped)} running scenario(s); a second Ctrl-C abandons cleanup)"
            )
        elif signum == signal.SIGINT or self.count > 2:
            # A second Ctrl-C (or a third signal of any kind) gives up on cleanup.
            first = not self.abandon_cleanup
            self.abandon_cleanup = True
            for task in list(self._cleanups.values()):
                if not task.done():
                    task.cancel()
            if first:
                self._say(f"{signum.name}: cleanup abandoned; the report says what is left open")

    def _say(self, text: str) -> None:
        if self.announce is not None:
            self.announce(text)


def _register(
    tasks: dict[object, asyncio.Task[object]], task: asyncio.Task[object] | None
) -> None:
    owner = _owner()
    if task is None:
        tasks.pop(owner, None)
    else:
        tasks[owner] = task


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
