"""Every golden fixture in ``fixtures/``, loaded through its manifest, against the client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from client_fixture_cases import (
    AUTH_CASES,
    COMMAND_CASES,
    EVENT_TYPES,
    ROOT,
    STATUS_CASES,
    VALUE_CASES,
    CommandCase,
    ValueCase,
    main,
    to_json,
)
from client_testserver import API_KEY, READ_ONLY_KEY, RunningGateway
from google.protobuf import descriptor_pool, json_format, message_factory
from google.protobuf.message import Message

import mxgateway
from mxgateway import (
    GatewayClient,
    MxGatewayCommandError,
    MxStatus,
    MxStatusCategory,
    MxStatusSource,
    from_mx_value,
    to_mx_value,
)
from mxgateway.generated import mxaccess_gateway_pb2 as pb

MANIFEST = json.loads((ROOT / "manifest.json").read_text(encoding="utf-8"))
ENTRIES = {entry["id"]: entry for entry in MANIFEST["fixtures"]}


def load(fixture_id: str) -> Any:
    return json.loads((ROOT / ENTRIES[fixture_id]["path"]).read_text(encoding="utf-8"))


def parse(fixture_id: str, body: Any | None = None) -> Any:
    """Parse a fixture into the message type its manifest entry names."""
    name = ENTRIES[fixture_id]["messageType"]
    cls = message_factory.GetMessageClass(descriptor_pool.Default().FindMessageTypeByName(name))
    return json_format.ParseDict(load(fixture_id) if body is None else body, cls())


def test_manifest_lists_every_file_and_nothing_else() -> None:
    assert MANIFEST["contract"] == "mxaccess_gateway.v1"
    assert MANIFEST["protocolVersions"] == {"gateway": 3, "worker": 3}
    listed = {entry["path"] for entry in MANIFEST["fixtures"]}
    on_disk = {
        str(p.relative_to(ROOT)) for p in Path(ROOT).rglob("*.json") if p.name != "manifest.json"
    }
    assert listed == on_disk
    assert len(ENTRIES) == len(MANIFEST["fixtures"]), "fixture ids must be unique"
    categories = {entry["category"] for entry in MANIFEST["fixtures"]}
    assert categories == {
        "value", "status", "command-request", "command-reply", "auth", "event-stream"
    }  # fmt: skip


@pytest.mark.parametrize("fixture_id", sorted(ENTRIES))
def test_every_fixture_parses_as_its_message_type(fixture_id: str) -> None:
    body = load(fixture_id)
    if ENTRIES[fixture_id]["category"] == "auth":
        body = body["request"]
    elif ENTRIES[fixture_id]["category"] == "event-stream":
        body = body["events"][0]
    assert isinstance(parse(fixture_id, body), Message)


def test_fixture_files_match_their_cases() -> None:
    assert main(["--check"]) == 0, "run: python tests/mxgateway/client_fixture_cases.py --write"


@pytest.mark.parametrize("case", VALUE_CASES, ids=lambda c: c.id)
def test_value_fixture(case: ValueCase) -> None:
    wire = parse(case.id)
    if case.write:
        produced = to_mx_value(case.python, case.type)
        assert produced == wire
        assert to_json(produced) == load(case.id)
    decoded = from_mx_value(wire)
    expected = case.expected()
    if case.compare is not None:
        assert case.compare(decoded, expected)
    else:
        assert decoded == expected
        assert type(decoded) is type(expected)


@pytest.mark.parametrize("status_id", sorted(STATUS_CASES))
def test_status_fixture(status_id: str) -> None:
    _, labels, ok = STATUS_CASES[status_id]
    wire = parse(status_id)
    status = MxStatus.from_proto(wire)
    assert f"{status.category.label}/{status.detected_by.label}" == labels
    assert status.ok is ok
    assert status.raw_category == wire.raw_category
    assert status.to_proto() == wire


def test_the_two_upstream_goldens_read_as_upstream_shows_them() -> None:
    register = load("register-reply")
    assert register["register"] == {"serverHandle": 12}
    assert register["returnValue"]["int32Value"] == 12
    assert register["statuses"][0]["detectedBy"] == "MX_STATUS_SOURCE_RESPONDING_LMX"
    refused = load("write-refused-by-security-reply")
    assert refused["hresult"] == -2147220992
    assert [(s["category"], s["detail"], s["rawCategory"], s["rawDetectedBy"])
            for s in refused["statuses"]] == [
        ("MX_STATUS_CATEGORY_SECURITY_ERROR", 321, 8, 3),
        ("MX_STATUS_CATEGORY_OPERATIONAL_ERROR", 902, 7, 5),
    ]  # fmt: skip
    assert refused["returnValue"]["rawDataType"] == 2


def _result_view(result: Any) -> Any:
    if isinstance(result, list) and result and isinstance(result[0], mxgateway.SubscribeResult):
        return [(r.tag_address, r.item_handle, r.was_successful) for r in result]
    if isinstance(result, list) and result and isinstance(result[0], mxgateway.BulkWriteResult):
        return [(r.item_handle, r.was_successful) for r in result]
    if isinstance(result, list) and result and isinstance(result[0], mxgateway.BulkReadResult):
        return [(r.tag_address, r.value, r.was_cached, r.timestamp) for r in result]
    return result


@pytest.mark.parametrize("case", COMMAND_CASES, ids=lambda c: c.id)
async def test_command_fixture(case: CommandCase, gateway: RunningGateway) -> None:
    expected_request = parse(f"{case.id}-request")
    reply = parse(f"{case.id}-reply")
    gateway.servicer.handlers[expected_request.kind] = lambda request: reply
    async with await GatewayClient.connect(
        endpoint=gateway.endpoint, api_key=API_KEY, plaintext=True
    ) as client:
        session = await client.open_session(client_session_name="fixtures")
        if case.error is None:
            result = await case.call(session)
            assert _result_view(result) == case.result
        else:
            with pytest.raises(getattr(mxgateway, case.error)) as info:
                await case.call(session)
            error = info.value
            assert isinstance(error, MxGatewayCommandError)
            assert error.reply == reply
            assert error.hresult == reply.hresult
            assert error.protocol_code == reply.protocol_status.code
            assert reply.protocol_status.message in str(error)
    sent = gateway.servicer.requests[-1]
    assert sent.correlation_id.startswith("py-")
    sent.correlation_id = ""
    assert sent == expected_request
    assert to_json(sent) == load(f"{case.id}-request")


async def test_write_refused_golden_keeps_every_status(gateway: RunningGateway) -> None:
    reply = parse("write-refused-by-security-reply")
    gateway.servicer.handlers[pb.MX_COMMAND_KIND_WRITE] = lambda request: reply
    async with await GatewayClient.connect(
        endpoint=gateway.endpoint, api_key=API_KEY, plaintext=True
    ) as client:
        session = await client.open_session(client_session_name="golden")
        with pytest.raises(mxgateway.MxAccessSecurityError) as info:
            await session.write(12, 1, 42.5, user_id=3)
        # invoke_raw returns the same reply as data and does not raise.
        raw = await client.invoke_raw(gateway.servicer.requests[-1])
    error = info.value
    assert isinstance(error, mxgateway.MxAccessFailureError)
    assert error.kind == pb.MX_COMMAND_KIND_WRITE and error.kind_name == "WRITE"
    assert error.category is MxStatusCategory.SECURITY_ERROR
    assert error.detected_by is MxStatusSource.RESPONDING_LMX
    assert error.detail == 321
    assert [s.detail for s in error.statuses] == [321, 902]
    assert error.statuses[1].category is MxStatusCategory.OPERATIONAL_ERROR
    assert error.statuses[1].raw_detected_by == 5
    assert "0x80040200" in str(error) and "SecurityError detected by RespondingLmx" in str(error)
    assert raw.protocol_status.code == pb.PROTOCOL_STATUS_CODE_MXACCESS_FAILURE
    assert list(raw.statuses) == list(reply.statuses)


@pytest.mark.parametrize("auth", AUTH_CASES, ids=lambda c: c["id"])
async def test_auth_fixture(auth: dict[str, Any], gateway: RunningGateway) -> None:
    body = load(auth["id"])
    request = parse(auth["id"], body["request"])
    key = {
        "valid": API_KEY,
        "wrong": "mxgw_wrong_NotTheKey0",
        "read-only": READ_ONLY_KEY,
        None: None,
    }[body["key"]]
    expect = body["expect"]
    async with await GatewayClient.connect(
        endpoint=gateway.endpoint, api_key=key, plaintext=True
    ) as client:

        async def run() -> None:
            if body["rpc"] == "OpenSession":
                await client.open_session_raw(request)
            elif body["rpc"] == "Invoke":
                await client.invoke_raw(request)
            else:
                async for _ in client.stream_events_raw(request.session_id):
                    break

        if expect["code"] == "OK":
            await run()
            return
        with pytest.raises(getattr(mxgateway, expect["error"])) as info:
            await run()
    assert info.value.code.name == expect["code"]
    if "details" in expect:
        assert info.value.details == expect["details"]
    if key:
        assert key not in str(info.value)


async def test_session_event_stream_fixture(gateway: RunningGateway) -> None:
    body = load("session-event-stream")
    events = [parse("session-event-stream", e) for e in body["events"]]
    gateway.servicer.events = events
    gateway.servicer.hold_stream_open = False
    after = int(body["afterWorkerSequence"])
    async with await GatewayClient.connect(
        endpoint=gateway.endpoint, api_key=API_KEY, plaintext=True
    ) as client:
        session = await client.open_session(client_session_name="stream-fixture")
        stream = session.events(after_worker_sequence=after)
        received = [e async for e in stream]
    assert [type(e).__name__ for e in received] == EVENT_TYPES
    assert [e.raw for e in received] == events
    sequences = [e.worker_sequence for e in received[1:]]
    assert sequences == sorted(sequences) and sequences[0] == received[0].oldest_available_sequence
    assert stream.last_worker_sequence == sequences[-1]
