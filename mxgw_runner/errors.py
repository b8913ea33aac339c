"""Located diagnostics for user mistakes in scenario files.

Every problem a user can cause (bad YAML, schema violations, unknown variables,
unreadable files) becomes a :class:`Diagnostic` carrying file, line, column and the
key path, so the runner can print all of them at once instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in a scenario file; ``line``/``column`` are 1-based, or None for file-level."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str

    def format(self) -> str:
        """Render as ``file:line:col: path: message``, the shape editors and CI logs link."""
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        if self.path:
            return f"{where}: {self.path}: {self.message}"
        return f"{where}: {self.message}"

    def __str__(self) -> str:
        return self.format()


class ScenarioError(Exception):
    """A scenario (or a file it uses) is invalid; carries every diagnostic found at once."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        super().__init__(self._summary())

    def _summary(self) -> str:
        if not self.diagnostics:
            return "invalid scenario"
        return "\n".join(d.format() for d in self.diagnostics)

    @classmethod
    def single(
        cls,
        file: str,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        path: str = "",
    ) -> ScenarioError:
        """Build an error holding one diagnostic."""
        return cls([Diagnostic(file, line, column, path, message)])


class PluginError(Exception):
    """A plugin could not be loaded or clashes with another; the message names the plugin."""


class StepFailed(Exception):
    """Raised by a step when a check fails (exit code 1), as opposed to an infrastructure error."""

    def __init__(self, message: str, *, expected: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.expected = expected


def format_diagnostics(diagnostics: Sequence[Diagnostic]) -> str:
    """All diagnostics as text, one per line, in file order."""
    return "\n".join(d.format() for d in diagnostics)
