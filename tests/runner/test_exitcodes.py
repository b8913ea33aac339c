"""Exit codes: the most severe outcome wins."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mxgw_runner.exitcodes import ExitCode, exit_code_for, exit_code_for_scenarios
from mxgw_runner.results import CleanupResult, Outcome, RunResult, ScenarioResult


def scenario(status: Outcome, cleanup_failed: bool = False) -> ScenarioResult:
    s = ScenarioResult("f.yaml", "f", status=status)
    if cleanup_failed:
        s.cleanup.append(CleanupResult("restore", "sp", Outcome.FAILED, "refused"))
    return s


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], ExitCode.PASSED),
        ([Outcome.PASSED, Outcome.SKIPPED], ExitCode.PASSED),
        ([Outcome.PASSED, Outcome.FAILED], ExitCode.CHECK_FAILED),
        ([Outcome.FAILED, Outcome.ERROR], ExitCode.INFRASTRUCTURE),
        ([Outcome.ERROR, Outcome.INTERRUPTED], ExitCode.SIGINT),
    ],
)
def test_severity_order(statuses: list[Outcome], expected: ExitCode) -> None:
    assert exit_code_for_scenarios([scenario(s) for s in statuses]) == expected


def test_cleanup_only_failure_is_4_but_a_failed_check_wins() -> None:
    assert exit_code_for_scenarios([scenario(Outcome.PASSED, True)]) == ExitCode.CLEANUP_FAILED
    assert exit_code_for_scenarios([scenario(Outcome.FAILED, True)]) == ExitCode.CHECK_FAILED


def test_invalid_and_signals() -> None:
    assert exit_code_for_scenarios([scenario(Outcome.ERROR)], invalid=True) == ExitCode.INVALID
    run = RunResult("0.1.0", datetime.now(UTC), scenarios=[scenario(Outcome.PASSED)])
    run.interrupted_by = "SIGTERM"
    assert exit_code_for(run) == 143
    run.interrupted_by = "SIGINT"
    assert exit_code_for(run) == 130
    run.interrupted_by = "SIGHUP"
    assert exit_code_for(run) == 129
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 4, 129, 130, 143]
