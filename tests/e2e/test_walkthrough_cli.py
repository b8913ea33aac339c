"""What a new user types in the first minutes, run against the real ``mxgw-run`` executable."""

from __future__ import annotations

import subprocess

import pytest

from tests.e2e.support import MXGW_RUN, ROOT


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
