"""A gateway that wants an API key, reached without one: the message says what to give."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mxgw_sim.testing import SimProcess
from tests.e2e.support import ROOT, env_with, run_cli

SMOKE = ROOT / "scenarios" / "smoke.mxgw.yaml"


def test_mxgw_run_without_a_key_names_the_option_that_gives_one(sim: SimProcess) -> None:
    result = run_cli(SMOKE, "--endpoint", sim.endpoint, "--plaintext")
    assert result.code == 3
    assert "UNAUTHENTICATED" in result.stdout
    assert "--api-key-env NAME" in result.stdout


def test_under_pytest_the_hint_names_the_pytest_option(sim: SimProcess, tmp_path: Path) -> None:
    scenario = tmp_path / "smoke.mxgw.yaml"
    scenario.write_text(SMOKE.read_text(encoding="utf-8"), encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(scenario),
            "-q",
            "-p",
            "no:cacheprovider",
            "--mxgw-endpoint",
            sim.endpoint,
            "--mxgw-plaintext",
        ],
        cwd=tmp_path,
        env=env_with(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "--mxgw-api-key-env NAME" in done.stdout
    assert " --api-key-env" not in done.stdout
