"""What a new user types in the first minutes, run against the real ``mxgw-run`` executable."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from tests.e2e.support import MXGW_RUN, ROOT, run_cli


@pytest.mark.parametrize(
    "args",
    [
        ["--plan", "scenarios/"],
        ["--list-steps"],
        ["--print-schema"],
    ],
)
def test_output_piped_into_a_closed_reader_ends_quietly(args: list[str]) -> None:
    """``mxgw-run --plan scenarios/ | head`` must not end in a BrokenPipeError traceback."""
    proc = subprocess.Popen(
        [MXGW_RUN, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line is written
    stderr = proc.stderr.read()
    code = proc.wait(timeout=30)
    assert "Traceback" not in stderr
    assert "BrokenPipeError" not in stderr
    assert code == 0


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_an_unreachable_gateway_names_the_options_to_check() -> None:
    endpoint = f"127.0.0.1:{_closed_port()}"
    result = run_cli(
        ROOT / "scenarios" / "smoke.mxgw.yaml", "--endpoint", endpoint, "--connect-timeout", "1"
    )
    assert result.code == 3
    assert (
        f"  ERROR: cannot connect: UNAVAILABLE (connect): cannot reach the gateway at {endpoint}"
        in result.stdout
    )
    assert "(--plaintext or --tls, --ca-file, --server-name-override)" in result.stdout
    assert "ERROR in 0 ms" not in result.stdout  # it never started: no duration to give


def test_a_missing_scenario_after_simulate_is_said_to_be_missing(tmp_path: Path) -> None:
    # it said "the following arguments are required: SCENARIO_OR_DIR"
    result = run_cli("--simulate", "smoke.yml", cwd=tmp_path)
    assert result.code == 2
    assert "smoke.yml: no such file or directory" in result.stderr
    assert "required" not in result.stderr
