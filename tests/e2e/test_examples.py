"""The example scenarios in ``scenarios/``: every one passes, the failing ones fail on purpose."""

from __future__ import annotations

from pathlib import Path

from .support import ROOT, run_cli

SCENARIOS = ROOT / "scenarios"


def test_every_example_passes_against_the_embedded_simulator(tmp_path: Path) -> None:
    result = run_cli(SCENARIOS, "--simulate", "--assume-yes", report=tmp_path / "report.json")
    assert result.code == 0, result.output
    assert result.report is not None
    files = sorted(Path(s["file"]).name for s in result.report["scenarios"])
    assert files == sorted(p.name for p in SCENARIOS.glob("*.yaml"))
    assert len(files) >= 5
    assert {s["status"] for s in result.report["scenarios"]} == {"passed"}


def test_smoke_prints_a_readable_run() -> None:
    result = run_cli("scenarios/smoke.mxgw.yaml", "--simulate")
    assert result.code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "scenarios/smoke.mxgw.yaml — Smoke test against the default galaxy"
    assert any("01 open-session" in line for line in lines)
    assert any("expect-event" in line for line in lines)
    assert lines[-1] == "1 scenario: 1 passed (exit code 0)"
    assert result.stderr == ""


def test_failing_examples_fail_with_exit_code_1(tmp_path: Path) -> None:
    result = run_cli(SCENARIOS / "failing", "--simulate", report=tmp_path / "report.json")
    assert result.code == 1, result.output
    assert result.report is not None
    assert {s["status"] for s in result.report["scenarios"]} == {"failed"}
    assert "closest:" in result.stdout
