"""smoke, stream-events endings (count, timeout, Ctrl-C) and one stream per session."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable

import pytest
from cli_helpers import Gateway, interrupt, read_until, start_cli

from mxgw_sim.testing import SimProcess


def test_smoke_runs_every_step_and_closes_its_session(gateway: Gateway) -> None:
    run = gateway.run("smoke", "--item", "Pump102.ReadOnly", "--json").expect(0)
    doc = run.doc
    assert doc["steps"] == ["register", "add-item", "advise", "stream-events"]
    assert doc["closed"] is True and doc["ok"] is True
    assert doc["count"] == 1
    (event,) = doc["events"]
    assert (event["event"], event["value"], event["quality_class"]) == ("data_change", 3, "GOOD")
    assert doc["session_id"] not in gateway.session_ids()


def test_smoke_with_a_bad_reference_fails_with_the_status(gateway: Gateway) -> None:
    run = gateway.run("smoke", "--item", "NoSuchObject.Attr", "--json").expect(5)
    doc = run.doc
    assert doc["closed"] is True and doc["ok"] is False
    status = doc["events"][0]["statuses"][0]
    assert status["category"] == "CONFIGURATION_ERROR"
    assert doc["events"][0]["quality_class"] == "BAD"


def test_smoke_timeout_is_exit_7_and_still_closes(gateway: Gateway) -> None:
    start = time.monotonic()
    run = gateway.run(
        "smoke", "--item", "Pump102.ReadOnly", "--max-events", "3", "--timeout", "1", "--json"
    )
    error = run.expect(7).doc["error"]
    assert time.monotonic() - start < 15
    assert (error["type"], error["events"], error["expected"]) == ("TooFewEvents", 1, 3)
    assert error["closed"] is True
    assert error["steps"] == ["register", "add-item", "advise"]
    assert error["session_id"] not in gateway.session_ids()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_smoke_closes_its_session_when_interrupted(gateway: Gateway, sig: signal.Signals) -> None:
    process = start_cli(
        gateway, "smoke", "--item", "Pump102.ReadOnly", "--max-events", "50", "--timeout", "60"
    )
    seen = read_until(process, "data_change")
    sid = seen.split()[1]
    assert sid.startswith("session-")
    code, _, err = interrupt(process, sig)
    assert code == 130, err
    assert "Traceback" not in err
    assert "interrupted" in err
    assert sid not in gateway.session_ids()


def test_stream_events_ends_on_count_or_timeout(gateway: Gateway, session: str) -> None:
    s = ["--session-id", session]
    sh = str(gateway.ok("register", *s)["server_handle"])
    gateway.ok("subscribe-bulk", *s, "--server-handle", sh, "--item", "Pump102.ReadOnly")
    one = gateway.run("stream-events", *s, "--max-events", "1", "--timeout", "20", "--json")
    assert len(one.expect(0).docs) == 1
    # nothing more arrives: the timeout ends the stream with exit 0 and a note on stderr
    short = gateway.run("stream-events", *s, "--max-events", "2", "--timeout", "0.5", "--json")
    assert short.expect(0).stdout == ""
    assert "0 of 2 events" in short.stderr
    strict = gateway.run(
        "stream-events", *s, "--max-events", "2", "--timeout", "0.5", "--require-all", "--json"
    )
    assert strict.expect(7).doc["error"]["code"] == "TOO_FEW_EVENTS"


def test_stream_events_resumes_after_a_sequence(gateway: Gateway, session: str) -> None:
    s = ["--session-id", session]
    sh = str(gateway.ok("register", *s)["server_handle"])
    gateway.ok(
        "subscribe-bulk",
        *s,
        "--server-handle",
        sh,
        "--item",
        "Pump102.ReadOnly",
        "--item",
        "Pump101.LastStart",
    )
    both = gateway.run("stream-events", *s, "--max-events", "2", "--timeout", "20", "--json")
    first, second = both.expect(0).docs
    again = gateway.run(
        "stream-events",
        *s,
        "--after-sequence",
        str(first["worker_sequence"]),
        "--max-events",
        "1",
        "--timeout",
        "20",
        "--json",
    )
    (replayed,) = again.expect(0).docs
    assert replayed == second


def test_second_stream_is_refused_and_ctrl_c_ends_the_first(gateway: Gateway, session: str) -> None:
    s = ["--session-id", session]
    sh = str(gateway.ok("register", *s)["server_handle"])
    gateway.ok("subscribe-bulk", *s, "--server-handle", sh, "--item", "Pump102.ReadOnly")
    first = start_cli(gateway, "stream-events", *s, "--timeout", "60", "--json")
    read_until(first, "data_change")
    second = gateway.run("stream-events", *s, "--max-events", "1", "--json")
    error = second.expect(8).doc["error"]
    assert (error["code"], error["type"]) == ("ALREADY_EXISTS", "StreamAlreadyOpenError")
    code, _, err = interrupt(first)
    assert code == 130 and "Traceback" not in err


def test_stream_ended_by_the_gateway_is_reported(gateway: Gateway) -> None:
    sid = gateway.open_session()
    s = ["--session-id", sid]
    sh = str(gateway.ok("register", *s)["server_handle"])
    gateway.ok("subscribe-bulk", *s, "--server-handle", sh, "--item", "Pump102.ReadOnly")
    stream = start_cli(
        gateway, "stream-events", *s, "--max-events", "5", "--timeout", "60", "--json"
    )
    read_until(stream, "data_change")
    gateway.ok("close-session", *s)
    out, err = stream.communicate(timeout=20)
    assert stream.returncode == 0, err
    assert "the gateway ended the event stream after 1 event(s)" in err
    assert out == ""  # the first line was read above; nothing after it


def test_stream_events_stops_quietly_when_the_reader_goes_away(
    gateway: Gateway, session: str
) -> None:
    """``mxgw-py stream-events ... | head -1``: no traceback, exit 0."""
    s = ["--session-id", session]
    sh = str(gateway.ok("register", *s)["server_handle"])
    gateway.ok("subscribe-bulk", *s, "--server-handle", sh, "--item", "Pump101.Vibration")
    stream = start_cli(gateway, "stream-events", *s, "--timeout", "30", "--json")
    read_until(stream, "data_change")
    assert stream.stdout is not None
    stream.stdout.close()  # like `head -1` exiting
    _, err = stream.communicate(timeout=20)
    assert stream.returncode == 0, err
    assert "Traceback" not in err and "Broken pipe" not in err


def test_resume_past_the_replay_ring_starts_with_a_replay_gap(
    sim_factory: Callable[..., SimProcess],
) -> None:
    gateway = Gateway(sim_factory("--replay-events", "2"))
    sid = gateway.open_session()
    s = ["--session-id", sid]
    try:
        sh = str(gateway.ok("register", *s)["server_handle"])
        sequences = []
        for pair in (("Pump102.ReadOnly", "Pump101.LastStart"), ("Pump101.RunHours", "Types.Int")):
            args = [a for item in pair for a in ("--item", item)]
            gateway.ok("subscribe-bulk", *s, "--server-handle", sh, *args)
            taken = gateway.run(
                "stream-events", *s, "--max-events", "2", "--timeout", "20", "--json"
            )
            sequences += [e["worker_sequence"] for e in taken.expect(0).docs]
        assert sequences == [1, 2, 3, 4]
        # the ring (2 events) now holds 3 and 4: resuming after 1 has lost event 2
        resumed = gateway.run(
            "stream-events",
            *s,
            "--after-sequence",
            "1",
            "--max-events",
            "3",
            "--timeout",
            "20",
            "--json",
        )
        gap, *rest = resumed.expect(0).docs
        assert gap["event"] == "replay_gap"
        assert (gap["requested_after_sequence"], gap["oldest_available_sequence"]) == (1, 3)
        assert gap["lost"] == 1
        assert [e["worker_sequence"] for e in rest] == [3, 4]
        human = gateway.run("stream-events", *s, "--after-sequence", "1", "--max-events", "1")
        assert "replay_gap: 1 event(s) lost; resume with --after-sequence 2" in human.stdout
    finally:
        gateway.run("close-session", *s).expect(0)
