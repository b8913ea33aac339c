"""The simulator's ``sim-*`` steps through the real ``mxgw-run``: against ``--simulate``
and a real ``mxgw-sim`` process, their changes undone by cleanup, and clear errors
where no control service answers."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest

from mxgw_sim.testing import ADMIN_KEY, SimProcess

from .support import KEY_ENV, run_cli, scenario_file, sim_args

ADMIN_ENV = "MXGW_TEST_ADMIN_KEY"


def test_the_fault_scenario_passes_against_simulate(tmp_path: Path) -> None:
    done = run_cli("scenarios/fault-quality.mxgw.yaml", "--simulate", report=tmp_path / "r.json")
    assert done.code == 0, done.output
    cleanup = done.scenario()["cleanup"]
    actions = [entry["action"] for entry in cleanup]
    assert "sim restore quality" in actions and "sim latency off" in actions
    assert all(entry["status"] == "passed" for entry in cleanup), cleanup


CHANGES = """
    timeouts: {step: 10s, cleanup: 10s}
    steps:
      - open-session: {client-session-name: faults}
      - register: {}
      - add-item: {item: Pump102.Free, as: free}
      - advise: free
      - expect-event: {item: free, data-change: {value: 0}}
      - sim-set-value: {reference: Pump102.Free, value: 41, quality: uncertain}
      - expect-event: {item: free, data-change: {value: 41, quality: uncertain}}
      - sim-set-quality: {reference: Pump101.Motor.Current, quality: sensor-failure}
      - sim-set-scan: {object: Pump103, state: "on"}
      - sim-latency: {commands: 3s, session: all}
      - sim-drop-write-completions: {session: all}
"""

# Every change above undone: a 2 s step timeout fails if 3 s of latency is left, and a
# write waits for its completion, which fails if completions are still dropped.
RESTORED = """
    timeouts: {step: 2s, cleanup: 2s}
    steps:
      - open-session: {client-session-name: check}
      - register: {}
      - add-item: {item: Pump102.Free, as: free}
      - add-item: {item: Pump101.Motor.Current, as: current}
      - add-item: {item: Pump103.Speed.SP, as: offscan}
      - advise: [free, current, offscan]
      - expect-event: {item: free, data-change: {value: 0, quality: good}}
      - expect-event: {item: current, data-change: {value: 12.5, quality: good}}
      - expect-event: {item: offscan, data-change: {quality: 28}}
      - write: {item: free, value: 3, restore: true}
"""


def test_cleanup_undoes_every_change_and_leaves_no_session(
    sim: SimProcess, no_leaked_sessions: None, tmp_path: Path
) -> None:
    env = {KEY_ENV: ADMIN_KEY}
    changes = scenario_file(tmp_path, "changes.yaml", CHANGES)
    done = run_cli(changes, *sim_args(sim), env=env, report=tmp_path / "changes.json")
    assert done.code == 0, done.output
    undone = [(e["action"], e["status"]) for e in done.scenario()["cleanup"]]
    assert undone[:5] == [
        ("sim deliver write completions", "passed"),
        ("sim latency off", "passed"),
        ("sim scan off", "passed"),
        ("sim restore quality", "passed"),
        ("sim restore value", "passed"),
    ]
    restored = scenario_file(tmp_path, "restored.yaml", RESTORED)
    check = run_cli(restored, *sim_args(sim), env=env)
    assert check.code == 0, check.output


def test_restore_false_leaves_the_change(
    sim: SimProcess, no_leaked_sessions: None, tmp_path: Path
) -> None:
    env = {KEY_ENV: ADMIN_KEY}
    changes = scenario_file(
        tmp_path,
        "keep.yaml",
        """
        steps:
          - sim-set-value: {reference: Pump102.Operate, value: 9, restore: false}
        """,
    )
    assert run_cli(changes, *sim_args(sim), env=env).code == 0
    check = scenario_file(
        tmp_path,
        "check.yaml",
        """
        steps:
          - open-session: {}
          - register: {}
          - add-item: {item: Pump102.Operate, as: op}
          - read: {item: op, value: 9}
        """,
    )
    assert run_cli(check, *sim_args(sim), env=env).code == 0


def test_a_control_block_names_the_simulator_and_its_key(
    sim: SimProcess, no_leaked_sessions: None, tmp_path: Path
) -> None:
    body = "{reference: Pump102.Free, quality: bad}"
    without = scenario_file(tmp_path, "without.yaml", f"steps:\n  - sim-set-quality: {body}\n")
    refused = run_cli(without, *sim_args(sim))  # the run's key is a user key, not admin
    assert refused.code == 3, refused.output
    assert "sim-* steps need a key with the admin scope" in refused.stdout
    assert ADMIN_KEY not in refused.output
    control = f"{{endpoint: '{sim.endpoint}', api-key-env: {ADMIN_ENV}}}"
    with_block = scenario_file(
        tmp_path,
        "with.yaml",
        f"""
        steps:
          - sim-set-quality: {{reference: Pump102.Free, quality: bad, control: {control}}}
        """,
    )
    done = run_cli(with_block, *sim_args(sim), env={ADMIN_ENV: ADMIN_KEY})
    assert done.code == 0, done.output
    assert "cleanup sim restore quality Pump102.Free" in done.stdout


@pytest.fixture
def bare_grpc_server() -> Iterator[str]:
    """A real gRPC server on loopback that offers no service at all (like a gateway
    without the simulator's control service, every call is UNIMPLEMENTED)."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(None)


def test_a_server_without_the_control_service_is_a_clear_usage_error(
    bare_grpc_server: str, tmp_path: Path
) -> None:
    scenario = scenario_file(
        tmp_path, "s.yaml", "steps:\n  - sim-set-scan: {object: P, state: off}\n"
    )
    done = run_cli(scenario, "--endpoint", bare_grpc_server, "--plaintext")
    assert done.code == 2, done.output
    assert f"sim-* steps need mxgw-sim's control service at {bare_grpc_server}" in done.stdout
    assert "Traceback" not in done.output
    block = scenario_file(
        tmp_path,
        "block.yaml",
        f"steps:\n  - sim-reset: {{control: {{endpoint: '{bare_grpc_server}'}}}}\n",
    )
    done = run_cli(block, "--simulate")
    assert done.code == 2, done.output
    assert f"control service at {bare_grpc_server}" in done.stdout


def test_mistakes_in_sim_steps_are_located(tmp_path: Path) -> None:
    scenario = scenario_file(
        tmp_path,
        "bad.yaml",
        """
        steps:
          - sim-set-quality: {reference: Pump101.Speed.PV}
          - sim-latency: {commands: soon}
          - sim-set-scan: {object: Pump101, state: maybe}
        """,
    )
    done = run_cli(scenario, "--validate")
    assert done.code == 2
    assert f"{scenario}:2:22: steps[0].sim-set-quality: missing required key 'quality'" in (
        done.stderr
    )
    assert f"{scenario}:3:29: steps[1].sim-latency.commands: must be a duration" in done.stderr
    assert f"{scenario}:4:44: steps[2].sim-set-scan.state:" in done.stderr


def test_session_steps_need_a_session_and_an_unknown_reference_is_named(tmp_path: Path) -> None:
    scenario = scenario_file(tmp_path, "s.yaml", "steps:\n  - sim-kill-worker: {}\n")
    done = run_cli(scenario, "--simulate")
    assert done.code == 2, done.output
    assert "session: current needs an open session" in done.stdout
    unknown = scenario_file(
        tmp_path, "u.yaml", "steps:\n  - sim-set-scan: {object: NoSuchPump, state: off}\n"
    )
    done = run_cli(unknown, "--simulate")
    assert done.code == 2, done.output
    assert "refused SetScan: no object 'NoSuchPump'" in done.stdout


def test_a_killed_worker_faults_the_scenario_session(tmp_path: Path) -> None:
    scenario = scenario_file(
        tmp_path,
        "kill.yaml",
        """
        steps:
          - open-session: {}
          - register: {}
          - sim-kill-worker: {}
          - add-item: Pump101.Speed.PV
        """,
    )
    done = run_cli(scenario, "--simulate", report=tmp_path / "r.json")
    steps = done.steps()
    assert steps[2]["status"] == "passed", done.output
    assert steps[3]["status"] == "error", done.output
    assert done.code == 3, done.output
