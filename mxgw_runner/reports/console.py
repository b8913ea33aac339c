"""The console reporter: a line per step as it finishes, and a summary.

Verbosity: 0 (``--quiet``) shows failures and the summary only; 1 (default) a
line per step and the failure details; 2 (``--verbose``) also what passing
checks observed and each failure's event timeline. Falls back to plain ASCII
when the stream's encoding cannot show the symbols.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
from collections.abc import Callable
from typing import TextIO

from mxgw_runner.matching import format_value, quality_name
from mxgw_runner.redact import Redactor
from mxgw_runner.results import CleanupResult, Outcome, RunResult, ScenarioResult, StepResult

QUIET, NORMAL, VERBOSE = 0, 1, 2

#: Seconds between two redraws of the live progress line for counts alone.
REDRAW_EVERY = 0.1

_UNICODE_MARKS = {
    Outcome.PASSED: "✓",
    Outcome.FAILED: "✗",
    Outcome.ERROR: "!",
    Outcome.SKIPPED: "-",
    Outcome.INTERRUPTED: "✗",
}
_ASCII_MARKS = {
    Outcome.PASSED: "ok",
    Outcome.FAILED: "FAIL",
    Outcome.ERROR: "ERR",
    Outcome.SKIPPED: "skip",
    Outcome.INTERRUPTED: "INT",
}


_ASCII_FALLBACK = str.maketrans(
    {"≈": "~", "±": "+/-", "×": "x", "—": "-", "…": "...", "✓": "ok", "✗": "FAIL", "→": "->"}
)


def supports_unicode(stream: TextIO) -> bool:
    """True if the stream's encoding can show the check marks."""
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        "✓✗—…".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def format_ms(seconds: float) -> str:
    """``12 ms`` below a second, ``1.25 s`` up to a minute, then ``2 m 5 s``."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes:.0f} m {rest:.0f} s"


#: Control characters (but newline and tab) shown as ``\xNN``: a scenario name or a message
#: must not move the cursor, recolour or retitle the terminal it is printed on.
_CONTROLS = {
    code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0)) if chr(code) not in "\n\t"
}


def _silence(stream: TextIO) -> None:
    """Point a broken stream's descriptor at the null device, so later writes (and the
    interpreter's final flush) go nowhere instead of raising BrokenPipeError."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
    except OSError:
        pass
    finally:
        os.close(null)


class ConsoleReporter:
    """Writes progress and results to a text stream (stdout by default)."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        verbosity: int = NORMAL,
        unicode: bool | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.verbosity = verbosity
        self.unicode = supports_unicode(self.stream) if unicode is None else unicode
        self.redactor = redactor or Redactor()
        self.marks = _UNICODE_MARKS if self.unicode else _ASCII_MARKS
        self.dash = "—" if self.unicode else "-"
        self._header_pending: str | None = None
        self._gone = False
        #: The live progress line (on a terminal), cleared before and redrawn after output.
        self.live: LiveLine | None = None
        #: Lines held back for :meth:`emit_block` (a block reporter, see :meth:`block`).
        self._held: list[str] | None = None
        self._parent: ConsoleReporter | None = None
        self._drawn = 0.0
        self._suspended = 0
        self._queued: list[str] = []

    def block(self) -> ConsoleReporter:
        """A reporter for one scenario that holds its lines until :meth:`emit_block`, so
        scenarios running at once (``--jobs``) print whole blocks that never interleave."""
        child = ConsoleReporter(
            self.stream, verbosity=self.verbosity, unicode=self.unicode, redactor=self.redactor
        )
        child._held = []
        child._parent = self
        return child

    def emit_block(self) -> None:
        """Print the lines a block reporter held, in one piece."""
        if self._held is None or self._parent is None:
            return
        lines, self._held = self._held, []
        self._parent.emit(lines)

    def _write(self, text: str) -> None:
        text = self.redactor.text(text).translate(_CONTROLS)
        if not self.unicode:
            text = text.translate(_ASCII_FALLBACK)
        encoding = getattr(self.stream, "encoding", None) or "utf-8"
        try:
            text.encode(encoding)
        except (UnicodeEncodeError, LookupError):
            text = text.encode(encoding, "replace").decode(encoding, "replace")
        if self._held is not None:
            self._held.append(text)
            return
        self.emit([text])

    def suspend(self) -> None:
        """Give the terminal to a question (a ``confirm`` step): erase the live line, and
        hold other output and redraws until :meth:`resume`."""
        if self._suspended == 0 and self.live is not None and not self._gone:
            with contextlib.suppress(BrokenPipeError, ValueError):
                self.live.clear()
                self.stream.flush()
        self._suspended += 1

    def resume(self, *, every: bool = False) -> None:
        """The question was answered: print what was held, redraw the live line
        (``every``: end every suspension, at the end of the run)."""
        self._suspended = 0 if every else max(0, self._suspended - 1)
        if self._suspended == 0:
            lines, self._queued = self._queued, []
            self.emit(lines)

    def emit(self, lines: list[str]) -> None:
        """Write finished lines (already masked), around the live progress line if any."""
        if self._gone:
            return
        if self._suspended:
            self._queued.extend(lines)
            return
        try:
            if self.live is not None:
                self.live.clear()
            if lines:
                self.stream.write("".join(line + "\n" for line in lines))
            if self.live is not None:
                self.live.draw()
            self.stream.flush()
        except (BrokenPipeError, ValueError):
            # The reader went away (``mxgw-run ... | head``) or closed the stream: the run,
            # its cleanup and its reports go on; only the console is silent from here.
            self._gone = True
            _silence(self.stream)

    def refresh(self, *, force: bool = False) -> None:
        """Redraw the live progress line (elapsed time, counts), at most every
        :data:`REDRAW_EVERY` seconds unless ``force``: a fast run must not spend its time
        on the terminal."""
        if self.live is not None:
            now = time.monotonic()
            if force or now - self._drawn >= REDRAW_EVERY:
                self._drawn = now
                self.emit([])

    def _flush_header(self) -> None:
        if self._header_pending is not None:
            self._write(self._header_pending)
            self._header_pending = None

    def scenario_started(self, file: str, name: str) -> None:
        """Announce a scenario (in quiet mode only once something in it fails)."""
        header = f"{file} {self.dash} {name}" if name else file
        if self.verbosity >= NORMAL:
            self._write(header)
        else:
            self._header_pending = header

    def step_finished(self, step: StepResult, *, file: str) -> None:
        """One line for a finished step, with details when it did not pass."""
        failed = step.status in (Outcome.FAILED, Outcome.ERROR, Outcome.INTERRUPTED)
        if self.verbosity == QUIET and not failed:
            return
        self._flush_header()
        title = f" {step.name}" if step.name else ""
        mark = self.marks[step.status]
        timing = "skipped" if step.status == Outcome.SKIPPED else format_ms(step.duration)
        indent = "  " * (1 + step.label.count("."))
        self._write(f"{indent}{mark} {step.label} {step.kind}{title}  {timing}")
        pad = indent + "    "
        if failed:
            where = f"{step.file or file}:{step.line}" if step.line else (step.file or file)
            self._write(f"{pad}{where}: {step.message or step.status}")
            if step.expected:
                self._write(f"{pad}expected: {step.expected}")
            observed = _observed(step)
            if observed:
                self._write(f"{pad}observed: {observed}")
            if step.closest is not None:
                self._write(f"{pad}closest:  {step.closest.describe()}")
                if step.closest_explanation:
                    self._write(f"{pad}          {step.closest_explanation}")
            if self.verbosity >= VERBOSE and step.timeline:
                self._write(f"{pad}recent events of the item:")
                for event in step.timeline:
                    self._write(f"{pad}  {event.describe()}")
        elif self.verbosity >= VERBOSE:
            if step.expected:
                self._write(f"{pad}expected: {step.expected}")
            observed = _observed(step)
            if observed:
                self._write(f"{pad}observed: {observed}")

    def cleanup_finished(self, cleanup: CleanupResult) -> None:
        """One line per cleanup action (failures always, passes unless quiet)."""
        failed = cleanup.status not in (Outcome.PASSED, Outcome.SKIPPED)
        if self.verbosity == QUIET and not failed:
            return
        self._flush_header()
        mark = self.marks[Outcome.ERROR if cleanup.status == Outcome.FAILED else cleanup.status]
        line = f"  {mark} cleanup {cleanup.action} {cleanup.target}  {format_ms(cleanup.duration)}"
        self._write(line)
        if failed and cleanup.message:
            self._write(f"      {cleanup.message}")

    def scenario_finished(self, result: ScenarioResult) -> None:
        """The scenario's outcome in one line."""
        if self.verbosity == QUIET and result.status in (Outcome.PASSED, Outcome.SKIPPED):
            self._header_pending = None
            return
        self._flush_header()
        text = f"  {result.status.upper()}"
        if result.start is not None:  # one that never started took no time ("ERROR in 0 ms")
            text += f" in {format_ms(result.duration)}"
        if result.message and result.status != Outcome.PASSED:
            text += f": {result.message}"
        if result.cleanup_failed:
            text += " (cleanup incomplete)"
        self._write(text)

    def summary(self, run: RunResult, exit_code: int | None = None) -> None:
        """Counts of checks, then of scenarios per outcome and the exit code (the last line,
        which scripts read, stays about scenarios)."""
        checks = run.check_counts()
        total_checks = sum(checks.values())
        if total_checks:
            shown = [_count_of(checks[str(o)], o) for o in Outcome if checks[str(o)]]
            plural = "s" if total_checks != 1 else ""
            self._write(f"{total_checks} check{plural}: " + ", ".join(shown))
        counts = run.counts()
        parts = [
            _count_of(counts[str(o)], o) for o in Outcome if counts[str(o)] or o == Outcome.PASSED
        ]
        total = sum(counts.values())
        line = f"{total} scenario{'s' if total != 1 else ''}: " + ", ".join(parts)
        cleanup = sum(1 for s in run.scenarios if s.cleanup_failed)
        if cleanup:
            line += f"; cleanup failed in {cleanup}"
        if run.interrupted_by:
            line += f"; interrupted by {run.interrupted_by}"
        if exit_code is not None:
            line += f" (exit code {exit_code})"
        self._write(line)


def _count_of(count: int, outcome: Outcome) -> str:
    """``3 passed``, ``1 error``, ``2 errors`` (the one outcome that is a noun)."""
    plural = "s" if outcome == Outcome.ERROR and count != 1 else ""
    return f"{count} {outcome}{plural}"


class LiveLine:
    """The single progress line of a run on a terminal, rewritten in place with ``\\r``.

    It is drawn after other output and erased (``\\r`` and erase-to-end-of-line) before
    the next, so the scrolling lines above it are never mixed with it. Cut to the
    terminal's width: a line that wrapped could not be rewritten.
    """

    def __init__(
        self, stream: TextIO, progress: RunProgress, *, width: Callable[[], int] | None = None
    ) -> None:
        self.stream = stream
        self.progress = progress
        self._width = width or (lambda: shutil.get_terminal_size((80, 24)).columns)
        self.shown = False

    def draw(self) -> None:
        """Write the line (the cursor stays at its end)."""
        text = self.progress.describe().translate(_CONTROLS)
        width = max(10, self._width() - 1)
        if len(text) > width:
            text = text[: width - 1] + "…"
        encoding = getattr(self.stream, "encoding", None) or "utf-8"
        text = text.encode(encoding, "replace").decode(encoding, "replace")
        self.stream.write("\r" + text + "\x1b[K")
        self.shown = True

    def clear(self) -> None:
        """Erase the line, leaving the cursor at the start of it."""
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.shown = False


class RunProgress:
    """Counts for the progress line: scenarios and steps done of the total, scenarios that
    did not pass so far, elapsed time, and the scenarios running now.

    A step counts once it has a result, skipped ones included (the steps a scenario
    did not reach count when it finishes); only top-level steps count, so the total is
    known before the run (a ``for-each`` pass is part of its step). "failed" counts
    scenarios failed, in error or interrupted, as the summary line does.
    """

    def __init__(self, scenarios: int, steps: int, *, clock: Callable[[], float]) -> None:
        self.scenarios = scenarios
        self.steps = steps
        self.scenarios_done = 0
        self.steps_done = 0
        self.failed = 0
        self.running: dict[int, str] = {}
        self._clock = clock
        self._started = clock()

    def describe(self) -> str:
        """``3/8 scenarios, 41/96 steps, 1 failed, 12 s; running: smoke, pumps``."""
        elapsed = self._clock() - self._started
        text = (
            f"{self.scenarios_done}/{self.scenarios} scenarios, "
            f"{self.steps_done}/{self.steps} steps, {self.failed} failed, "
            f"{_elapsed(elapsed)}"
        )
        if self.running:
            text += "; running: " + ", ".join(self.running.values())
        return text


def _elapsed(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} m {rest:02d} s"


def _observed(step: StepResult) -> str:
    parts = []
    if step.observed_value is not None:
        parts.append(f"value {format_value(step.observed_value)}")
    if step.observed_quality is not None:
        parts.append(f"quality {quality_name(step.observed_quality)}")
    if step.observed_timestamp is not None:
        parts.append(f"timestamp {step.observed_timestamp.isoformat()}")
    return ", ".join(parts)
