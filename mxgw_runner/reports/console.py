"""The console reporter: a line per step as it finishes, and a summary.

Verbosity: 0 (``--quiet``) shows failures and the summary only; 1 (default) a
line per step and the failure details; 2 (``--verbose``) also what passing
checks observed and each failure's event timeline. Falls back to plain ASCII
when the stream's encoding cannot show the symbols.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

from mxgw_runner.matching import format_value, quality_name
from mxgw_runner.redact import Redactor
from mxgw_runner.results import CleanupResult, Outcome, RunResult, ScenarioResult, StepResult

QUIET, NORMAL, VERBOSE = 0, 1, 2

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

    def _write(self, text: str) -> None:
        text = self.redactor.text(text).translate(_CONTROLS)
        if not self.unicode:
            text = text.translate(_ASCII_FALLBACK)
        encoding = getattr(self.stream, "encoding", None) or "utf-8"
        try:
            text.encode(encoding)
        except (UnicodeEncodeError, LookupError):
            text = text.encode(encoding, "replace").decode(encoding, "replace")
        if self._gone:
            return
        try:
            self.stream.write(text + "\n")
            self.stream.flush()
        except (BrokenPipeError, ValueError):
            # The reader went away (``mxgw-run ... | head``) or closed the stream: the run,
            # its cleanup and its reports go on; only the console is silent from here.
            self._gone = True
            _silence(self.stream)

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
        text = f"  {result.status.upper()} in {format_ms(result.duration)}"
        if result.message and result.status != Outcome.PASSED:
            text += f": {result.message}"
        if result.cleanup_failed:
            text += " (cleanup incomplete)"
        self._write(text)

    def summary(self, run: RunResult, exit_code: int | None = None) -> None:
        """Counts of scenarios per outcome, and the exit code."""
        counts = run.counts()
        parts = [f"{counts[str(o)]} {o}" for o in Outcome if counts[str(o)] or o == Outcome.PASSED]
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


def _observed(step: StepResult) -> str:
    parts = []
    if step.observed_value is not None:
        parts.append(f"value {format_value(step.observed_value)}")
    if step.observed_quality is not None:
        parts.append(f"quality {quality_name(step.observed_quality)}")
    if step.observed_timestamp is not None:
        parts.append(f"timestamp {step.observed_timestamp.isoformat()}")
    return ", ".join(parts)
