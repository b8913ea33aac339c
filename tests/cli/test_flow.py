"""The README's cross-process session flow, and every session command, against mxgw-sim.

Each command is its own ``mxgw-py`` process; ids travel between them through the JSON
output, exactly as a script would pass them.
"""

from __future__ import annotations

from cli_helpers import Gateway


def test_readme_flow_passes_ids_between_processes(gateway: Gateway) -> None:
    opened = gateway.ok("open-session", "--client-name", "readme-flow")
    sid = opened["session_id"]
    assert opened["gateway_protocol_version"] == 3
    assert opened["worker_protocol_version"] == 3
    try:
        # open-session did not close its session when its process ended
        assert sid in gateway.session_ids()
        s = ["--session-id", sid]
        reg = gateway.ok("register", *s, "--client-name", "python-client")
        assert reg["kind"] == "REGISTER" and reg["ok"] is True
        sh = str(reg["server_handle"])
        add = gateway.ok("add-item", *s, "--server-handle", sh, "--item", "Types.Int")
        assert add["kind"] == "ADD_ITEM" and add["item_handle"] > 0
        ih = str(add["item_handle"])
        adv = gateway.ok("advise", *s, "--server-handle", sh, "--item-handle", ih)
        assert adv["kind"] == "ADVISE"

        first = gateway.run("stream-events", *s, "--max-events", "1", "--timeout", "20", "--json")
        (initial,) = first.expect(0).docs
        assert initial["event"] == "data_change"
        assert (initial["server_handle"], initial["item_handle"]) == (int(sh), int(ih))
        assert initial["value_type"] == "int32"
        assert (initial["quality"], initial["quality_class"]) == (192, "GOOD")
        assert initial["ok"] is True

        new_value = initial["value"] + 1000
        written = gateway.ok(
            "write",
            *s,
            "--server-handle",
            sh,
            "--item-handle",
            ih,
            "--type",
            "int32",
            "--value",
            str(new_value),
        )
        assert written["kind"] == "WRITE"
        assert (written["value"], written["value_type"]) == (new_value, "int32")

        after = gateway.run("stream-events", *s, "--max-events", "2", "--timeout", "20", "--json")
        events = after.expect(0).docs
        by_kind = {e["event"]: e for e in events}
        assert set(by_kind) == {"data_change", "write_complete"}
        assert by_kind["data_change"]["value"] == new_value
        assert by_kind["write_complete"]["ok"] is True
        sequences = [e["worker_sequence"] for e in events]
        assert sequences == sorted(sequences) and sequences[0] > initial["worker_sequence"]
    finally:
        closed = gateway.ok("close-session", "--session-id", sid)
    assert closed["final_state"] == "CLOSED"
    assert sid not in gateway.session_ids()
    # closing again succeeds (idempotent on the gateway)
    assert gateway.ok("close-session", "--session-id", sid)["final_state"] == "CLOSED"


def test_session_id_from_the_environment(gateway: Gateway, session: str) -> None:
    run = gateway.run("register", "--json", env={"MXGATEWAY_SESSION_ID": session})
    assert run.expect(0).doc["session_id"] == session


def test_item_commands_send_the_matching_kinds(gateway: Gateway, session: str) -> None:
    s = ["--session-id", session]
    sh = str(gateway.ok("register", *s)["server_handle"])
    h = ["--server-handle", sh]
    add2 = gateway.ok("add-item", *s, *h, "--item", "Me.Free", "--context", "Pump102")
    assert (add2["kind"], add2["context"]) == ("ADD_ITEM2", "Pump102")
    i = ["--item-handle", str(add2["item_handle"])]
    sup = gateway.ok("advise", *s, *h, *i, "--supervisory")
    assert (sup["kind"], sup["supervisory"]) == ("ADVISE_SUPERVISORY", True)
    assert gateway.ok("suspend", *s, *h, *i)["kind"] == "SUSPEND"
    assert gateway.ok("activate", *s, *h, *i)["kind"] == "ACTIVATE"
    assert gateway.ok("unadvise", *s, *h, *i)["kind"] == "UN_ADVISE"
    assert gateway.ok("remove-item", *s, *h, *i)["kind"] == "REMOVE_ITEM"
    unreg = gateway.ok("unregister", *s, *h)
    assert (unreg["kind"], unreg["server_handle"]) == ("UNREGISTER", int(sh))
    # human output is one short line per command
    again = gateway.run("register", *s)
    assert again.expect(0).stdout.startswith("server handle ")


def test_advise_twice_is_an_mxaccess_failure_with_statuses(gateway: Gateway, session: str) -> None:
    s = ["--session-id", session]
    sh = str(gateway.ok("register", *s)["server_handle"])
    added = gateway.ok("add-item", *s, "--server-handle", sh, "--item", "Types.Bool")
    ih = str(added["item_handle"])
    pair = ["--server-handle", sh, "--item-handle", ih]
    gateway.ok("advise", *s, *pair)
    error = gateway.run("advise", *s, *pair, "--json").expect(5).doc["error"]
    assert error["code"] == "MXACCESS_FAILURE"
    assert error["kind"] == "ADVISE"
    assert error["statuses"] and error["statuses"][0]["ok"] is False
    assert error["type"].startswith("MxAccess")
    human = gateway.run("advise", *s, *pair).expect(5)
    assert human.stdout == ""
    assert human.stderr.startswith("mxgw-py advise: error: Advise failed: MXACCESS_FAILURE")
    assert len(human.stderr.strip().splitlines()) == 1


def test_closed_session_is_exit_6(gateway: Gateway) -> None:
    sid = gateway.open_session()
    gateway.ok("close-session", "--session-id", sid)
    error = gateway.run("register", "--session-id", sid, "--json").expect(6).doc["error"]
    assert error["code"] == "NOT_FOUND"
    assert error["type"] == "SessionNotFoundError"


def test_drain_events_returns_pending_events(gateway: Gateway, session: str) -> None:
    s = ["--session-id", session]
    sh = str(gateway.ok("register", *s)["server_handle"])
    ih = str(
        gateway.ok("add-item", *s, "--server-handle", sh, "--item", "Pump102.ReadOnly")[
            "item_handle"
        ]
    )
    gateway.ok("advise", *s, "--server-handle", sh, "--item-handle", ih)
    drained = gateway.ok("drain-events", *s, "--max-events", "10")
    assert drained["kind"] == "DRAIN_EVENTS"
    assert drained["count"] == len(drained["events"]) == 1
    (event,) = drained["events"]
    assert (event["event"], event["value"], event["value_type"]) == ("data_change", 3, "int32")
    # drained events are gone
    assert gateway.ok("drain-events", *s)["count"] == 0
