"""``mxgw-run --jobs N`` against a real simulator process: scenarios overlap, each in its own
session, every session is closed, the reports keep the input order and the console prints
each scenario as one block."""

from __future__ import annotations

import os
import re
import selectors
import signal
import time
from collections.abc import Callable
from pathlib import Path

from google.protobuf.duration_pb2 import Duration

from mxgw_sim.generated import mxgw_sim_control_pb2 as cpb
from mxgw_sim.testing import ADMIN_KEY, SimProcess

from .support import LiveRun, control, run_cli, scenario_file, sim_args

#: Holds its session open for a moment, so scenarios run with --jobs overlap.
HOLDING = """
    name: job {n}
    steps:
      - open-session: {{client-session-name: {client}}}
      - register: {{}}
      - add-item: {{item: Pump101.Speed.PV, as: pv}}
      - advise: pv
      - expect-event: {{item: pv, data-change: {{quality: good}}}}
      - wait: {hold}
"""

#: Never gets the value it waits for: stays in its expect-event until interrupted.
STUCK = """
    name: stuck {n}
    timeouts: {{step: 60s, cleanup: 10s}}
    steps:
      - open-session: {{client-session-name: {client}}}
      - register: {{}}
      - add-item: {{item: Pump101.Speed.PV, as: pv}}
      - advise: pv
      - expect-event: {{item: pv, data-change: {{value: -12345}}, within: 60s}}
"""


def _ours(sim: SimProcess, client: str) -> list[cpb.SessionInfo]:
    return [s for s in sim.list_sessions(ADMIN_KEY) if s.client_name == client]


def _watch_peak(sim: SimProcess, client: str, run: LiveRun, timeout: float = 60.0) -> int:
    """The most sessions of ``client`` seen open at once while ``run`` is going."""
    peak = 0
    deadline = time.monotonic() + timeout
    while run.process.poll() is None:
        assert time.monotonic() < deadline, "mxgw-run still going"
        peak = max(peak, len(_ours(sim, client)))
        time.sleep(0.02)  # sampling the session count, not waiting for an outcome
    return peak


def _start_stuck_run(
    sim: SimProcess,
    live_run: Callable[..., LiveRun],
    folder: Path,
    client: str,
    count: int,
    jobs: int,
) -> LiveRun:
    """Run ``count`` STUCK scenarios with ``jobs`` jobs; return once ``jobs`` of them wait."""
    for n in range(count):
        scenario_file(folder / "s", f"s{n}.yaml", STUCK.format(n=n, client=client))
    run = live_run(folder / "s", *sim_args(sim), "--jobs", str(jobs), report=folder / "r.json")
    deadline = time.monotonic() + 30
    while sum(s.advised for s in _ours(sim, client)) < jobs:
        assert run.process.poll() is None, run.finish().output
        assert time.monotonic() < deadline, "the scenarios never reached their wait"
        time.sleep(0.02)
    return run


def _blocks(stdout: str) -> list[list[str]]:
    """The console's scenario blocks: a header line and the indented lines under it."""
    blocks: list[list[str]] = []
    for line in stdout.splitlines():
        if line and not line.startswith(" "):
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
    return [b for b in blocks if " — " in b[0]]


def test_four_jobs_over_eight_scenarios_overlap_and_close_every_session(
    sim: SimProcess,
    no_leaked_sessions: None,
    live_run: Callable[..., LiveRun],
    tmp_path: Path,
) -> None:
    client = "jobs-overlap"
    for n in range(8):
        text = HOLDING.format(n=n, client=client, hold="400ms")
        scenario_file(tmp_path / "s", f"s{n}.yaml", text)
    run = live_run(tmp_path / "s", *sim_args(sim), "--jobs", "4", report=tmp_path / "r.json")
    peak = _watch_peak(sim, client, run)
    result = run.finish()

    assert result.code == 0, result.output
    assert 1 < peak <= 4  # really at once, and never more than --jobs
    assert _ours(sim, client) == []
    assert result.report is not None
    scenarios = result.report["scenarios"]
    assert [s["name"] for s in scenarios] == [f"job {n}" for n in range(8)]
    assert {s["status"] for s in scenarios} == {"passed"}
    assert all(s["cleanup"][-1]["action"] == "close-session" for s in scenarios)
    # Each scenario's lines come as one block: header, its steps, cleanup, outcome.
    blocks = _blocks(result.stdout)
    assert len(blocks) == 8
    for block in blocks:
        n = re.search(r"job (\d)", block[0])
        assert n is not None, block
        assert block[-1].strip().startswith("PASSED in"), block
        assert sum("open-session" in line for line in block) == 1
        assert sum(line.strip().startswith("✓ 0") for line in block) == 6, block
    assert result.stdout.splitlines()[-1] == "8 scenarios: 8 passed (exit code 0)"


def test_fail_fast_with_jobs_lets_running_scenarios_finish_and_starts_no_more(
    sim: SimProcess, no_leaked_sessions: None, tmp_path: Path
) -> None:
    client = "jobs-fail-fast"
    failing = """
        name: fails at once
        steps:
          - open-session: {client-session-name: jobs-fail-fast}
          - register: {}
          - add-item: {item: Pump101.Speed.PV, as: pv}
          - advise: pv
          - expect-event: {item: pv, data-change: {value: -12345}, within: 50ms}
    """
    scenario_file(tmp_path, "a.yaml", failing)
    scenario_file(tmp_path, "b.yaml", HOLDING.format(n=1, client=client, hold="1s"))
    scenario_file(tmp_path, "c.yaml", HOLDING.format(n=2, client=client, hold="1ms"))
    scenario_file(tmp_path, "d.yaml", HOLDING.format(n=3, client=client, hold="1ms"))
    paths = [tmp_path / f"{x}.yaml" for x in "abcd"]
    result = run_cli(
        *paths, *sim_args(sim), "--jobs", "2", "--fail-fast", report=tmp_path / "r.json"
    )

    assert result.code == 1, result.output
    statuses = [s["status"] for s in result.report["scenarios"]] if result.report else []
    assert statuses == ["failed", "passed", "skipped", "skipped"]
    skipped = result.scenario(2)
    assert skipped["message"] == "not run: --fail-fast after a failure"
    assert [c["status"] for c in result.scenario(1)["cleanup"]] == ["passed"] * 4
    assert _ours(sim, client) == []


def test_sigint_interrupts_every_running_scenario_and_cleans_up_all(
    sim: SimProcess,
    no_leaked_sessions: None,
    live_run: Callable[..., LiveRun],
    tmp_path: Path,
) -> None:
    client = "jobs-sigint"
    # Wait until three scenarios are in their wait (advised), then interrupt.
    run = _start_stuck_run(sim, live_run, tmp_path, client, count=4, jobs=3)
    run.signal(signal.SIGINT)
    result = run.finish()

    assert result.code == 130, result.output
    assert result.report is not None
    assert result.report["interrupted-by"] == "SIGINT"
    scenarios = result.report["scenarios"]
    assert [s["status"] for s in scenarios] == ["interrupted"] * 3 + ["skipped"]
    assert scenarios[3]["message"] == "not run: interrupted by SIGINT"
    for scenario in scenarios[:3]:
        assert scenario["steps"][4]["status"] == "interrupted"
        actions = [(c["action"], c["status"]) for c in scenario["cleanup"]]
        assert actions == [
            ("unadvise", "passed"),
            ("remove-item", "passed"),
            ("unregister", "passed"),
            ("close-session", "passed"),
        ]
    assert _ours(sim, client) == []
    assert result.stdout.count("interrupted by SIGINT") >= 3


def _wait_for_stderr(run: LiveRun, needle: str, timeout: float = 30.0) -> str:
    """Block until the run's stderr shows ``needle``; returns what it printed so far."""
    stream = run.process.stderr
    assert stream is not None
    seen = b""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while needle.encode() not in seen:
            remaining = deadline - time.monotonic()
            assert remaining > 0 and selector.select(remaining), seen.decode()
            chunk = os.read(stream.fileno(), 65536)
            assert chunk, f"mxgw-run ended before {needle!r}: {seen.decode()}"
            seen += chunk
    return seen.decode()


def test_second_ctrl_c_abandons_the_cleanup_of_every_running_scenario(
    sim_factory: Callable[..., SimProcess],
    live_run: Callable[..., LiveRun],
    tmp_path: Path,
) -> None:
    sim = sim_factory()
    client = "jobs-abandon"
    run = _start_stuck_run(sim, live_run, tmp_path, client, count=2, jobs=2)
    # Every command now takes 5 s, so both cleanups are still at their first undo...
    control(sim, "SetLatency", cpb.SetLatencyRequest(command_latency=Duration(seconds=5)))
    run.signal(signal.SIGINT)
    said = _wait_for_stderr(run, "SIGINT: stopping")
    assert "2 running scenario(s)" in said
    run.signal(signal.SIGINT)  # ...when the second Ctrl-C arrives.
    result = run.finish()

    assert result.code == 130, result.output
    assert "SIGINT: cleanup abandoned" in result.stderr
    assert result.report is not None
    for scenario in result.report["scenarios"]:
        assert scenario["status"] == "interrupted"
        assert {c["status"] for c in scenario["cleanup"]} == {"interrupted"}
        assert "left open: unadvise pv, remove-item pv" in scenario["message"]
    # What the reports say was left open is still open on the gateway.
    assert len(_ours(sim, client)) == 2


RECORDER_PLUGIN = """
import os
from mxgw_runner.hookspecs import hookimpl

def _log(*parts):
    with open(os.environ["JOBS_HOOK_LOG"], "a", encoding="utf-8") as log:
        log.write(" ".join(str(p) for p in parts) + "\\n")

@hookimpl
def mxgw_scenario_start(scenario):
    _log(scenario.name, "scenario-start")

@hookimpl
def mxgw_step_start(scenario, step, index):
    _log(scenario.name, "step-start", index)

@hookimpl
def mxgw_step_finish(scenario, step, result):
    _log(scenario.name, "step-finish", result.index, result.status)

@hookimpl
def mxgw_scenario_finish(scenario, result):
    _log(scenario.name, "scenario-finish", result.status)
"""


def test_plugin_hooks_fire_for_every_scenario_run_at_once(tmp_path: Path) -> None:
    (tmp_path / "jobs_hook_recorder.py").write_text(RECORDER_PLUGIN, encoding="utf-8")
    for name in ("a", "b"):
        text = f"name: {name}\nsteps:\n  - wait: 300ms\n  - wait: 300ms\n"
        scenario_file(tmp_path / "s", f"{name}.yaml", text)
    log = tmp_path / "hooks.log"
    result = run_cli(
        tmp_path / "s",
        "--jobs",
        "2",
        "--plugin",
        "jobs_hook_recorder",
        env={"PYTHONPATH": str(tmp_path), "JOBS_HOOK_LOG": str(log)},
    )

    assert result.code == 0, result.output
    lines = log.read_text(encoding="utf-8").splitlines()
    for name in ("a", "b"):
        assert [line.split(" ", 1)[1] for line in lines if line.startswith(f"{name} ")] == [
            "scenario-start",
            "step-start 1",
            "step-finish 1 passed",
            "step-start 2",
            "step-finish 2 passed",
            "scenario-finish passed",
        ]
    # Both ran at once: the second started before the first finished.
    assert lines.index("b scenario-start") < lines.index("a scenario-finish passed")


def test_jobs_and_shard_bad_values_are_usage_errors(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, "a.yaml", "steps:\n  - wait: 1ms\n")
    for option, value, said in [
        ("--jobs", "0", "must be 1 or more"),
        ("--jobs", "many", "expected a whole number"),
        ("--shard", "3/2", "I/N needs 1 <= I <= N"),
        ("--shard", "0/2", "I/N needs 1 <= I <= N"),
        ("--shard", "half", "expected I/N"),
    ]:
        result = run_cli(path, option, value, "--validate")
        assert result.code == 2, (option, value, result.output)
        assert f"argument {option}: {said}" in result.stderr
        assert "Traceback" not in result.output
