"""A scenario file as a pytest collector, its scenario as a test item.

The item's node id is ``path::<scenario name>``; its tags are pytest marks (registered
as they are met, so ``--strict-markers`` accepts them). A failure is shown as
``mxgw-run`` shows it: every step's line, the failing step at ``file:line`` with what
was expected and observed, the event timeline with ``-v``; secrets are redacted.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from mxgw_runner.pytest_plugin import STATE_KEY
from mxgw_runner.pytest_support.state import RunnerState, SetupFailed, pytest_option_names

if TYPE_CHECKING:
    from mxgw_runner.model import Scenario
    from mxgw_runner.redact import Redactor
    from mxgw_runner.results import ScenarioResult, StepResult


class ScenarioFailed(Exception):
    """A scenario did not pass; the message is the runner's rendering of it, ``headline``
    the one line pytest's summary and JUnit's ``message`` show."""

    def __init__(self, text: str, headline: str | None = None) -> None:
        super().__init__(text)
        self.text = text
        self.headline = headline or (text.splitlines() or [""])[0]


@dataclass(frozen=True)
class _Crash:
    """Where and why, in the shape pytest's summary line and JUnit writer read."""

    path: str
    lineno: int
    message: str


class FailureText:
    """A failure's text as pytest prints it, with a one-line headline for summaries."""

    def __init__(self, text: str, crash: _Crash) -> None:
        self.text = text
        self.reprcrash = crash

    def toterminal(self, tw: Any) -> None:
        """Print the text; the failing lines in red on a colour terminal."""
        for line in self.text.splitlines():
            failed = line.lstrip().startswith(("✗", "!", "FAIL", "ERR"))
            tw.line(line, red=failed, bold=failed)

    def __str__(self) -> str:
        return self.text


_NAME_LINE = re.compile(r"^name\s*:")


def _state(config: pytest.Config) -> RunnerState:
    state = config.stash.get(STATE_KEY, None)
    if state is None:
        state = RunnerState.from_config(config)
        config.stash[STATE_KEY] = state
    return state


def _name_line(path: Path) -> int:
    """0-based line of the scenario's ``name:`` key (0 when it has none)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return 0
    return next((n for n, line in enumerate(lines) if _NAME_LINE.match(line)), 0)


def _item_name(name: str) -> str:
    """The scenario's name as a node id part: one line, no control characters (they would
    move a terminal's cursor), no ``::`` (pytest's separator)."""
    text = " ".join("".join(c for c in name if c.isprintable() or c.isspace()).split())
    return text.replace("::", ":") or "scenario"


def _register_mark(config: pytest.Config, tag: str) -> pytest.MarkDecorator | None:
    """The mark for a tag, declared first so ``--strict-markers`` accepts it."""
    if not tag or tag.startswith("_") or any(c in tag for c in ":( \t\n"):
        return None  # not a name pytest can take as a mark
    known = {line.split(":")[0].split("(")[0].strip() for line in config.getini("markers")}
    if tag not in known:
        config.addinivalue_line("markers", f"{tag}: mxgw scenario tag")
    try:
        mark: pytest.MarkDecorator = getattr(pytest.mark, tag)
    except AttributeError:
        return None
    return mark


class ScenarioFile(pytest.File):
    """A ``*.mxgw.yaml`` file: loaded with the runner's loader, one item per scenario."""

    def collect(self) -> Iterator[pytest.Item]:
        """Load the file; a mistake in it is a collection error listing every location."""
        state = _state(self.config)
        try:
            scenario = state.load(self.path)
        except SetupFailed as exc:
            raise self.CollectError(str(exc)) from None
        item = ScenarioItem.from_parent(
            self, name=_item_name(scenario.name), scenario=scenario, line=_name_line(self.path)
        )
        for tag in scenario.tags:
            mark = _register_mark(self.config, tag)
            if mark is not None:
                item.add_marker(mark)
        yield item


class ScenarioItem(pytest.Item):
    """One scenario, run through the real engine with its own session and cleanup."""

    def __init__(self, *, scenario: Scenario, line: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.line = line
        self.result: ScenarioResult | None = None

    def runtest(self) -> None:
        """Run the scenario; raise what pytest should report for its outcome."""
        from mxgw_runner.results import Outcome

        state = _state(self.config)
        refused = state.preflight(self.scenario)
        if refused:
            raise ScenarioFailed("\n".join([*refused, "the scenario was not run"]), refused[0])
        outcome = state.run(self.scenario)
        self.result = result = outcome.result
        if outcome.interrupted_by:
            raise KeyboardInterrupt(
                f"{outcome.interrupted_by} while running {self.scenario.path}; its cleanup ran"
            )
        if result.status == Outcome.SKIPPED:
            reason = outcome.redactor.text(result.message or "skipped")
            raise pytest.skip.Exception(reason, _use_item_location=True)
        if result.status != Outcome.PASSED or result.cleanup_failed:
            # runner hints name its options (--api-key-env); here they are --mxgw-*
            raise ScenarioFailed(
                pytest_option_names(render(result, outcome.redactor, self.config.get_verbosity())),
                pytest_option_names(headline(result, outcome.redactor)),
            )

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> Any:
        """A scenario's failure as the runner renders it, not a traceback of the plugin."""
        value = excinfo.value
        if isinstance(value, ScenarioFailed):
            return failure_repr(value, str(self.path), self.line + 1)
        if isinstance(value, SetupFailed):
            return str(value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """The scenario file, at its ``name:`` line."""
        return self.path, self.line, self.name


def failure_repr(failure: ScenarioFailed, path: str, line: int) -> Any:
    """The failure in the shape pytest keeps across xdist workers: the text as a native
    traceback and the headline as the crash line (else, with a pytest that lacks those
    classes, the text and headline locally)."""
    try:
        from _pytest._code.code import ReprExceptionInfo, ReprFileLocation, ReprTracebackNative
    except ImportError:  # pragma: no cover - a pytest that moved them
        return FailureText(failure.text, _Crash(path, line, failure.headline))
    return ReprExceptionInfo(
        reprtraceback=ReprTracebackNative([failure.text + "\n"]),
        reprcrash=ReprFileLocation(path, line, failure.headline),
    )


def render(result: ScenarioResult, redactor: Redactor, verbosity: int) -> str:
    """The scenario as ``mxgw-run`` prints it (``-v``: with the event timelines)."""
    from mxgw_runner.reports.console import NORMAL, QUIET, VERBOSE, ConsoleReporter

    level = VERBOSE if verbosity > 0 else QUIET if verbosity < 0 else NORMAL
    out = io.StringIO()
    stream = sys.__stdout__
    unicode = True
    if stream is not None:
        from mxgw_runner.reports.console import supports_unicode

        unicode = supports_unicode(stream)
    reporter = ConsoleReporter(out, verbosity=level, unicode=unicode, redactor=redactor)
    reporter.scenario_started(result.file, result.name)

    def steps(results: list[StepResult]) -> None:
        for step in results:
            reporter.step_finished(step, file=result.file)
            steps(step.children)

    steps(result.steps)
    for entry in result.cleanup:
        reporter.cleanup_finished(entry)
    reporter.scenario_finished(result)
    return out.getvalue().rstrip("\n")


def _first_failure(steps: list[StepResult]) -> StepResult | None:
    """The first step (depth first) that did not pass or get skipped."""
    from mxgw_runner.results import Outcome

    for step in steps:
        if step.status in (Outcome.FAILED, Outcome.ERROR, Outcome.INTERRUPTED):
            return _first_failure(step.children) or step
    return None


def headline(result: ScenarioResult, redactor: Redactor) -> str:
    """One line for the summary: the failing step at ``file:line`` and why."""
    from mxgw_runner.results import Outcome

    step = _first_failure(result.steps)
    if step is not None:
        file = step.file or result.file
        where = f"{file}:{step.line}" if step.line else file
        text = f"{where}: {step.label} {step.kind}: {step.message or step.status}"
    else:
        broken = [c for c in result.cleanup if c.status not in (Outcome.PASSED, Outcome.SKIPPED)]
        if broken:
            first = broken[0]
            text = f"cleanup {first.action} {first.target}: {first.message or first.status}"
        else:
            text = f"{result.status}: {result.message or result.file}"
    return " ".join(redactor.text(text).split())
