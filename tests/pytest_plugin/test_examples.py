"""``pytest scenarios/ --mxgw-simulate``: the examples pass, alone or spread over workers."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from .support import SCENARIOS, examples, pytest_env, run_pytest


def test_the_examples_pass_against_the_embedded_simulator_on_two_workers(tmp_path: Path) -> None:
    # ``--mxgw-simulate scenarios/``: the directory is a path to test, not a galaxy file.
    # Each xdist worker starts (and stops) a simulator of its own.
    junit = tmp_path / "junit.xml"
    result = run_pytest(
        "-n", "2", "-v", f"--junitxml={junit}", "--mxgw-assume-yes", "--mxgw-simulate", "scenarios/"
    )
    assert result.code == 0, result.output
    nodes = examples()
    assert len(nodes) >= 5
    for node in nodes:
        assert re.search(rf"PASSED {re.escape(node)} *$", result.stdout, re.MULTILINE), node
    assert re.search(rf"\b{len(nodes)} passed\b", result.stdout), result.stdout
    assert "[gw0] " in result.stdout and "[gw1] " in result.stdout  # both workers ran some
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == (
        str(len(nodes)),
        "0",
        "0",
    )
    names = sorted(case.get("name", "") for case in suite.iter("testcase"))
    assert names == sorted(data["name"] for data in nodes.values())


SECRET = "s3cr3t-4711"
SECRET_SCENARIO = """\
name: a secret in an expectation
vars:
  code: ${secret-env:MXGW_TEST_SECRET}
steps:
  - open-session: {}
  - register: {}
  - add-item: {item: Pump101.Mode, as: mode}
  - advise: mode
  - expect-event: {item: mode, data-change: {value: "${code}"}, within: 300ms}
"""


def test_failing_scenarios_show_the_step_at_its_line_and_no_secret(tmp_path: Path) -> None:
    source = (SCENARIOS / "failing" / "fails-on-purpose.yaml").read_text(encoding="utf-8")
    (tmp_path / "fails.mxgw.yaml").write_text(source, encoding="utf-8")
    shutil.copy(SCENARIOS / "smoke.mxgw.yaml", tmp_path / "smoke.mxgw.yaml")
    step_lines = [n + 1 for n, text in enumerate(source.splitlines()) if text.startswith("  - ")]
    line = step_lines[4]  # the fifth step, the expectation that cannot hold
    (tmp_path / "secret.mxgw.yaml").write_text(SECRET_SCENARIO, encoding="utf-8")
    junit = tmp_path / "junit.xml"
    env = pytest_env({"MXGW_TEST_SECRET": SECRET})
    result = run_pytest("--mxgw-simulate", "-v", f"--junitxml={junit}", cwd=tmp_path, env=env)
    assert result.code == 1, result.output
    out = result.stdout
    assert "2 failed, 1 passed" in out
    assert "expected: data-change of mode with value '***'" in out
    assert SECRET not in result.output and SECRET not in junit.read_text(encoding="utf-8")
    assert "smoke.mxgw.yaml::Smoke test against the default galaxy PASSED" in out
    assert f"fails.mxgw.yaml:{line}: after 1 s: no matching data-change" in out
    assert "expected: data-change of mode with value 99" in out
    assert "recent events of the item:" in out  # the timeline, with -v
    assert "cleanup close-session" in out
    assert "Traceback" not in out and "pytest_support" not in out
    failures = [f.get("message", "") for f in ET.parse(junit).getroot().iter("failure")]
    assert any(m.startswith(f"fails.mxgw.yaml:{line}: 05 expect-event:") for m in failures)
