"""Signals, a lost gateway and a dropped event stream, against real simulator processes.

Each test waits for a console line that ``mxgw-run`` prints as a step finishes, so
the next step (an ``expect-event`` wait) is known to be running: no guessed sleeps.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path

import jsonschema  # type: ignore[import-untyped, unused-ignore]
import pytest
import xmlschema
from google.protobuf.duration_pb2 import Duration

from mxgw_sim.generated import mxgw_sim_control_pb2 as cpb
from mxgw_sim.testing import ADMIN_KEY, SimProcess

from .support import LiveRun, control, read_values, scenario_file, session_ids, set_value, sim_args

JUNIT_XSD = Path(__file__).resolve().parents[1] / "runner" / "data" / "junit.xsd"
REPORT_SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "schemas" / "report.schema.json").read_text("utf-8")
)

WAITING = """
    name: waits for a value that never comes
    timeouts: {step: 60s, cleanup: 10s}
    steps:
      - open-session: {client-session-name: interrupt-test}
      - register: {}
      - add-item: {item: Pump102.Free, as: free}
      - advise: free
      - expect-event: {item: free, data-change: {value: 0}}
      - write: {item: free, value: 5, restore: true}
      - expect-event: {item: free, data-change: {value: 1000}, within: 60s}
      - close-session: {}
"""

CLEANUP_ORDER = ["restore", "unadvise", "remove-item", "unregister", "close-session"]


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_during_expect_event_cleans_up_and_reports(
    sim: SimProcess,
    no_leaked_sessions: None,
    live_run: Callable[..., LiveRun],
    tmp_path: Path,
    signum: signal.Signals,
    code: int,
) -> None:
    path = scenario_file(tmp_path, "wait.yaml", WAITING)
    junit = tmp_path / "report.xml"
    run = live_run(
        path, *sim_args(sim), "--report-junit", str(junit), report=tmp_path / "report.json"
    )
    run.wait_for_line("06 write")
    run.signal(signum)
    result = run.finish()

    assert result.code == code, result.output
    assert result.report is not None
    assert result.report["interrupted-by"] == signum.name
    scenario = result.scenario()
    assert scenario["status"] == "interrupted"
    waiting = result.steps()[6]
    assert waiting["kind"] == "expect-event"
    assert waiting["status"] == "interrupted"
    assert result.steps()[7]["status"] == "skipped"
    assert [c["action"] for c in scenario["cleanup"]] == CLEANUP_ORDER
    assert {c["status"] for c in scenario["cleanup"]} == {"passed"}
    assert f"interrupted by {signum.name}" in result.stdout
    xmlschema.XMLSchema(str(JUNIT_XSD)).validate(str(junit))
    jsonschema.validate(result.report, REPORT_SCHEMA)
    # The written value was put back before the session closed.
    assert read_values(sim, "Pump102.Free") == {"Pump102.Free": 0}


def test_second_ctrl_c_abandons_cleanup_and_says_what_was_left_open(
    sim_factory: Callable[..., SimProcess], live_run: Callable[..., LiveRun], tmp_path: Path
) -> None:
    sim = sim_factory()
    path = scenario_file(tmp_path, "wait.yaml", WAITING)
    run = live_run(path, *sim_args(sim), report=tmp_path / "report.json")
    run.wait_for_line("06 write")
    # Every command now takes 5 s, so the cleanup's first undo is still running...
    control(sim, "SetLatency", cpb.SetLatencyRequest(command_latency=Duration(seconds=5)))
    run.signal(signal.SIGINT)
    run.wait_for_line("07 expect-event")  # printed as the steps stop, just before cleanup
    run.signal(signal.SIGINT)  # ...when the second Ctrl-C arrives.
    result = run.finish()

    assert result.code == 130, result.output
    jsonschema.validate(result.report, REPORT_SCHEMA)
    scenario = result.scenario()
    assert [c["action"] for c in scenario["cleanup"]] == CLEANUP_ORDER
    assert {c["status"] for c in scenario["cleanup"]} == {"interrupted"}
    assert "left open: restore free = 0, unadvise free" in scenario["message"]
    assert "close-session" in scenario["message"]
    # What the report says was left open is still open on the gateway.
    assert len(session_ids(sim, "interrupt-test")) == 1


def test_gateway_killed_mid_run_exits_3_with_a_report(
    sim_factory: Callable[..., SimProcess], live_run: Callable[..., LiveRun], tmp_path: Path
) -> None:
    sim = sim_factory()
    path = scenario_file(tmp_path, "wait.yaml", WAITING)
    run = live_run(path, *sim_args(sim), report=tmp_path / "report.json")
    run.wait_for_line("06 write")
    sim.process.kill()
    sim.process.wait()
    result = run.finish()

    assert result.code == 3, result.output
    jsonschema.validate(result.report, REPORT_SCHEMA)
    scenario = result.scenario()
    assert scenario["status"] == "error"
    waiting = result.steps()[6]
    assert waiting["status"] == "error"
    assert "event stream lost" in waiting["message"]
    # Every undo was tried, close-session included, and each reports its failure.
    assert [c["action"] for c in scenario["cleanup"]] == CLEANUP_ORDER
    assert {c["status"] for c in scenario["cleanup"]} == {"failed"}


RECONNECT = """
    name: survives a dropped event stream
    timeouts: {step: 20s}
    steps:
      - open-session: {client-session-name: reconnect-test}
      - register: {}
      - add-item: {item: Types.Int, as: int}
      - advise: int
      - expect-event: {item: int, data-change: {value: 42}}
      - expect-event: {item: int, data-change: {value: 21}, mode: next}
      - expect-event: {item: int, data-change: {value: 22}, mode: next}
      - expect-no-event: {item: int, for: 300ms}
      - close-session: {}
"""


def test_dropped_stream_resumes_without_losing_or_repeating_events(
    sim: SimProcess,
    no_leaked_sessions: None,
    live_run: Callable[..., LiveRun],
    tmp_path: Path,
) -> None:
    path = scenario_file(tmp_path, "reconnect.yaml", RECONNECT)
    run = live_run(path, *sim_args(sim), report=tmp_path / "report.json")
    try:
        run.wait_for_line("05 expect-event")
        (session,) = session_ids(sim, "reconnect-test")
        reply = control(sim, "DropStreams", cpb.SessionSelector(session_id=session))
        assert reply.affected == 1
        set_value(sim, "Types.Int", 21, "int32")
        set_value(sim, "Types.Int", 22, "int32")
        result = run.finish()
    finally:
        set_value(sim, "Types.Int", 42, "int32")
    assert result.code == 0, result.output
    assert "the event stream dropped and was resumed" in result.scenario()["message"]
    sequences = [
        e["worker-sequence"] for step in result.steps() for e in step["timeline"]
    ]
    assert len(sequences) == len(set(sequences))


GAP = """
    name: events lost while the stream was down
    timeouts: {step: 20s}
    steps:
      - open-session: {client-session-name: gap-test}
      - register: {}
      - add-item: {item: Types.Int, as: int}
      - advise: int
      - expect-event: {item: int, data-change: {value: 42}}
      - expect-event: {item: int, data-change: {value: 31}}
      - close-session: {}
"""


def test_replay_gap_fails_the_expectation_with_events_lost(
    sim_factory: Callable[..., SimProcess], live_run: Callable[..., LiveRun], tmp_path: Path
) -> None:
    # The ring keeps events 1 ms; the runner reconnects 100 ms after a drop at the earliest,
    # so the value set right after the drop is gone from the ring by then.
    sim = sim_factory("--replay-seconds", "0.001")
    path = scenario_file(tmp_path, "gap.yaml", GAP)
    run = live_run(path, *sim_args(sim), report=tmp_path / "report.json")
    run.wait_for_line("05 expect-event")
    (session,) = session_ids(sim, "gap-test")
    control(sim, "DropStreams", cpb.SessionSelector(session_id=session))
    set_value(sim, "Types.Int", 31, "int32")
    result = run.finish()

    assert result.code == 1, result.output
    step = result.steps()[5]
    assert step["status"] == "failed"
    assert "events lost" in step["message"]
    assert sim.wait_for_sessions(0, ADMIN_KEY) == []


def test_a_faulted_session_exits_3_and_is_still_closed(
    sim: SimProcess,
    no_leaked_sessions: None,
    live_run: Callable[..., LiveRun],
    tmp_path: Path,
) -> None:
    path = scenario_file(tmp_path, "fault.yaml", RECONNECT.replace("reconnect-test", "fault-test"))
    run = live_run(path, *sim_args(sim), report=tmp_path / "report.json")
    run.wait_for_line("05 expect-event")
    (session,) = session_ids(sim, "fault-test")
    control(sim, "FaultSession", cpb.FaultSessionRequest(session_id=session, message="test fault"))
    result = run.finish()

    assert result.code == 3, result.output
    step = result.steps()[5]
    assert step["status"] == "error"
    assert "session faulted: test fault" in step["message"]
    # A faulted session is not worth reconnecting to: no attempt was made.
    assert "resumed" not in (result.scenario()["message"] or "")
    cleanup = {c["action"]: c["status"] for c in result.scenario()["cleanup"]}
    assert cleanup["close-session"] == "passed"
    assert cleanup["unadvise"] == "failed"
