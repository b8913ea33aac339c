"""write (every variant), write-bulk, authenticate, read and the bulk subscriptions."""

from __future__ import annotations

from typing import Any

from cli_helpers import Gateway


def _advised(gateway: Gateway, sid: str, *items: str) -> tuple[str, list[str]]:
    """Register, subscribe ``items`` and drain their initial data changes."""
    s = ["--session-id", sid]
    sh = str(gateway.ok("register", *s)["server_handle"])
    args = [a for item in items for a in ("--item", item)]
    subscribed = gateway.ok("subscribe-bulk", *s, "--server-handle", sh, *args)
    assert subscribed["failed"] == 0
    handles = [str(r["item_handle"]) for r in subscribed["results"]]
    assert [r["tag_address"] for r in subscribed["results"]] == list(items)
    drained = gateway.ok("drain-events", *s)
    assert drained["count"] == len(items)
    assert all(e["ok"] for e in drained["events"]), drained["events"]
    return sh, handles


def _events(gateway: Gateway, sid: str, count: int) -> list[dict[str, Any]]:
    run = gateway.run(
        "stream-events",
        "--session-id",
        sid,
        "--max-events",
        str(count),
        "--timeout",
        "20",
        "--require-all",
        "--json",
    )
    return run.expect(0).docs


def test_write_variants_and_their_outcomes(gateway: Gateway, session: str) -> None:
    s = ["--session-id", session]
    sh, (int_h, arr_h, view_h) = _advised(
        gateway, session, "Types.Int", "Types.IntArray[]", "Pump102.ViewOnly"
    )
    h = ["--server-handle", sh]

    plain = gateway.ok("write", *s, *h, "--item-handle", int_h, "--type", "int", "--value", "7")
    assert (plain["kind"], plain["value"], plain["timestamp"]) == ("WRITE", 7, None)

    timed = gateway.ok(
        "write",
        *s,
        *h,
        "--item-handle",
        int_h,
        "--type",
        "int32",
        "--value",
        "8",
        "--timestamp",
        "2026-04-30T12:00:00.123456Z",
    )
    assert (timed["kind"], timed["timestamp"]) == ("WRITE2", "2026-04-30T12:00:00.123456Z")

    array = gateway.ok(
        "write", *s, *h, "--item-handle", arr_h, "--type", "int32[]", "--value", "[5,4,3,2,1]"
    )
    assert (array["value"], array["value_type"]) == ([5, 4, 3, 2, 1], "int32[]")

    # MXAccess accepts the write; the refusal comes in the write completion
    refused = gateway.ok("write", *s, *h, "--item-handle", view_h, "--value", "1")
    assert refused["kind"] == "WRITE" and refused["value_type"] == "int32"

    events = _events(gateway, session, 7)
    completions = [e for e in events if e["event"] == "write_complete"]
    changes = [e for e in events if e["event"] == "data_change"]
    assert len(completions) == 4
    assert [c["ok"] for c in completions if c["item_handle"] == int(view_h)] == [False]
    failed = next(c for c in completions if not c["ok"])["statuses"][0]
    assert failed["category"] == "OPERATIONAL_ERROR"
    assert failed["detected_by"] == "RESPONDING_AUTOMATION_OBJECT"
    assert [c["value"] for c in changes if c["item_handle"] == int(int_h)] == [7, 8]
    assert [c["value"] for c in changes if c["item_handle"] == int(arr_h)] == [[5, 4, 3, 2, 1]]


def test_authenticate_and_secured_writes(gateway: Gateway, session: str) -> None:
    s = ["--session-id", session]
    sh, (secured_h, verified_h) = _advised(gateway, session, "Pump102.Secured", "Pump102.Verified")
    h = ["--server-handle", sh]
    env = {"OP_PW": "operator2", "SUP_PW": "supervisor1"}
    ids = {}
    for user, var in (("operator2", "OP_PW"), ("supervisor", "SUP_PW")):
        doc = (
            gateway.run(
                "authenticate", *s, *h, "--user", user, "--password-env", var, "--json", env=env
            )
            .expect(0)
            .doc
        )
        assert doc["kind"] == "AUTHENTICATE_USER" and doc["user_id"] > 0
        ids[user] = str(doc["user_id"])
    assert ids["operator2"] != ids["supervisor"]

    secured = gateway.ok(
        "write",
        *s,
        *h,
        "--item-handle",
        secured_h,
        "--type",
        "int32",
        "--value",
        "11",
        "--user-id",
        ids["operator2"],
        "--secured",
    )
    assert secured["kind"] == "WRITE_SECURED"
    assert secured["verifier_user_id"] == int(ids["operator2"])
    verified = gateway.ok(
        "write",
        *s,
        *h,
        "--item-handle",
        verified_h,
        "--type",
        "int32",
        "--value",
        "12",
        "--user-id",
        ids["operator2"],
        "--verifier-user-id",
        ids["supervisor"],
        "--timestamp",
        "now",
    )
    assert verified["kind"] == "WRITE_SECURED2"
    events = _events(gateway, session, 4)
    completions = [e for e in events if e["event"] == "write_complete"]
    assert [c["ok"] for c in completions] == [True, True], completions
    values = {e["item_handle"]: e["value"] for e in events if e["event"] == "data_change"}
    assert values == {int(secured_h): 11, int(verified_h): 12}


def test_authenticate_failures_never_show_the_password(gateway: Gateway, session: str) -> None:
    s = ["--session-id", session]
    sh = str(gateway.ok("register", *s)["server_handle"])
    password = "Wr0ngPassw0rd-xyz"
    wrong = gateway.run(
        "authenticate",
        *s,
        "--server-handle",
        sh,
        "--user",
        "operator",
        "--password",
        password,
        "--json",
    ).expect(5)
    assert wrong.doc["error"]["type"] == "UserAuthenticationFailed"
    assert "warning: --password" in wrong.stderr
    assert password not in wrong.stdout + wrong.stderr
    # no terminal, no password source: a usage error, not a hang
    none = gateway.run("authenticate", *s, "--server-handle", sh, "--user", "operator")
    assert "--password-env" in none.expect(2).stderr


def test_write_before_the_first_data_change_fails(gateway: Gateway, session: str) -> None:
    s = ["--session-id", session]
    sh = str(gateway.ok("register", *s)["server_handle"])
    added = gateway.ok("add-item", *s, "--server-handle", sh, "--item", "Types.Int")
    ih = str(added["item_handle"])
    run = gateway.run(
        "write", *s, "--server-handle", sh, "--item-handle", ih, "--value", "1", "--json"
    )
    error = run.expect(5).doc["error"]
    assert (error["code"], error["kind"]) == ("MXACCESS_FAILURE", "WRITE")
    assert error["hresult"] != 0 and error["statuses"][0]["ok"] is False


def test_write_bulk_reports_each_entry(gateway: Gateway, session: str) -> None:
    s = ["--session-id", session]
    sh, (a, b) = _advised(gateway, session, "Types.Double", "Types.Float")
    ok = gateway.ok(
        "write-bulk",
        *s,
        "--server-handle",
        sh,
        "--type",
        "double",
        "--entry",
        f"{a}=2.5",
        "--entry",
        f"{b}=0.25",
    )
    assert ok["kind"] == "WRITE_BULK" and ok["failed"] == 0
    assert [r["item_handle"] for r in ok["results"]] == [int(a), int(b)]
    partial = (
        gateway.run(
            "write-bulk",
            *s,
            "--server-handle",
            sh,
            "--type",
            "double",
            "--entry",
            f"{a}=1",
            "--entry",
            "9999=1",
            "--json",
        )
        .expect(5)
        .doc
    )
    assert partial["failed"] == 1
    assert [r["ok"] for r in partial["results"]] == [True, False]
    timed = gateway.ok(
        "write-bulk", *s, "--server-handle", sh, "--entry", f"{a}=3.5", "--timestamp", "now"
    )
    assert timed["kind"] == "WRITE2_BULK"
    gateway.ok("drain-events", *s)
    gone = gateway.ok(
        "unsubscribe-bulk", *s, "--server-handle", sh, "--item-handle", a, "--item-handle", b
    )
    assert gone["kind"] == "UNSUBSCRIBE_BULK" and gone["failed"] == 0


def test_read_renders_typed_values(gateway: Gateway, session: str) -> None:
    s = ["--session-id", session]
    sh = str(gateway.ok("register", *s)["server_handle"])
    run = gateway.run(
        "read",
        *s,
        "--server-handle",
        sh,
        "--item",
        "Pump101.LastStart",
        "--item",
        "Pump101.RunHours",
        "--item",
        "Pump102.ReadOnly",
        "--item",
        "Nope.Attr",
        "--json",
    )
    doc = run.expect(5).doc
    assert doc["kind"] == "READ_BULK" and doc["failed"] == 1
    last, hours, ro, bad = doc["results"]
    assert (last["value"], last["value_type"]) == ("2026-01-01T06:00:00Z", "time")
    assert (hours["value"], hours["value_type"]) == ("1234s", "elapsed")
    assert (ro["value"], ro["value_type"], ro["quality_class"]) == (3, "int32", "GOOD")
    assert bad["ok"] is False and bad["error_message"]
    human = gateway.run("read", *s, "--server-handle", sh, "--item", "Pump102.ReadOnly")
    assert human.expect(0).stdout.startswith("Pump102.ReadOnly = 3 (int32) quality 192 Good")


def test_sparse_array_write_resets_unlisted_elements(gateway: Gateway, session: str) -> None:
    s = ["--session-id", session]
    sh, (arr_h,) = _advised(gateway, session, "Types.IntArray[]")
    written = gateway.ok(
        "write",
        *s,
        "--server-handle",
        sh,
        "--item-handle",
        arr_h,
        "--type",
        "int32[]",
        "--sparse-length",
        "5",
        "--value",
        '{"0": 7, "3": 9}',
    )
    assert written["value"] == {
        "elements": [{"index": 0, "value": 7}, {"index": 3, "value": 9}],
        "total_length": 5,
    }
    change = next(e for e in _events(gateway, session, 2) if e["event"] == "data_change")
    assert change["value"] == [7, 0, 0, 9, 0]
    bad = gateway.run(
        "write",
        *s,
        "--server-handle",
        sh,
        "--item-handle",
        arr_h,
        "--type",
        "int32[]",
        "--sparse-length",
        "5",
        "--value",
        "[1]",
    )
    assert "JSON object of index: value" in bad.expect(2).stderr
