"""The event fast path keeps the wire exactly as the generated classes write it.

Batches are encoded by hand and data changes are parsed from a per-change template, so
these tests compare both with what the generated classes produce, field by field and byte
for byte, for every event kind.
"""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
from galaxysupport import DATA, WRITE, Harness
from simsupport import advised, write_many

from mxgateway import MxDataType, MxStatusCategory, MxStatusSource, to_mx_value
from mxgateway._client import GatewayClient
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway.generated import mxaccess_gateway_pb2_grpc as pb_grpc
from mxgateway.generated import mxgw_extensions_pb2 as ext
from mxgateway.generated import mxgw_extensions_pb2_grpc as ext_grpc
from mxgw_sim.events import EventHub, sentinel
from mxgw_sim.galaxy.coerce import encode
from mxgw_sim.galaxy.live import utc_timestamp
from mxgw_sim.galaxy.outcomes import DETAIL_NOT_DEPLOYED
from mxgw_sim.testing import USER_KEY
from mxgw_sim.wire import (
    encode_event_batch,
    int32_field,
    sequence_field,
    timestamp_field,
    varint,
)
from mxgw_sim.worker.replies import ok_status, status

AUTH = (("authorization", f"Bearer {USER_KEY}"),)


def _ok() -> pb.MxStatusProxy:
    return pb.MxStatusProxy(
        success=-1,
        category=pb.MX_STATUS_CATEGORY_OK,
        detected_by=pb.MX_STATUS_SOURCE_REQUESTING_LMX,
    )


def _every_kind() -> list[pb.MxEvent]:
    """One event of every kind the simulator sends, fully stamped."""
    stamp = utc_timestamp(1_772_323_200.25)
    data = pb.MxEvent(family=pb.MX_EVENT_FAMILY_ON_DATA_CHANGE, server_handle=1, item_handle=7)
    data.value.CopyFrom(to_mx_value(-12345, "Integer"))
    data.quality = 192
    data.source_timestamp.CopyFrom(stamp)
    data.statuses.append(_ok())
    data.on_data_change.SetInParent()
    write = pb.MxEvent(family=pb.MX_EVENT_FAMILY_ON_WRITE_COMPLETE, server_handle=1, item_handle=7)
    write.statuses.append(_ok())
    write.on_write_complete.SetInParent()
    operation = pb.MxEvent(family=pb.MX_EVENT_FAMILY_OPERATION_COMPLETE, item_handle=2)
    operation.operation_complete.SetInParent()
    buffered = pb.MxEvent(family=pb.MX_EVENT_FAMILY_ON_BUFFERED_DATA_CHANGE, item_handle=3)
    buffered.value.CopyFrom(encode([1.5, 2.5], MxDataType.DOUBLE, True))
    buffered.on_buffered_data_change.raw_data_type = 5
    alarm = pb.MxEvent(family=pb.MX_EVENT_FAMILY_ON_ALARM_TRANSITION, server_handle=-3)
    alarm.on_alarm_transition.SetInParent()
    alarm.hresult = -2147024809
    alarm.raw_status = "x" * 20_000  # an event longer than the prefix table
    events = [sentinel(4, 9), data, write, operation, buffered, alarm]
    for number, event in enumerate(events[1:], start=10):
        event.worker_sequence = number
        event.worker_timestamp.CopyFrom(stamp)
        event.gateway_receive_timestamp.CopyFrom(stamp)
    return events


def test_batch_encoding_is_what_the_generated_batch_serializes_to() -> None:
    events = _every_kind()
    wire = encode_event_batch(events)
    assert wire == ext.MxEventBatch(events=events).SerializeToString()
    parsed = ext.MxEventBatch.FromString(wire)
    assert list(parsed.events) == events
    assert encode_event_batch([]) == b""


async def test_a_data_change_without_a_value_equals_one_built_field_by_field() -> None:
    """An undeployed object's attribute: no value, its quality and the not-deployed status."""
    harness = Harness()
    await harness.register()
    item = await harness.add("Tank02.Level.PV")
    await harness.advise(item)
    await harness.settle()
    (event,) = harness.of(item, DATA)
    state = harness.runtime.read(("Tank02", "Level.PV"))
    expected = pb.MxEvent(
        family=DATA, server_handle=harness.handle, item_handle=item, quality=state.quality
    )
    expected.value.CopyFrom(encode(None, MxDataType.DOUBLE, False))
    expected.source_timestamp.CopyFrom(harness.runtime.timestamp(state.timestamp))
    expected.statuses.append(
        status(
            MxStatusCategory.COMMUNICATION_ERROR,
            MxStatusSource.RESPONDING_NMX,
            detail=DETAIL_NOT_DEPLOYED,
            text="the object is not deployed",
        )
    )
    expected.on_data_change.SetInParent()
    expected.worker_sequence = event.worker_sequence
    expected.worker_timestamp.CopyFrom(event.worker_timestamp)
    assert event == expected
    assert event.SerializeToString() == expected.SerializeToString()


async def test_a_write_completion_equals_one_built_field_by_field() -> None:
    harness = Harness()
    await harness.register()
    item = await harness.add("Pump102.Free")
    await harness.advise(item)
    await harness.settle()
    reply = await harness.write(item, 5, type="Integer")
    assert reply.protocol_status.code == pb.PROTOCOL_STATUS_CODE_OK
    await harness.settle()
    (event,) = harness.of(item, WRITE)
    expected = pb.MxEvent(family=WRITE, server_handle=harness.handle, item_handle=item)
    expected.statuses.append(
        ok_status(
            harness.worker.settings.success_value, MxStatusSource.RESPONDING_AUTOMATION_OBJECT
        )
    )
    expected.on_write_complete.SetInParent()
    expected.worker_sequence = event.worker_sequence
    expected.worker_timestamp.CopyFrom(event.worker_timestamp)
    assert event == expected
    assert event.SerializeToString() == expected.SerializeToString()
    assert event.worker_sequence == harness.of(item, DATA)[-1].worker_sequence + 1


def test_handle_fields_are_what_the_generated_event_serializes_to() -> None:
    for server, item in [(1, 1), (0, 5), (127, 128), (-1, 2**31 - 1), (-(2**31), 300)]:
        expected = pb.MxEvent(server_handle=server, item_handle=item).SerializeToString()
        assert int32_field(2, server) + int32_field(3, item) == expected


async def test_fanned_out_data_changes_equal_events_built_field_by_field() -> None:
    """Items sharing an attribute (and one showing another part of it) each get the event
    the worker used to build from scratch, differing only where they must."""
    harness = Harness()
    await harness.register()
    references = ["Types.IntArray[]", "Types.IntArray[]", "Types.IntArray[2]", "Types.Int"]
    items = [await harness.add(reference) for reference in references]
    for item in items:
        await harness.advise(item)
    await harness.settle()
    reply = await harness.write(items[0], [9, 8, 7, 6, 5], type="Integer[]")
    assert reply.protocol_status.code == pb.PROTOCOL_STATUS_CODE_OK
    await harness.settle()
    state = harness.runtime.read(("Types", "IntArray"))
    expected_values = {
        items[0]: encode([9, 8, 7, 6, 5], MxDataType.INTEGER, True),
        items[1]: encode([9, 8, 7, 6, 5], MxDataType.INTEGER, True),
        items[2]: encode(8, MxDataType.INTEGER, False),
    }
    for item, value in expected_values.items():
        event = harness.of(item, DATA)[-1]
        expected = pb.MxEvent(
            family=DATA, server_handle=harness.handle, item_handle=item, quality=state.quality
        )
        expected.value.CopyFrom(value)
        expected.source_timestamp.CopyFrom(harness.runtime.timestamp(state.timestamp))
        expected.statuses.append(ok_status(harness.worker.settings.success_value))
        expected.on_data_change.SetInParent()
        expected.worker_sequence = event.worker_sequence
        expected.worker_timestamp.CopyFrom(event.worker_timestamp)
        assert event == expected
        assert event.SerializeToString() == expected.SerializeToString()
    sequences = [e.worker_sequence for e in harness.events]
    assert sequences == list(range(1, len(sequences) + 1))
    assert len(harness.of(items[3], DATA)) == 1  # another attribute: its initial value only


async def test_scalar_values_written_from_a_learned_prefix_equal_the_encoding() -> None:
    """Integer, double and float changes (the first encoded in full, the later ones from
    the fields learned for the data type) carry exactly what ``encode`` makes."""
    harness = Harness()
    await harness.register()
    cases: list[tuple[str, str, MxDataType, list[Any]]] = [
        ("Types.Int", "Integer", MxDataType.INTEGER, [7, 0, -1, 2**31 - 1, -(2**31), 300, 1]),
        ("Types.Double", "Double", MxDataType.DOUBLE, [0.5, -0.0, 1e300, -2.25, 3.0, 0.1]),
        ("Types.Float", "Float", MxDataType.FLOAT, [0.5, -2.25, 1.0]),
    ]
    for reference, type_name, data_type, values in cases:
        item = await harness.add(reference)
        await harness.advise(item)
        await harness.settle()
        for value in values:
            reply = await harness.write(item, value, type=type_name)
            assert reply.protocol_status.code == pb.PROTOCOL_STATUS_CODE_OK
            await harness.settle()
            event = harness.of(item, DATA)[-1]
            assert event.value == encode(value, data_type, False), (reference, value)
            expected = encode(value, data_type, False).SerializeToString()
            assert event.value.SerializeToString() == expected


def test_numbered_changes_of_any_sequence_parse_to_the_right_events() -> None:
    """The hub writes field 8 of a whole change at once (from the table below 2**14, from
    the low bits and the rest above it): every event as generated, also for changes that
    cross a varint length or the table's wrap-around."""
    hub = EventHub(ring_size=1_000, queue_limit=1_000)
    stamp = timestamp_field(9, 1_772_323_200, 5)
    body = b"\xa2\x01\x00"  # on_data_change
    firsts = [1, 126, 16_380, 3 * 16_384 - 2, 2**21 - 3, 2**28 - 2, 2**40 - 1]
    changes = []
    for first in firsts:
        # items whose handles differ in length: the heads of one change need not be equal
        handles = [int32_field(3, item) for item in (7, 300, 70_000, 1)]
        changes.append((first, int32_field(1, DATA), handles, int32_field(5, 192), stamp, body))
    hub.publish_many(changes)
    expected_sequences = [first + n for first in firsts for n in range(4)]
    assert hub.last_sequence == expected_sequences[-1]
    drained = hub.drain(0)
    assert [event.worker_sequence for event in drained] == expected_sequences
    for number, event in enumerate(drained):
        expected = pb.MxEvent(
            family=DATA,
            item_handle=(7, 300, 70_000, 1)[number % 4],
            quality=192,
            worker_sequence=expected_sequences[number],
        )
        expected.worker_timestamp.seconds = 1_772_323_200
        expected.worker_timestamp.nanos = 5
        expected.gateway_receive_timestamp.CopyFrom(event.gateway_receive_timestamp)
        expected.on_data_change.SetInParent()
        assert event.SerializeToString() == expected.SerializeToString()
    for sequence in [1, 127, 128, 16_383, 16_384, 2**21 - 1, 2**21, 2**40]:
        assert sequence_field(sequence) == pb.MxEvent(worker_sequence=sequence).SerializeToString()


async def test_batches_of_wire_events_encode_as_generated() -> None:
    """The framed-in-C path (wire events only), a long wire event and a batch mixing
    wire events and messages all give what ``MxEventBatch`` serializes to."""
    hub = EventHub(ring_size=100, queue_limit=100)
    sub = hub.attach(0)
    family, handles = int32_field(1, DATA), [int32_field(3, 7)]
    stamp = timestamp_field(9, 1_772_323_200, 5)
    long_tail = b"\x6a" + varint(20_000) + b"x" * 20_000 + b"\xa2\x01\x00"  # raw_status
    hub.publish_many(
        [
            (1, family, handles * 3, b"", stamp, b"\xa2\x01\x00"),
            (4, family, handles, b"", stamp, long_tail),
        ]
    )
    message = _every_kind()[2]
    message.worker_sequence = 5
    hub.publish(message)
    batch = await sub.next_batch(10)
    assert len(batch) == 5
    messages = [pb.MxEvent.FromString(e[1]) if type(e) is tuple else e for e in batch]
    for part in (batch[:3], batch[:4], batch):
        expected = ext.MxEventBatch(events=messages[: len(part)]).SerializeToString()
        assert encode_event_batch(part) == expected


async def test_publishing_a_list_equals_publishing_one_by_one() -> None:
    one, many = EventHub(ring_size=4, queue_limit=100), EventHub(ring_size=4, queue_limit=100)
    sub_one, sub_many = one.attach(0), many.attach(0)
    events = _every_kind()[1:]
    for event in events:
        copy = pb.MxEvent()
        copy.CopyFrom(event)
        one.publish(copy)
    many.publish_many(list(events))
    assert one.last_sequence == many.last_sequence == events[-1].worker_sequence
    assert one.oldest_sequence == many.oldest_sequence
    assert await sub_one.next_batch(10) == await sub_many.next_batch(10)


async def test_publishing_a_list_past_the_queue_limit_disconnects() -> None:
    overflows: list[bool] = []
    hub = EventHub(queue_limit=3, on_overflow=lambda: overflows.append(True))
    sub = hub.attach(0)
    hub.publish_many(_every_kind()[1:])
    assert overflows == [True]
    assert sub.ended is not None and not hub.attached


async def _take(call: Any, count: int, per_message: Any) -> list[pb.MxEvent]:
    out: list[pb.MxEvent] = []

    async def take() -> None:
        async for message in call:
            out.extend(per_message(message))
            if len(out) >= count:
                return

    try:
        await asyncio.wait_for(take(), 10)
    finally:
        call.cancel()
    return out


async def test_batched_and_single_streams_carry_identical_events(client: GatewayClient) -> None:
    """The same ring events, once through the hand-encoded batches and once through
    StreamEvents (serialized by the generated classes): equal field by field."""
    async with await client.open_session("wire") as session:
        handle, item = await advised(session)
        await write_many(session, handle, item, 40)
        async with grpc.aio.insecure_channel(client.endpoint) as channel:
            batches = ext_grpc.MxGatewayExtensionsStub(channel).StreamEventBatches(
                ext.StreamEventBatchesRequest(
                    session_id=session.session_id, after_worker_sequence=1, max_batch_size=7
                ),
                metadata=AUTH,
            )
            batched = await _take(batches, 79, lambda batch: batch.events)
            stub = pb_grpc.MxAccessGatewayStub(channel)
            request = pb.StreamEventsRequest(session_id=session.session_id, after_worker_sequence=1)
            # The cancelled batch stream leaves the session a moment after the client lets
            # go: until then the session's one stream slot is taken (ALREADY_EXISTS).
            deadline = asyncio.get_running_loop().time() + 5
            while True:
                try:
                    single = await _take(
                        stub.StreamEvents(request, metadata=AUTH), 79, lambda event: [event]
                    )
                    break
                except grpc.aio.AioRpcError as exc:
                    if exc.code() != grpc.StatusCode.ALREADY_EXISTS:
                        raise
                    assert asyncio.get_running_loop().time() < deadline, "the slot stayed taken"
                    await asyncio.sleep(0.02)
    assert [e.worker_sequence for e in batched[:79]] == list(range(2, 81))
    assert batched[:79] == single[:79]
    kinds = {e.WhichOneof("body") for e in batched}
    assert kinds == {"on_data_change", "on_write_complete"}
