"""JUnit XML (``--report-junit``) for Jenkins, GitLab and GitHub test reporters.

A ``<testsuite>`` per scenario and a ``<testcase>`` per check: a step, or each pass
of a ``for-each`` and each item of a ``check-items`` (``05 for-each [3/200] tag=X``); an
include is one testcase listing its steps. Checks that did not hold are ``<failure>``,
checks that could not be made (gateway, session, interruption) are ``<error>``, and
every cleanup action is a testcase of its own so a failed restore is visible. Written
with the standard library only.
"""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from mxgw_runner.atomicio import atomic_write_bytes
from mxgw_runner.matching import format_value, quality_name
from mxgw_runner.redact import Redactor
from mxgw_runner.results import CleanupResult, Outcome, RunResult, ScenarioResult, StepResult

# Characters XML 1.0 cannot carry, even escaped.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str, redactor: Redactor | None) -> str:
    if redactor:
        text = redactor.text(text)
    return _INVALID_XML.sub("\ufffd", text)


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"


def _timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="seconds")


def classname_for(scenario: ScenarioResult) -> str:
    """``scenarios/pump101.mxgw.yaml`` → ``scenarios.pump101``: package and class for Jenkins."""
    path = PurePosixPath(scenario.file.replace("\\", "/"))
    stem = path.name
    for suffix in (".yaml", ".yml", ".mxgw"):
        stem = stem.removesuffix(suffix)
    parts = [p for p in path.parent.parts if p not in ("", ".", "..", "/")]
    return ".".join([*parts, stem.replace(".", "_")]) or scenario.name


def testcase_name(step: StepResult) -> str:
    """``03 add-item: Pump101.Speed.SP``."""
    name = f"{step.label} {step.kind}"
    return f"{name}: {step.name}" if step.name else name


class _Builder:
    def __init__(self, redactor: Redactor | None) -> None:
        self.redactor = redactor

    def text(self, value: str) -> str:
        return _clean(value, self.redactor)

    def set(self, element: ET.Element, key: str, value: str | None) -> None:
        if value is not None:
            element.set(key, self.text(value))

    def run(self, run: RunResult) -> ET.Element:
        root = ET.Element("testsuites")
        root.set("name", "mxgw-run")
        totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        time = 0.0
        for scenario in run.scenarios:
            suite, counts = self.suite(scenario)
            root.append(suite)
            for key in totals:
                totals[key] += counts[key]
            time += scenario.duration
        for key, value in totals.items():
            root.set(key, str(value))
        root.set("time", _seconds(time))
        return root

    def suite(self, scenario: ScenarioResult) -> tuple[ET.Element, dict[str, int]]:
        suite = ET.Element("testsuite")
        self.set(suite, "name", scenario.name)
        classname = classname_for(scenario)
        props = ET.SubElement(suite, "properties")
        for key, value in [
            ("file", scenario.file),
            ("status", str(scenario.status)),
            ("tags", ", ".join(scenario.tags)),
            *((f"metadata.{k}", _prop(v)) for k, v in scenario.metadata.items()),
        ]:
            prop = ET.SubElement(props, "property")
            self.set(prop, "name", key)
            self.set(prop, "value", value)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        cases = [
            self.step_case(classname, scenario, check, name)
            for step in scenario.steps
            for check, name in _checks_of(step)
        ]
        if scenario.status in (Outcome.ERROR, Outcome.INTERRUPTED) and not any(
            s.status in (Outcome.ERROR, Outcome.INTERRUPTED) for s in scenario.steps
        ):
            cases.append(self.scenario_case(classname, scenario))
        cases += [
            self.cleanup_case(classname, n, c) for n, c in enumerate(scenario.cleanup, start=1)
        ]
        for case, outcome in cases:
            suite.append(case)
            counts["tests"] += 1
            if outcome == Outcome.FAILED:
                counts["failures"] += 1
            elif outcome in (Outcome.ERROR, Outcome.INTERRUPTED):
                counts["errors"] += 1
            elif outcome == Outcome.SKIPPED:
                counts["skipped"] += 1
        for key, count in counts.items():
            suite.set(key, str(count))
        suite.set("time", _seconds(scenario.duration))
        self.set(suite, "timestamp", _timestamp(scenario.start))
        self.set(suite, "file", scenario.file)
        return suite, counts

    def _outcome(
        self, case: ET.Element, outcome: Outcome, message: str, body: str, kind: str
    ) -> None:
        if outcome == Outcome.FAILED:
            el = ET.SubElement(case, "failure")
            el.set("type", kind)
        elif outcome in (Outcome.ERROR, Outcome.INTERRUPTED):
            el = ET.SubElement(case, "error")
            el.set("type", "interrupted" if outcome == Outcome.INTERRUPTED else kind)
        elif outcome == Outcome.SKIPPED:
            el = ET.SubElement(case, "skipped")
        else:
            return
        self.set(el, "message", message)
        if body and outcome != Outcome.SKIPPED:
            el.text = self.text(body)

    def step_case(
        self, classname: str, scenario: ScenarioResult, step: StepResult, name: str
    ) -> tuple[ET.Element, Outcome]:
        case = ET.Element("testcase")
        self.set(case, "classname", classname)
        self.set(case, "name", name)
        case.set("time", _seconds(step.duration))
        self.set(case, "file", step.file or scenario.file)
        if step.line is not None:
            case.set("line", str(step.line))
        where = f"{step.file or scenario.file}:{step.line}" if step.line else scenario.file
        message = step.message or str(step.status)
        self._outcome(case, step.status, message, f"{where}: {message}\n{_details(step)}", "check")
        details = _details(step)
        if details and step.status == Outcome.PASSED:
            out = ET.SubElement(case, "system-out")
            out.text = self.text(details)
        return case, step.status

    def scenario_case(self, classname: str, scenario: ScenarioResult) -> tuple[ET.Element, Outcome]:
        case = ET.Element("testcase")
        self.set(case, "classname", classname)
        case.set("name", "scenario")
        case.set("time", _seconds(scenario.duration))
        message = scenario.message or str(scenario.status)
        self._outcome(case, scenario.status, message, message, "error")
        return case, scenario.status

    def cleanup_case(
        self, classname: str, number: int, cleanup: CleanupResult
    ) -> tuple[ET.Element, Outcome]:
        case = ET.Element("testcase")
        self.set(case, "classname", classname)
        self.set(case, "name", f"cleanup {number:02d} {cleanup.action}: {cleanup.target}")
        case.set("time", _seconds(cleanup.duration))
        outcome = cleanup.status
        if outcome == Outcome.FAILED:
            outcome = Outcome.ERROR  # a failed undo is an error, not a failed check
        message = cleanup.message or str(cleanup.status)
        self._outcome(case, outcome, message, message, "cleanup")
        return case, outcome


def _prop(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, ensure_ascii=False)


def _checks_of(step: StepResult) -> list[tuple[StepResult, str]]:
    """The testcases of a step: itself, or each pass/item of a group, with their names."""
    if not step.group:
        return [(step, testcase_name(step))]
    return [(child, f"{step.label} {step.kind} {child.name}") for child in step.children]


def _nested_lines(step: StepResult, depth: int = 0) -> list[str]:
    """One line per nested result (an include's or a pass's steps), indented by depth."""
    lines = []
    for child in step.children:
        where = f" ({child.file}:{child.line})" if child.file and child.line else ""
        title = f" {child.name}" if child.name else ""
        lines.append(f"{'  ' * depth}{child.label} {child.kind}{title}: {child.status}{where}")
        lines.extend(_nested_lines(child, depth + 1))
    return lines


def _details(step: StepResult) -> str:
    lines: list[str] = []
    if step.children and not step.group:
        lines.append("steps:")
        lines.extend(f"  {line}" for line in _nested_lines(step))
    if step.expected:
        lines.append(f"expected: {step.expected}")
    observed = []
    if step.observed_value is not None:
        observed.append(f"value={format_value(step.observed_value)}")
    if step.observed_quality is not None:
        observed.append(f"quality={quality_name(step.observed_quality)}")
    if step.observed_timestamp is not None:
        observed.append(f"timestamp={step.observed_timestamp.isoformat()}")
    if observed:
        lines.append("observed: " + " ".join(observed))
    if step.closest is not None:
        lines.append(f"closest: {step.closest.describe()}")
        if step.closest_explanation:
            lines.append(f"         {step.closest_explanation}")
    if step.timeline:
        lines.append("recent events of the item:")
        lines.extend(f"  {e.describe()}" for e in step.timeline)
    return "\n".join(lines)


def junit_tree(run: RunResult, redactor: Redactor | None = None) -> ET.ElementTree[ET.Element]:
    """The JUnit document as an ElementTree."""
    root = _Builder(redactor).run(run)
    ET.indent(root)
    return ET.ElementTree(root)


def render_junit(run: RunResult, redactor: Redactor | None = None) -> bytes:
    """The JUnit document as UTF-8 bytes with an XML declaration."""
    buffer = io.BytesIO()
    junit_tree(run, redactor).write(buffer, encoding="utf-8", xml_declaration=True)
    return buffer.getvalue() + b"\n"


def write_junit(run: RunResult, path: Path | str, redactor: Redactor | None = None) -> None:
    """Write the JUnit report atomically."""
    atomic_write_bytes(path, render_junit(run, redactor))


class JUnitReportWriter:
    """``--report-junit FILE``."""

    name = "junit"
    description = "write a JUnit XML report (a testsuite per scenario, a testcase per step)"

    def write(self, run: RunResult, path: Path, redactor: Redactor) -> None:
        """Write the JUnit report."""
        write_junit(run, path, redactor)
