"""Nested results (for-each passes, include steps, checked items) as the loader and the
report writers see them: located errors before a run, and one check per pass or item
in the JSON, JUnit and HTML reports."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import jsonschema  # type: ignore[import-untyped, unused-ignore]
import xmlschema

from mxgw_runner.loader import check_scenario
from mxgw_runner.reports.html import render_html
from mxgw_runner.reports.json_report import report_data
from mxgw_runner.reports.junit import render_junit
from mxgw_runner.results import Outcome, RunResult, ScenarioResult, StepResult

from .conftest import WriteFile

ROOT = Path(__file__).resolve().parents[2]
REPORT_SCHEMA = json.loads((ROOT / "schemas" / "report.schema.json").read_text(encoding="utf-8"))
JUNIT_XSD = ROOT / "tests" / "runner" / "data" / "junit.xsd"
WHEN = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def test_check_items_rows_are_checked_against_the_csv_header(write: WriteFile) -> None:
    write("tags.csv", "tag,expected\nA.B,1\n")
    path = write(
        "bulk.yaml",
        """
        steps:
          - check-items:
              csv: tags.csv
              item: "${row.tag}"
              value: "${row.expectd}"
              within: "${wait}"
        """,
    )
    scenario, found = check_scenario(path, env={})
    assert scenario is None
    messages = [(d.line, d.message) for d in found]
    assert len(messages) == 2, messages
    assert messages[0][0] == 5 and "expectd" in messages[0][1]
    assert messages[1][0] == 6 and "${wait}" in messages[1][1]


def test_check_items_rows_load_from_csv_and_a_for_each_name_may_use_the_row(
    write: WriteFile,
) -> None:
    write("tags.csv", "tag,expected\nA.B,1\nC.D,2.5\n")
    path = write(
        "ok.yaml",
        """
        steps:
          - check-items: {csv: tags.csv, item: "${row.tag}", value: "${row.expected}"}
          - name: "check ${pump}"
            for-each:
              items: [P1, P2]
              as: pump
              steps:
                - wait: 1ms
        """,
    )
    scenario, found = check_scenario(path, env={})
    assert found == []
    assert scenario is not None
    bulk = scenario.steps[0]
    assert bulk.params["items"] == [{"tag": "A.B", "expected": 1}, {"tag": "C.D", "expected": 2.5}]
    assert "csv" not in bulk.params and bulk.source is not None


def _leaf(number: str, kind: str, status: Outcome = Outcome.PASSED, **kw: object) -> StepResult:
    return StepResult(index=1, kind=kind, number=number, status=status, start=WHEN, **kw)  # type: ignore[arg-type]


def sample_run() -> RunResult:
    """A run with a for-each of three passes (one failed), an include and two checked items."""
    passes = []
    for n, status in enumerate((Outcome.PASSED, Outcome.FAILED, Outcome.PASSED), start=1):
        passes.append(
            StepResult(
                index=n,
                kind="for-each",
                name=f"[{n}/3] tag=P{n}.Speed",
                number=f"01.{n}",
                status=status,
                line=3,
                file="rows.yaml",
                observed_value=40.0 + n,
                observed_quality=192,
                observed_timestamp=WHEN,
                message=None if status == Outcome.PASSED else "01.2.02 read at rows.yaml:7: no",
                children=[
                    _leaf(f"01.{n}.01", "add-item"),
                    _leaf(f"01.{n}.02", "read", status, line=7, file="rows.yaml"),
                ],
            )
        )
    for_each = StepResult(
        index=1,
        kind="for-each",
        name="3 rows",
        status=Outcome.FAILED,
        children=passes,
        group=True,
        line=3,
        file="rows.yaml",
    )
    include = StepResult(
        index=2,
        kind="include",
        name="parts/x.yaml",
        children=[_leaf("02.01", "wait", line=4, file="parts/x.yaml")],
    )
    items = StepResult(
        index=3,
        kind="check-items",
        name="2 rows",
        group=True,
        children=[
            _leaf("03.1", "check-items", name="[1/2] A.B", observed_value=1, observed_quality=192),
            _leaf("03.2", "check-items", name="[2/2] C.D", observed_value=2, observed_quality=192),
        ],
    )
    scenario = ScenarioResult(
        file="rows.yaml",
        name="rows",
        status=Outcome.FAILED,
        steps=[for_each, include, items],
        start=WHEN,
    )
    return RunResult(tool_version="0", start=WHEN, end=WHEN, scenarios=[scenario])


def test_json_report_nests_results_and_counts_checks() -> None:
    data = report_data(sample_run())
    jsonschema.validate(data, REPORT_SCHEMA)
    assert data["checks"] == {
        "passed": 5,
        "failed": 1,
        "error": 0,
        "skipped": 0,
        "interrupted": 0,
    }
    step = data["scenarios"][0]["steps"][0]
    assert step["group"] is True
    assert step["steps"][1]["steps"][1]["number"] == "01.2.02"


def test_junit_has_a_testcase_per_pass_include_and_item(tmp_path: Path) -> None:
    junit = tmp_path / "r.xml"
    junit.write_bytes(render_junit(sample_run()))
    xmlschema.XMLSchema(str(JUNIT_XSD)).validate(str(junit))
    cases = list(ET.parse(junit).getroot().iter("testcase"))
    names = [c.get("name") for c in cases]
    assert names == [
        "01 for-each [1/3] tag=P1.Speed",
        "01 for-each [2/3] tag=P2.Speed",
        "01 for-each [3/3] tag=P3.Speed",
        "02 include: parts/x.yaml",
        "03 check-items [1/2] A.B",
        "03 check-items [2/2] C.D",
    ]
    failure = cases[1].find("failure")
    assert failure is not None and failure.get("message") == "01.2.02 read at rows.yaml:7: no"
    assert "01.2.02 read: failed (rows.yaml:7)" in (failure.text or "")


def test_html_record_has_a_row_per_pass_and_item_and_counts_checks() -> None:
    page = render_html(sample_run())
    assert page.count("<strong>for-each</strong> [") == 3
    assert page.count("<strong>check-items</strong> [") == 2
    # the steps of the failed pass are shown, those of the passing passes are not
    assert ">01.2.02<" in page and ">01.1.02<" not in page
    assert ">02.01<" in page  # an include lists its steps
    assert '<td class="num">6</td>' in page  # checks in the summary
