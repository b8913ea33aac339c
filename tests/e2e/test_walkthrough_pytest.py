"""Runner hints under pytest name the pytest plugin's options, which are the ones to type."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e.support import env_with

CONFIRM = """\
version: 1
name: panel check
steps:
  - confirm: Does the local panel show AUTO mode?
"""


def test_an_unanswered_confirm_points_at_mxgw_assume_yes(tmp_path: Path) -> None:
    (tmp_path / "panel.mxgw.yaml").write_text(CONFIRM, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "panel.mxgw.yaml", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=env_with(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "run with --mxgw-assume-yes for unattended runs" in done.stdout
    assert " --assume-yes" not in done.stdout
