"""Exit codes of ``mxgw-run``.

======  =====================================================================
code    meaning
======  =====================================================================
0       every scenario passed (skipped ones do not count against the run)
1       a check failed (a step's expectation did not hold)
2       invalid scenario or usage (nothing ran, or a scenario could not load)
3       gateway or infrastructure error: unreachable, unauthenticated,
        session faulted, a step could not make its check
4       every check passed, but some cleanup action failed
129     the terminal went away (SIGHUP); cleanup ran as for SIGTERM
130     interrupted by Ctrl-C (SIGINT)
143     terminated by SIGTERM
======  =====================================================================

When several apply, the most severe wins: interrupted, then 2, 3, 1, 4.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum

from mxgw_runner.results import Outcome, RunResult, ScenarioResult


class ExitCode(IntEnum):
    """Process exit codes (see the module docstring)."""

    PASSED = 0
    CHECK_FAILED = 1
    INVALID = 2
    INFRASTRUCTURE = 3
    CLEANUP_FAILED = 4
    SIGHUP = 129
    SIGINT = 130
    SIGTERM = 143


def exit_code_for_scenarios(
    scenarios: Iterable[ScenarioResult], *, invalid: bool = False, interrupted_by: str | None = None
) -> ExitCode:
    """The exit code for a set of scenario results (``invalid``: some file did not load)."""
    if interrupted_by == "SIGTERM":
        return ExitCode.SIGTERM
    if interrupted_by == "SIGHUP":
        return ExitCode.SIGHUP
    results = list(scenarios)
    if interrupted_by == "SIGINT" or any(s.status == Outcome.INTERRUPTED for s in results):
        return ExitCode.SIGINT
    if invalid:
        return ExitCode.INVALID
    if any(s.status == Outcome.ERROR for s in results):
        return ExitCode.INFRASTRUCTURE
    if any(s.status == Outcome.FAILED for s in results):
        return ExitCode.CHECK_FAILED
    if any(s.cleanup_failed for s in results):
        return ExitCode.CLEANUP_FAILED
    return ExitCode.PASSED


def exit_code_for(run: RunResult, *, invalid: bool = False) -> ExitCode:
    """The exit code for a whole run."""
    return exit_code_for_scenarios(
        run.scenarios, invalid=invalid, interrupted_by=run.interrupted_by
    )
