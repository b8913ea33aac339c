"""The HTML record read as a commissioning engineer reads it: no explanation that is untrue."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from mxgw_runner.reports.html import render_html
from mxgw_runner.results import Outcome, RunResult, ScenarioResult, StepResult

WHEN = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
NO_EVENT = "No event of the item arrived."


def _details(page: str) -> list[str]:
    """The text of every detail row, in order."""
    rows = re.findall(r'<tr class="detail">.*?</td></tr>', page, re.S)
    return [re.sub(r"<[^>]+>", " ", row) for row in rows]


def _run(*steps: StepResult) -> RunResult:
    scenario = ScenarioResult(
        file="ck.yaml", name="ck", status=Outcome.FAILED, steps=list(steps), start=WHEN
    )
    return RunResult(tool_version="0", start=WHEN, end=WHEN, scenarios=[scenario])


def _step(kind: str, message: str, **kw: object) -> StepResult:
    return StepResult(
        index=1,
        kind=kind,
        status=Outcome.FAILED,
        start=WHEN,
        message=message,
        **kw,  # type: ignore[arg-type]
    )


def test_a_checked_item_with_a_wrong_value_does_not_claim_no_event_arrived() -> None:
    item = _step(
        "check-items",
        "value 3.6 is not 999",
        number="03.1",
        observed_value=3.6,
        observed_quality=192,
        observed_timestamp=WHEN,
    )
    bad = _step(
        "check-items", "quality bad", number="03.2", observed_quality=4, observed_timestamp=WHEN
    )
    group = _step("check-items", "2 of 2 items failed", children=[item, bad], group=True)
    details = _details(render_html(_run(group)))
    assert len(details) == 3
    assert all(NO_EVENT not in d for d in details), details


def test_failed_steps_that_wait_for_no_event_do_not_claim_one_was_missing() -> None:
    write = _step("write", "write completion: status SecurityError is not ok")
    confirm = _step("confirm", "confirm needs an operator at a terminal")
    details = _details(render_html(_run(write, confirm)))
    assert len(details) == 2
    assert all(NO_EVENT not in d for d in details), details


def test_an_expectation_that_saw_nothing_still_says_so() -> None:
    expect = _step("expect-event", "no matching event within 5s")
    (detail,) = _details(render_html(_run(expect)))
    assert NO_EVENT in detail
