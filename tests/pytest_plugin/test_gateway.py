"""The plugin against a real ``mxgw-sim`` process: options, API key, Ctrl-C, no leaks."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mxgw_sim.testing import ADMIN_KEY, SimProcess

from .support import BASE_ARGS, KEY_ENV, examples, pytest_env, run_pytest


def gateway_args(sim: SimProcess) -> list[str]:
    """Options pointing the plugin at the shared simulator."""
    return ["--mxgw-endpoint", sim.endpoint, "--mxgw-plaintext", "--mxgw-api-key-env", KEY_ENV]


@pytest.mark.usefixtures("no_leaked_sessions")
def test_the_examples_pass_against_a_simulator_process(sim: SimProcess) -> None:
    # The admin key: the fault examples drive the simulator's control service too.
    result = run_pytest(
        "scenarios/",
        *gateway_args(sim),
        "--mxgw-assume-yes",
        "-rA",
        env=pytest_env({KEY_ENV: ADMIN_KEY}),
    )
    assert result.code == 0, result.output
    assert re.search(rf"\b{len(examples())} passed\b", result.stdout), result.stdout
    assert ADMIN_KEY not in result.output


def test_a_wrong_api_key_fails_the_scenario_without_showing_the_key(
    sim: SimProcess, tmp_path: Path
) -> None:
    wrong = "mxgw_user_not_a_key_0000000000"
    result = run_pytest(
        "scenarios/smoke.mxgw.yaml",
        *gateway_args(sim),
        env=pytest_env({KEY_ENV: wrong}),
    )
    assert result.code == 1, result.output
    assert "1 failed" in result.stdout
    assert "ERROR in" in result.stdout  # the runner's outcome line: could not check
    assert wrong not in result.output and "Traceback" not in result.output


def test_bad_connection_options_are_usage_errors_naming_the_option() -> None:
    # With xdist too: refused before any worker starts, not an internal error of a worker.
    result = run_pytest("-n", "2", "scenarios/", "--mxgw-endpoint", "no-port-here")
    assert result.code == 4, result.output  # pytest's usage error
    assert "INTERNALERROR" not in result.output
    assert "--mxgw-endpoint: 'no-port-here' is not HOST:PORT" in result.output
    unset = run_pytest(
        "scenarios/smoke.mxgw.yaml", "--mxgw-endpoint", "127.0.0.1:1", "--mxgw-api-key-env", "NOPE"
    )
    assert unset.code == 4, unset.output
    assert "--mxgw-api-key-env: environment variable NOPE is not set" in unset.output


@pytest.mark.usefixtures("no_leaked_sessions")
def test_ctrl_c_stops_the_scenario_and_its_cleanup_closes_the_session(
    sim: SimProcess, tmp_path: Path
) -> None:
    (tmp_path / "long.mxgw.yaml").write_text(
        "name: a long wait\nsteps:\n  - open-session: {}\n  - wait: 60s\n", encoding="utf-8"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", *BASE_ARGS, *gateway_args(sim)],
        cwd=tmp_path,
        env=pytest_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        opened = sim.wait_for_sessions(1, ADMIN_KEY, timeout=30.0)
        if len(opened) != 1:
            process.kill()
            pytest.fail(f"no session opened: {process.communicate()[0]}")
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 2, output  # pytest: interrupted
    assert "KeyboardInterrupt: SIGINT while running long.mxgw.yaml; its cleanup ran" in output
