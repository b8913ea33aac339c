"""Results and report writers: JSON valid against its schema, JUnit valid against an XSD,
secrets masked everywhere, atomic writes, console lines."""

from __future__ import annotations

import io
import json
import os
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
import xmlschema

from mxgw_runner.atomicio import atomic_write_text
from mxgw_runner.matching import ObservedEvent, ObservedStatus
from mxgw_runner.redact import Redactor
from mxgw_runner.reports.console import QUIET, VERBOSE, ConsoleReporter
from mxgw_runner.reports.json_report import render_json, write_json_report
from mxgw_runner.reports.junit import classname_for, render_junit, write_junit
from mxgw_runner.results import (
    CleanupResult,
    Outcome,
    RunResult,
    ScenarioResult,
    StepResult,
    safe_endpoint,
)
from mxgw_runner.schemas import load_packaged

XSD = Path(__file__).parent / "data" / "junit.xsd"
T0 = datetime(2026, 11, 26, 19, 0, 0, tzinfo=UTC)
SECRET = "hunter22"


def sample_run() -> RunResult:
    event = ObservedEvent(
        "data-change",
        "pv",
        41.7,
        192,
        T0,
        (ObservedStatus(-1, "Ok", "RespondingLmx", 0),),
        1.0,
        T0,
        17,
    )
    refused = ObservedEvent(
        "write-complete",
        "sp",
        statuses=(ObservedStatus(0, "SecurityError", "RespondingLmx", 321),),
        arrival_wall=T0,
    )
    passed = ScenarioResult(
        file="scenarios/pump101.mxgw.yaml",
        name="Pump 101 setpoint",
        tags=("commissioning",),
        metadata={"checklist": "CK-014", "operator": f"op1 ({SECRET})", "n": 3},
        status=Outcome.FAILED,
        start=T0,
        duration=31.5,
        steps=[
            StepResult(1, "open-session", "ck-014", 11, status=Outcome.PASSED, duration=0.012),
            StepResult(
                2,
                "write",
                "sp",
                17,
                status=Outcome.PASSED,
                duration=0.2,
                observed_value=SECRET,
                expected="write-complete ok",
            ),
            StepResult(
                3,
                "expect-event",
                'pv <check & "quote">',
                19,
                status=Outcome.FAILED,
                start=T0,
                duration=30.0,
                observed_value=41.7,
                observed_quality=192,
                observed_timestamp=T0,
                expected="data-change of pv with value ≈ 42.5 ± 0.5",
                message="no matching data-change of pv among 1\x00",
                timeline=[event, refused],
                closest=event,
                closest_explanation="value 41.7 not within 0.5 of 42.5; quality good as expected",
            ),
            StepResult(4, "close-session", "", 25, status=Outcome.SKIPPED),
            StepResult(
                5, "write", "nested", 30, number="05.2.01", status=Outcome.ERROR, message="faulted"
            ),
        ],
        cleanup=[
            CleanupResult("restore", "sp", Outcome.FAILED, "write refused: SecurityError", 0.1),
            CleanupResult("close-session", "session-1", Outcome.PASSED, None, 0.01),
        ],
    )
    errored = ScenarioResult(
        file="b.yaml",
        name="unreachable",
        status=Outcome.ERROR,
        message="gateway unreachable at localhost:5000",
        start=T0,
    )
    return RunResult(
        tool_version="0.1.0",
        start=T0,
        end=T0,
        endpoint="https://gw.example:5001",
        gateway_version="1.2",
        protocol_version=3,
        scenarios=[passed, errored],
    )


def test_json_report_is_valid_against_the_report_schema() -> None:
    data = json.loads(render_json(sample_run(), Redactor([SECRET])))
    jsonschema.Draft202012Validator(
        load_packaged("report.schema.json"), format_checker=jsonschema.FormatChecker()
    ).validate(data)
    assert data["summary"] == {
        "passed": 0,
        "failed": 1,
        "error": 1,
        "skipped": 0,
        "interrupted": 0,
    }
    step = data["scenarios"][0]["steps"][2]
    assert step["closest"]["explanation"].startswith("value 41.7 not within")
    assert step["timeline"][0]["source-timestamp"] == "2026-11-26T19:00:00.000Z"


def test_report_schema_rejects_a_broken_report() -> None:
    data = json.loads(render_json(sample_run()))
    data["scenarios"][0]["status"] = "sort of"
    assert not jsonschema.Draft202012Validator(load_packaged("report.schema.json")).is_valid(data)


def test_secrets_are_masked_in_every_report(tmp_path: Path) -> None:
    run = sample_run()
    redactor = Redactor([SECRET])
    write_json_report(run, tmp_path / "r.json", redactor)
    write_junit(run, tmp_path / "r.xml", redactor)
    out = io.StringIO()
    console = ConsoleReporter(out, verbosity=VERBOSE, redactor=redactor)
    for step in run.scenarios[0].steps:
        console.step_finished(step, file="f.yaml")
    for text in (
        (tmp_path / "r.json").read_text(),
        (tmp_path / "r.xml").read_text(),
        out.getvalue(),
    ):
        assert SECRET not in text
        assert "***" in text


def test_junit_is_valid_against_the_xsd(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    write_junit(sample_run(), path)
    xmlschema.XMLSchema(str(XSD)).validate(str(path))


def test_junit_structure_failures_errors_and_cleanup() -> None:
    root = ET.fromstring(render_junit(sample_run()))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["Pump 101 setpoint", "unreachable"]
    suite = suites[0]
    cases = suite.findall("testcase")
    names = [c.get("name") for c in cases]
    assert names[:3] == [
        "01 open-session: ck-014",
        "02 write: sp",
        '03 expect-event: pv <check & "quote">',
    ]
    assert names[4] == "05.2.01 write: nested"
    assert names[5:] == ["cleanup 01 restore: sp", "cleanup 02 close-session: session-1"]
    assert {c.get("classname") for c in cases} == {"scenarios.pump101"}
    failure = cases[2].find("failure")
    assert failure is not None and failure.get("message", "").startswith("no matching data-change")
    assert "recent events of the item" in (failure.text or "")
    assert "value 41.7 not within 0.5" in (failure.text or "")
    assert cases[3].find("skipped") is not None
    assert cases[4].find("error") is not None
    cleanup_error = cases[5].find("error")
    assert cleanup_error is not None and cleanup_error.get("type") == "cleanup"
    assert (
        suite.get("tests"),
        suite.get("failures"),
        suite.get("errors"),
        suite.get("skipped"),
    ) == (
        "7",
        "1",
        "2",
        "1",
    )
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["metadata.checklist"] == "CK-014"
    assert props["metadata.n"] == "3"
    # a scenario that errored before any step still shows up as a failing testcase
    (case,) = suites[1].findall("testcase")
    assert case.find("error") is not None
    assert root.get("tests") == "8" and root.get("errors") == "3"


def test_junit_classname() -> None:
    s = ScenarioResult(file="pump.yaml", name="x")
    assert classname_for(s) == "pump"
    s.file = "area-a/North.Pump.yaml"
    assert classname_for(s) == "area-a.North_Pump"


def test_atomic_write_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.json"
    target.write_text("previous", encoding="utf-8")

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "new content")
    assert target.read_text(encoding="utf-8") == "previous"
    assert os.listdir(tmp_path) == ["report.json"]


def test_atomic_write_replaces_and_keeps_normal_permissions(tmp_path: Path) -> None:
    target = tmp_path / "r.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert os.listdir(tmp_path) == ["r.txt"]
    assert target.stat().st_mode & 0o044  # readable by others (umask permitting)


def test_redactor_masks_longest_first_and_numbers() -> None:
    redactor = Redactor(["abc", "abcdef", "12345", "x"])
    assert redactor.text("abcdef and abc") == "*** and ***"
    assert redactor.data({"k": ["abcdef", 12345, 7, True], "abc": 1}) == {
        "k": ["***", "***", 7, True],
        "***": 1,
    }
    assert redactor.text("x marks") == "x marks"  # too short to mask


class AsciiStream(io.StringIO):
    encoding = "ascii"


class Utf8Stream(io.StringIO):
    encoding = "utf-8"


def test_console_lines_per_step_and_summary() -> None:
    out = Utf8Stream()
    run = sample_run()
    console = ConsoleReporter(out)
    console.scenario_started("pump.yaml", "Pump 101")
    for step in run.scenarios[0].steps[:3]:
        console.step_finished(step, file="pump.yaml")
    console.summary(run, exit_code=3)
    lines = out.getvalue().splitlines()
    assert lines[0] == "pump.yaml — Pump 101"
    assert lines[1] == "  ✓ 01 open-session ck-014  12 ms"
    assert lines[3].startswith("  ✗ 03 expect-event pv")
    # Control characters reach the terminal escaped.
    assert lines[4] == "      pump.yaml:19: no matching data-change of pv among 1\\x00"
    assert lines[-1] == (
        "2 scenarios: 0 passed, 1 failed, 1 error; cleanup failed in 1 (exit code 3)"
    )


def test_console_ascii_fallback_and_quiet() -> None:
    out = AsciiStream()
    run = sample_run()
    console = ConsoleReporter(out, verbosity=QUIET)
    console.scenario_started("pump.yaml", "Pump 101")
    for step in run.scenarios[0].steps[:3]:
        console.step_finished(step, file="pump.yaml")
    text = out.getvalue()
    assert "01 open-session" not in text  # quiet: passes are not shown
    assert "pump.yaml - Pump 101" in text  # header shown once something fails
    assert "  FAIL 03 expect-event" in text
    text.encode("ascii")


def test_console_nested_steps_are_indented() -> None:
    out = Utf8Stream()
    ConsoleReporter(out).step_finished(
        StepResult(1, "wait", "", 3, number="05.1.01", duration=1.5), file="f.yaml"
    )
    assert out.getvalue() == "      ✓ 05.1.01 wait  1.50 s\n"


@pytest.mark.parametrize(
    ("endpoint", "safe"),
    [
        ("localhost:5000", "localhost:5000"),
        ("https://op:secret@gw01:5001/?api_key=abc", "https://gw01:5001/"),
        ("[::1]:5000", "[::1]:5000"),
        (None, None),
    ],
)
def test_safe_endpoint_drops_credentials(endpoint: str | None, safe: str | None) -> None:
    assert safe_endpoint(endpoint) == safe


def test_summary_says_errors_in_the_plural() -> None:
    run = RunResult(tool_version="0", start=datetime(2026, 1, 1, tzinfo=UTC))
    for name in ("a", "b"):
        scenario = ScenarioResult(file=f"{name}.yaml", name=name, status=Outcome.ERROR)
        run.scenarios.append(scenario)
    stream = io.StringIO()
    ConsoleReporter(stream).summary(run, exit_code=3)
    assert stream.getvalue().splitlines()[-1] == "2 scenarios: 0 passed, 2 errors (exit code 3)"
