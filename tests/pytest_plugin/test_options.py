"""Options that refuse scenarios before they run: --mxgw-read-only, a bad galaxy file."""

from __future__ import annotations

import shutil
from pathlib import Path

from .support import SCENARIOS, run_pytest


def test_read_only_fails_writing_scenarios_without_running_them(tmp_path: Path) -> None:
    shutil.copy(SCENARIOS / "write-readback.mxgw.yaml", tmp_path / "writes.mxgw.yaml")
    # Nothing listens on port 1: a scenario that tried to run would fail differently.
    result = run_pytest("--mxgw-read-only", "--mxgw-endpoint", "127.0.0.1:1", cwd=tmp_path)
    assert result.code == 1, result.output
    assert "step 7 write: --mxgw-read-only refuses scenarios that write" in result.stdout
    assert "the scenario was not run" in result.stdout
    assert "cannot connect" not in result.stdout


def test_a_galaxy_file_with_mistakes_fails_the_scenarios_with_its_locations(
    tmp_path: Path,
) -> None:
    shutil.copy(SCENARIOS / "smoke.mxgw.yaml", tmp_path / "smoke.mxgw.yaml")
    (tmp_path / "galaxy.yaml").write_text("version: 1\nareas: 5\n", encoding="utf-8")
    result = run_pytest("--mxgw-simulate", "galaxy.yaml", cwd=tmp_path)
    assert result.code == 1, result.output
    assert "galaxy.yaml:2:8: areas: 5 is not of type 'array'" in result.stdout
    assert "--mxgw-simulate: invalid galaxy file" in result.stdout
    missing = run_pytest("--mxgw-simulate", "nowhere.yaml", cwd=tmp_path)
    assert missing.code == 4, missing.output
    assert "--mxgw-simulate nowhere.yaml: no such galaxy file" in missing.output
