"""Reports as CI and auditors read them: valid against their schemas, free of secrets."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema  # type: ignore[import-untyped, unused-ignore]
import xmlschema

from mxgw_sim.testing import USER_KEY, SimProcess

from .support import ROOT, run_cli, scenario_file, sim_args

REPORT_SCHEMA = ROOT / "schemas" / "report.schema.json"
JUNIT_XSD = ROOT / "tests" / "runner" / "data" / "junit.xsd"

FAILING = """
    name: a failing check with a write and a sign-in
    metadata: {site: North plant}
    steps:
      - open-session: {}
      - register: {}
      - authenticate: {user: operator2, password-env: MXGW_OPERATOR_PASSWORD}
      - add-item: {item: Types.Int, as: int}
      - advise: int
      - write: {item: int, value: 7, restore: true}
      - expect-event: {item: int, data-change: {value: 8}, within: 200ms}
"""


def test_reports_validate_and_contain_no_secrets(
    sim: SimProcess, no_leaked_sessions: None, tmp_path: Path
) -> None:
    path = scenario_file(tmp_path, "failing.yaml", FAILING)
    passing = ROOT / "scenarios" / "smoke.mxgw.yaml"
    report = tmp_path / "report.json"
    junit = tmp_path / "report.xml"
    result = run_cli(
        path, passing, *sim_args(sim), "--verbose", "--report-junit", str(junit), report=report
    )
    assert result.code == 1, result.output
    data = json.loads(report.read_text(encoding="utf-8"))
    jsonschema.validate(data, json.loads(REPORT_SCHEMA.read_text(encoding="utf-8")))
    xmlschema.XMLSchema(str(JUNIT_XSD)).validate(str(junit))
    assert [s["status"] for s in data["scenarios"]] == ["failed", "passed"]
    assert data["scenarios"][0]["metadata"] == {"site": "North plant"}
    # operator2's password is "operator2" in the default galaxy: a password is masked
    # wherever its text appears, so the name never shows in clear either.
    for text in (result.stdout, result.stderr, report.read_text(), junit.read_text()):
        assert USER_KEY not in text
        assert "operator2" not in text
    assert data["scenarios"][0]["steps"][2]["status"] == "passed"


def test_a_wrong_api_key_exits_3_without_showing_the_key(
    sim: SimProcess, tmp_path: Path
) -> None:
    wrong = "mxgw_wrong_5ecret0000deadbeef"
    report = tmp_path / "report.json"
    result = run_cli(
        ROOT / "scenarios" / "smoke.mxgw.yaml",
        *sim_args(sim),
        report=report,
        env={"MXGW_TEST_API_KEY": wrong},
    )
    assert result.code == 3, result.output
    assert "UNAUTHENTICATED" in result.output
    for text in (result.output, report.read_text()):
        assert wrong not in text
