"""The simulator's runner plugin: cheap to load, qualities named as the matchers name
them, and stream and completion faults that the runner sees as it should."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mxgw_runner.engine.state import StepUsageError
from mxgw_sim.runner_steps.runs import quality_code

ROOT = Path(__file__).resolve().parents[2]
MXGW_RUN = str(Path(sys.executable).with_name("mxgw-run"))


def mxgw_run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MXGW_RUN, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_loading_the_plugin_and_validating_sim_steps_never_imports_grpc() -> None:
    code = textwrap.dedent(
        """
        import sys
        from mxgw_runner.cli import main
        code = main(["scenarios/fault-quality.mxgw.yaml", "--validate"])
        loaded = [m for m in sys.modules if m == "grpc" or m.startswith("grpc.")]
        print(code, "sim_steps_loaded" if "mxgw_sim.runner_steps" in sys.modules else "", loaded)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.splitlines()[-1] == "0 sim_steps_loaded []"


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        ("good", 192),
        ("uncertain", 64),
        ("bad", 0),
        ("sensor-failure", 16),
        ("out-of-service", 28),
        (28, 28),
        ("192", 192),
    ],
)
def test_qualities_are_named_as_expectations_name_them(spec: object, code: int) -> None:
    assert quality_code(spec) == code


def test_an_unknown_quality_is_a_usage_error() -> None:
    with pytest.raises(StepUsageError, match="unknown quality 'broken'"):
        quality_code("broken")


def test_dropped_streams_resume_and_dropped_completions_fail_the_write(tmp_path: Path) -> None:
    scenario = tmp_path / "drop.yaml"
    scenario.write_text(
        textwrap.dedent(
            """
            steps:
              - open-session: {}
              - register: {}
              - add-item: {item: Pump102.Free, as: free}
              - advise: free
              - expect-event: {item: free, data-change: {value: 0}}
              - sim-drop-streams: {}
              - sim-set-value: {reference: Pump102.Free, value: 7}
              - expect-event: {item: free, data-change: {value: 7}, within: 5s}
              - sim-drop-write-completions: {}
              - write: {item: free, value: 8, within: 1s}
            """
        ),
        encoding="utf-8",
    )
    done = mxgw_run(scenario, "--simulate")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "✓ 08 expect-event free" in done.stdout
    assert "no write completion for free within 1 s" in done.stdout
    assert "the event stream dropped and was resumed 1 time(s)" in done.stdout
    assert "✓ cleanup sim deliver write completions session-" in done.stdout
