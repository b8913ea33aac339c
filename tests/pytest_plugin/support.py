"""Running pytest itself in a subprocess, as a user runs it on scenario files."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mxgw_sim.testing import USER_KEY

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
KEY_ENV = "MXGW_TEST_API_KEY"
#: Passwords of the default galaxy's users, which the secured-write example reads.
PASSWORDS = {"MXGW_OPERATOR_PASSWORD": "operator2", "MXGW_SUPERVISOR_PASSWORD": "supervisor1"}
#: Options every inner run gets: no cache written into the tree, no warning about an unset
#: option, and not the hypothesis plugin (a second of start-up no scenario needs).
BASE_ARGS = [
    "-p",
    "no:cacheprovider",
    "-p",
    "no:hypothesispytest",
    "-o",
    "asyncio_default_fixture_loop_scope=function",
]


@dataclass
class PytestRun:
    """Exit code and output of one inner pytest run."""

    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """stdout and stderr together."""
        return self.stdout + self.stderr


def pytest_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of an inner run: the passwords and the API key, no stray options."""
    env = {**os.environ, **PASSWORDS, KEY_ENV: USER_KEY, "COLUMNS": "200"}
    for name in ("MXGATEWAY_ENDPOINT", "PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER"):
        env.pop(name, None)
    if extra:
        env.update(extra)
    return env


def run_pytest(
    *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None, timeout: float = 120.0
) -> PytestRun:
    """``python -m pytest ARGS`` in ``cwd``, to completion."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *BASE_ARGS, *args],
        cwd=cwd,
        env=env if env is not None else pytest_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return PytestRun(done.returncode, done.stdout, done.stderr)


def examples() -> dict[str, dict[str, Any]]:
    """Each example scenario's node id (relative to the repository) and its YAML."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(SCENARIOS.glob("*.mxgw.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        out[f"scenarios/{path.name}::{data['name']}"] = data
    return out
