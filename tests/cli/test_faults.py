"""Faults injected through the simulator's control service map to the documented exit codes:
a call past its deadline (7), a faulted session (6), a dropped event stream (3)."""

from __future__ import annotations

import json

from cli_helpers import ADMIN_KEY, Gateway, read_until, start_cli
from google.protobuf.duration_pb2 import Duration

from mxgw_sim.generated import mxgw_sim_control_pb2 as cpb


def test_call_past_its_deadline_is_exit_7(gateway: Gateway, session: str) -> None:
    gateway.sim.control(
        "SetLatency",
        cpb.SetLatencyRequest(session_id=session, command_latency=Duration(seconds=3)),
        ADMIN_KEY,
    )
    try:
        run = gateway.run("register", "--session-id", session, "--timeout", "0.5", "--json")
        error = run.expect(7).doc["error"]
        assert (error["code"], error["type"]) == ("DEADLINE_EXCEEDED", "DeadlineExceededError")
    finally:
        gateway.sim.control("SetLatency", cpb.SetLatencyRequest(session_id=session), ADMIN_KEY)


def test_faulted_session_is_exit_6(gateway: Gateway, session: str) -> None:
    gateway.ok("register", "--session-id", session)
    gateway.sim.control("KillWorker", cpb.SessionSelector(session_id=session), ADMIN_KEY)
    run = gateway.run("register", "--session-id", session, "--json")
    error = run.expect(6).doc["error"]
    assert error["code"] in {"SESSION_FAULTED", "WORKER_UNAVAILABLE", "NOT_FOUND"}


def test_dropped_stream_is_a_connection_error(gateway: Gateway, session: str) -> None:
    s = ["--session-id", session]
    sh = str(gateway.ok("register", *s)["server_handle"])
    gateway.ok("subscribe-bulk", *s, "--server-handle", sh, "--item", "Pump102.ReadOnly")
    stream = start_cli(gateway, "stream-events", *s, "--timeout", "60", "--json")
    first = read_until(stream, "data_change")
    gateway.sim.control("DropStreams", cpb.SessionSelector(session_id=session), ADMIN_KEY)
    out, err = stream.communicate(timeout=20)
    assert stream.returncode == 3, err
    lines = (first + out).splitlines()
    error = json.loads(lines[-1])["error"]
    assert error["code"] == "UNAVAILABLE"
    # resuming after the last event seen loses nothing
    seen = json.loads(lines[0])["worker_sequence"]
    resumed = gateway.run("stream-events", *s, "--after-sequence", str(seen), "--timeout", "0.5")
    assert resumed.expect(0).stdout == ""
