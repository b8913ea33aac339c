"""Collection: which files become tests, their names and marks, and located load errors."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from .support import ROOT, SCENARIOS, examples, run_pytest


def collected(output: str) -> list[str]:
    """The node ids ``--collect-only -q`` printed."""
    return [line for line in output.splitlines() if "::" in line]


def test_every_example_is_one_test_named_by_its_scenario() -> None:
    result = run_pytest("scenarios/", "--collect-only", "-q")
    assert result.code == 0, result.output
    assert collected(result.stdout) == sorted(examples())
    assert "fails-on-purpose" not in result.output  # scenarios/failing/ keeps plain .yaml


def test_tags_are_marks_that_strict_markers_accepts() -> None:
    result = run_pytest("scenarios/", "--collect-only", "-q", "--strict-markers", "-m", "smoke")
    assert result.code == 0, result.output
    expected = [node for node, data in examples().items() if "smoke" in data["tags"]]
    assert expected and collected(result.stdout) == expected


def test_keywords_select_by_scenario_name() -> None:
    result = run_pytest("scenarios/", "--collect-only", "-q", "-k", "pump or valve")
    assert result.code == 0, result.output
    expected = [node for node in examples() if "pump" in node.lower() or "valve" in node.lower()]
    assert expected and collected(result.stdout) == expected


def test_a_plain_yaml_scenario_named_on_the_command_line_is_collected() -> None:
    result = run_pytest("scenarios/failing/fails-on-purpose.yaml", "--collect-only", "-q")
    assert result.code == 0, result.output
    assert collected(result.stdout) == [
        "scenarios/failing/fails-on-purpose.yaml::Fails on purpose (CI expects exit code 1)"
    ]


def test_an_invalid_step_is_a_collection_error_at_its_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "bad.mxgw.yaml").write_text(
        "name: typo\nsteps:\n  - open-session: {}\n  - writ: {item: X, value: 1}\n",
        encoding="utf-8",
    )
    shutil.copy(SCENARIOS / "smoke.mxgw.yaml", tmp_path / "good.mxgw.yaml")
    result = run_pytest("--collect-only", "-q", cwd=tmp_path)
    assert result.code == 2, result.output  # pytest: interrupted by collection errors
    assert "ERROR collecting bad.mxgw.yaml" in result.stdout
    assert "bad.mxgw.yaml:4:5: " in result.stdout and "did you mean 'write'" in result.stdout
    assert "Traceback" not in result.output and "mxgw_runner/" not in result.output


def test_the_mxgw_files_ini_option_names_other_patterns(tmp_path: Path) -> None:
    shutil.copy(SCENARIOS / "smoke.mxgw.yaml", tmp_path / "check_smoke.yaml")
    (tmp_path / "galaxy.yaml").write_text("version: 1\nareas: []\n", encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\nmxgw_files = check_*.yaml\n", encoding="utf-8")
    result = run_pytest("--collect-only", "-q", cwd=tmp_path)
    assert result.code == 0, result.output
    assert collected(result.stdout) == ["check_smoke.yaml::Smoke test against the default galaxy"]


def test_importing_the_plugin_imports_neither_grpc_nor_the_runner() -> None:
    code = (
        "import sys, mxgw_runner.pytest_plugin\n"
        "heavy = [m for m in ('grpc', 'mxgw_runner.loader', 'mxgw_runner.engine', 'yaml')"
        " if m in sys.modules]\n"
        "print(heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_variables_and_plugins_come_from_the_mxgw_options(tmp_path: Path) -> None:
    (tmp_path / "item.mxgw.yaml").write_text(
        "name: reads ${tag}\nsteps:\n  - wait: 1ms\n", encoding="utf-8"
    )
    result = run_pytest("--collect-only", "-q", "--mxgw-var", "tag=Pump7.PV", cwd=tmp_path)
    assert result.code == 0, result.output
    assert collected(result.stdout) == ["item.mxgw.yaml::reads Pump7.PV"]
    missing = run_pytest("--collect-only", "-q", cwd=tmp_path)
    assert missing.code == 2, missing.output
    assert "item.mxgw.yaml:1:7: name: unknown variable ${tag}" in missing.stdout
    assert missing.stdout.count("unknown variable") == 1
    plugin = run_pytest("--collect-only", "-q", "--mxgw-plugin", "no_such_module", cwd=tmp_path)
    assert plugin.code == 2, plugin.output
    assert "--mxgw-plugin: " in plugin.stdout and "no_such_module" in plugin.stdout
    assert "Traceback" not in plugin.output
