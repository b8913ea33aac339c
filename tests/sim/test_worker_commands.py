"""MxWorker against MXACCESS.md: calls, handles, advise, events and the failure table."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest
from galaxysupport import (
    BUFFERED,
    DATA,
    E_INVALIDARG,
    MXACCESS_FAILURE,
    OK,
    OPERATION,
    WRITE,
    Harness,
    category,
    mx,
    source,
)

from mxgateway import (
    MxStatus,
    MxStatusCategory,
    MxStatusSource,
    Quality,
    SparseArray,
    from_mx_value,
)
from mxgateway.generated import mxaccess_gateway_pb2 as pb


async def test_register_reply_has_the_golden_shape() -> None:
    h = Harness()
    reply = await h.run(register=pb.RegisterCommand(client_name="ck"))
    assert reply.kind == pb.MX_COMMAND_KIND_REGISTER
    assert reply.correlation_id == "corr"
    assert reply.session_id == "session-test"
    assert reply.protocol_status.code == OK
    assert reply.hresult == 0
    handle = reply.register.server_handle
    assert handle > 0
    assert reply.return_value.data_type == pb.MX_DATA_TYPE_INTEGER
    assert reply.return_value.variant_type == "VT_I4"
    assert reply.return_value.int32_value == handle
    (status,) = reply.statuses
    assert MxStatus.from_proto(status).ok
    assert category(status) is MxStatusCategory.OK
    assert source(status) is MxStatusSource.RESPONDING_LMX
    assert (status.raw_category, status.raw_detected_by) == (0, 1)


async def test_server_handles_are_distinct_and_positive() -> None:
    h = Harness()
    handles = [await h.register(f"c{i}") for i in range(3)]
    assert len(set(handles)) == 3 and min(handles) > 0


async def test_register_failure_fault_returns_handle_zero() -> None:
    h = Harness()
    h.worker.set_register_failure(True)
    reply = await h.run(register=pb.RegisterCommand(client_name="x"))
    assert reply.protocol_status.code == MXACCESS_FAILURE
    assert reply.register.server_handle == 0
    h.worker.set_fault("register_failure", False)
    assert await h.register() > 0


async def test_item_handles_count_from_one_per_connection_and_are_reused() -> None:
    h = Harness()
    first = await h.register()
    assert [await h.add("Pump101.Speed.SP"), await h.add("Pump101.Speed.PV")] == [1, 2]
    second = await h.register()
    assert await h.add("Pump101.Running", handle=second) == 1
    h.handle = first
    reply = await h.run(remove_item=pb.RemoveItemCommand(server_handle=first, item_handle=1))
    assert reply.protocol_status.code == OK
    assert await h.add("Pump101.Mode") == 1  # the lowest free handle comes back
    assert await h.add("Pump101.Mode") == 3


async def test_item_handles_not_reused_when_the_setting_is_off() -> None:
    h = Harness(reuse_item_handles=False)
    await h.register()
    await h.add("Pump101.Mode")
    await h.run(remove_item=pb.RemoveItemCommand(server_handle=h.handle, item_handle=1))
    assert await h.add("Pump101.Mode") == 2


@pytest.mark.parametrize(
    "payload",
    [
        {"unregister": pb.UnregisterCommand(server_handle=99)},
        {"add_item": pb.AddItemCommand(server_handle=99, item_reference="Pump101.Mode")},
        {"advise": pb.AdviseCommand(server_handle=1, item_handle=42)},
        {"un_advise": pb.UnAdviseCommand(server_handle=1, item_handle=42)},
        {"remove_item": pb.RemoveItemCommand(server_handle=1, item_handle=42)},
        {"suspend": pb.SuspendCommand(server_handle=1, item_handle=42)},
        {"write": pb.WriteCommand(server_handle=1, item_handle=42, value=mx(1))},
        {"authenticate_user": pb.AuthenticateUserCommand(server_handle=5, user_name="x")},
    ],
)
async def test_unknown_handles_are_invalid_argument_failures(payload: dict[str, object]) -> None:
    h = Harness()
    await h.register()
    reply = await h.run(**payload)
    assert reply.protocol_status.code == MXACCESS_FAILURE
    assert reply.hresult == E_INVALIDARG
    assert reply.return_value.variant_type == "VT_EMPTY" and reply.return_value.is_null
    assert reply.statuses and reply.statuses[0].success == 0
    assert "unknown" in reply.diagnostic_message


async def test_advise_delivers_one_initial_data_change_with_the_current_value() -> None:
    h = Harness()
    await h.register()
    item = await h.subscribe("Pump102.ViewOnly")
    (event,) = h.of(item)
    assert from_mx_value(event.value) == 7
    assert event.value.data_type == pb.MX_DATA_TYPE_INTEGER
    assert event.quality == 192
    assert event.statuses[0].success != 0
    assert event.source_timestamp.seconds > 0
    assert event.worker_sequence == 1 and event.worker_timestamp.seconds > 0
    assert event.HasField("on_data_change")


async def test_advising_twice_is_an_invalid_argument() -> None:
    h = Harness()
    await h.register()
    item = await h.subscribe("Pump101.Mode")
    reply = await h.advise(item)
    assert reply.protocol_status.code == MXACCESS_FAILURE and reply.hresult == E_INVALIDARG


async def test_data_changes_only_for_advised_items() -> None:
    h = Harness()
    await h.register()
    advised = await h.subscribe("Types.Int")
    idle = await h.add("Types.Int")
    await h.write(advised, 5)
    await h.settle()
    assert h.values(advised) == [42, 5]
    assert h.of(idle) == [] and h.of(idle, WRITE) == []


async def test_unadvise_stops_updates() -> None:
    h = Harness()
    await h.register()
    item = await h.subscribe("Types.Int")
    writer = await h.subscribe("Types.Int")
    await h.run(un_advise=pb.UnAdviseCommand(server_handle=h.handle, item_handle=item))
    await h.write(writer, 9)
    await h.settle()
    assert h.values(item) == [42]
    assert h.values(writer) == [42, 9]


async def test_unknown_reference_adds_then_reports_a_configuration_error() -> None:
    h = Harness()
    await h.register()
    item = await h.subscribe("Pump101.Speedd.SP")
    (event,) = h.of(item)
    status = event.statuses[0]
    assert status.success == 0
    assert category(status) is MxStatusCategory.CONFIGURATION_ERROR
    assert Quality(event.quality).is_bad
    reply = await h.write(item, 1)
    assert reply.hresult == E_INVALIDARG


async def test_unknown_reference_event_can_be_turned_off() -> None:
    h = Harness(unknown_reference_event=False)
    await h.register()
    item = await h.subscribe("NoSuchObject.X")
    assert h.of(item) == []


async def test_bare_array_name_fails_with_communication_error_1003() -> None:
    h = Harness()
    await h.register()
    item = await h.subscribe("Types.IntArray")
    status = h.of(item)[0].statuses[0]
    assert status.success == 0
    assert category(status) is MxStatusCategory.COMMUNICATION_ERROR
    assert status.detail == 1003


@pytest.mark.parametrize(
    ("reference", "quality"),
    [
        ("Tank02.Level.PV", 0),  # undeployed
        ("Field01.Flow.PV", 24),  # field link broken
        ("Pump103.Speed.SP", 28),  # off scan
        ("Sensor01.Temp.PV", 16),  # bad sensor
        ("Sensor01.Pressure.PV", 84),  # uncertain
    ],
)
async def test_failure_qualities(reference: str, quality: int) -> None:
    h = Harness()
    await h.register()
    item = await h.subscribe(reference)
    assert h.of(item)[0].quality == quality


async def test_undeployed_quality_can_be_4_and_carries_no_value() -> None:
    h = Harness(
        "version: 1\nsettings: {undeployed-quality: 4}\nareas:\n"
        "  - name: A\n    objects:\n      - name: O\n        deployed: false\n"
        "        attributes: [{name: X, type: double, value: 1}]\n"
    )
    await h.register()
    item = await h.subscribe("O.X")
    event = h.of(item)[0]
    assert event.quality == 4 and event.value.is_null


async def test_scan_state_changes_reach_advised_items() -> None:
    h = Harness()
    await h.register()
    item = await h.subscribe("Pump101.Speed.SP")
    h.runtime.set_scan_state("Pump101", False)
    await h.settle()
    h.runtime.set_scan_state("Pump101", True)
    await h.settle()
    assert [e.quality for e in h.of(item)] == [192, 28, 192]


async def test_write_before_the_first_data_change_is_refused() -> None:
    h = Harness(first_event_delay=30.0)
    await h.register()
    item = await h.add("Types.Int")
    reply = await h.write(item, 1)
    assert reply.protocol_status.code == MXACCESS_FAILURE and reply.hresult == E_INVALIDARG
    await h.advise(item)
    reply = await h.write(item, 1)  # advised, but the initial data change is 30 s away
    assert reply.hresult == E_INVALIDARG
    assert h.of(item) == []


async def test_first_event_delay_applies_to_the_first_advise_only() -> None:
    h = Harness(first_event_delay=0.2, advise_delay=0.0)
    await h.register()
    first = await h.add("Types.Int")
    await h.advise(first)
    second = await h.add("Types.Double")
    await h.advise(second)
    await h.settle()
    assert [e.item_handle for e in h.events] == [second, first]


async def test_write_returns_at_once_then_exactly_one_completion() -> None:
    h = Harness()
    await h.register()
    item = await h.subscribe("Types.Int")
    reply = await h.write(item, 12)
    assert reply.protocol_status.code == OK and reply.hresult == 0
    assert h.of(item, WRITE) == []  # nothing yet: the result comes as an event
    await h.settle()
    (completion,) = h.of(item, WRITE)
    assert MxStatus.from_proto(completion.statuses[0]).ok
    assert h.values(item) == [42, 12]


async def test_pending_completion_precedes_the_final_one_when_enabled() -> None:
    h = Harness(pending_completion=True)
    await h.register()
    item = await h.subscribe("Types.Int")
    await h.write(item, 3)
    await h.settle()
    pending, final = h.of(item, WRITE)
    assert category(pending.statuses[0]) is MxStatusCategory.PENDING
    assert category(final.statuses[0]) is MxStatusCategory.OK


@pytest.mark.parametrize("reference", ["Pump102.ReadOnly", "Pump102.ViewOnly", "Types.Int.Quality"])
async def test_read_only_writes_complete_with_operational_error(reference: str) -> None:
    h = Harness()
    await h.register()
    item = await h.subscribe(reference)
    status = await h.write_outcome(item, 1)
    assert status.success == 0
    assert category(status) is MxStatusCategory.OPERATIONAL_ERROR
    assert source(status) is MxStatusSource.RESPONDING_AUTOMATION_OBJECT


async def test_a_double_written_to_an_integer_is_coerced() -> None:
    h = Harness()
    await h.register()
    item = await h.subscribe("Types.Int")
    status = await h.write_outcome(item, 40.6)
    assert MxStatus.from_proto(status).ok
    assert h.values(item) == [42, 41]
    await h.write_outcome(item, 2.5)  # half to even, like VariantChangeType
    assert h.values(item)[-1] == 2
    await h.write_outcome(item, "17")
    assert h.values(item)[-1] == 17


@pytest.mark.parametrize(
    ("reference", "value"),
    [("Types.Int", "abc"), ("Types.Time", 5), ("Types.Int", 1e12), ("Types.Bool", "maybe")],
)
async def test_unconvertible_values_complete_with_software_error(
    reference: str, value: object
) -> None:
    h = Harness()
    await h.register()
    item = await h.subscribe(reference)
    status = await h.write_outcome(item, value)
    assert status.success == 0
    assert category(status) is MxStatusCategory.SOFTWARE_ERROR
    assert len(h.of(item)) == 1  # no data change: the value did not change


async def test_write2_sets_the_source_timestamp() -> None:
    h = Harness()
    await h.register()
    item = await h.subscribe("Types.Double")
    stamp = datetime(2026, 5, 1, 8, 30, tzinfo=UTC)
    cmd = pb.Write2Command(
        server_handle=h.handle, item_handle=item, value=mx(9.5), timestamp_value=mx(stamp)
    )
    reply = await h.run(write2=cmd)
    assert reply.protocol_status.code == OK
    await h.settle()
    event = h.of(item)[-1]
    assert from_mx_value(event.value) == 9.5
    assert event.source_timestamp.ToDatetime(tzinfo=UTC) == stamp


async def test_local_timestamps_are_shifted_by_the_offset() -> None:
    text = (
        "version: 1\nsettings: {timestamps: local, local-offset: '+02:00'}\nareas:\n"
        "  - name: A\n    attributes: [{name: X, type: integer, value: 1}]\n"
    )
    h = Harness(text)
    await h.register()
    item = await h.subscribe("A.X")
    event = h.of(item)[0]
    assert event.source_timestamp.seconds == int(h.clock()) + 7200
    assert event.worker_timestamp.seconds == int(h.clock())  # the worker's own clock stays UTC


async def test_suspend_pauses_and_activate_resumes() -> None:
    h = Harness()
    await h.register()
    item = await h.subscribe("Types.Int")
    writer = await h.subscribe("Types.Int")
    reply = await h.run(suspend=pb.SuspendCommand(server_handle=h.handle, item_handle=item))
    assert reply.protocol_status.code == OK
    await h.write(writer, 1)
    await h.write(writer, 2)
    await h.settle()
    assert h.values(item) == [42]
    await h.run(activate=pb.ActivateCommand(server_handle=h.handle, item_handle=item))
    await h.settle()
    assert h.values(item) == [42, 2]
    assert len(h.of(item, OPERATION)) == 2  # suspend and activate completions


async def test_buffered_items_deliver_batches() -> None:
    h = Harness()
    await h.register()
    cmd = pb.AddBufferedItemCommand(server_handle=h.handle, item_reference="Types.Int")
    reply = await h.run(add_buffered_item=cmd)
    item = reply.add_buffered_item.item_handle
    interval = pb.SetBufferedUpdateIntervalCommand(
        server_handle=h.handle, update_interval_ms=60_000
    )
    assert (await h.run(set_buffered_update_interval=interval)).protocol_status.code == OK
    writer = await h.subscribe("Types.Int")
    await h.advise(item)
    await h.settle()
    await h.write(writer, 1)
    await h.write(writer, 2)
    await h.settle()
    assert h.of(item) == [] and h.of(item, BUFFERED) == []
    h.worker.flush_buffers()
    await h.settle()
    (batch,) = h.of(item, BUFFERED)
    assert from_mx_value(batch.value) == [42, 1, 2]
    assert batch.on_buffered_data_change.data_type == pb.MX_DATA_TYPE_INTEGER
    assert batch.on_buffered_data_change.raw_data_type == 2


async def test_buffered_interval_must_be_positive() -> None:
    h = Harness()
    await h.register()
    cmd = pb.SetBufferedUpdateIntervalCommand(server_handle=h.handle, update_interval_ms=0)
    assert (await h.run(set_buffered_update_interval=cmd)).hresult == E_INVALIDARG


async def test_buffered_batches_flush_on_their_own() -> None:
    h = Harness()
    await h.register()
    interval = pb.SetBufferedUpdateIntervalCommand(server_handle=h.handle, update_interval_ms=20)
    await h.run(set_buffered_update_interval=interval)
    cmd = pb.AddBufferedItemCommand(server_handle=h.handle, item_reference="Types.Int")
    item = (await h.run(add_buffered_item=cmd)).add_buffered_item.item_handle
    await h.advise(item)
    await h.wait_for(lambda: bool(h.of(item, BUFFERED)))
    assert from_mx_value(h.of(item, BUFFERED)[0].value) == [42]


async def test_elements_bits_and_properties() -> None:
    h = Harness()
    await h.register()
    element = await h.subscribe("Types.IntArray[2]")
    whole = await h.subscribe("Types.IntArray[]")
    bit = await h.subscribe("Pump101.StatusWord.02")
    quality = await h.subscribe("Types.Int.Quality")
    assert h.values(element) == [2] and h.values(whole) == [[1, 2, 3, 4, 5]]
    assert h.values(bit) == [True] and h.values(quality) == [192]
    await h.write_outcome(element, 20)
    assert h.values(whole)[-1] == [1, 20, 3, 4, 5]
    await h.write_outcome(bit, False)
    assert h.runtime.read(("Pump101", "StatusWord")).value == 1
    h.runtime.set_quality("Types.Int", 64)
    await h.settle()
    assert h.values(quality) == [192, 64]


async def test_relative_names_resolve_with_the_addItem2_context() -> None:
    h = Harness()
    await h.register()
    me = await h.add("Me.Speed.SP", "Pump101")
    area = await h.add("MyArea.Description", "Pump101")
    container = await h.add("MyContainer.Speed.SP", "Pump101.Motor")
    bare = await h.add("Me.Speed.SP")
    for item in (me, area, container, bare):
        await h.advise(item)
    await h.settle()
    assert h.values(me) == [0.0] and h.values(area) == ["Pumping area"]
    assert h.values(container) == [0.0]
    assert h.of(bare)[0].statuses[0].success == 0


async def test_kind_and_payload_must_agree() -> None:
    h = Harness()
    request = pb.MxCommandRequest(
        kind=pb.MX_COMMAND_KIND_UNREGISTER, register=pb.RegisterCommand(client_name="x")
    )
    reply = await h.worker.execute(request)
    assert reply.protocol_status.code == pb.PROTOCOL_STATUS_CODE_INVALID_REQUEST
    empty = await h.worker.execute(pb.MxCommandRequest())
    assert empty.protocol_status.code == pb.PROTOCOL_STATUS_CODE_INVALID_REQUEST
    drain = await h.run(drain_events=pb.DrainEventsCommand())
    assert drain.protocol_status.code == pb.PROTOCOL_STATUS_CODE_INVALID_REQUEST


async def test_every_command_kind_but_drain_events_is_answered() -> None:
    h = Harness()
    answered = {name for name in pb.MxCommandRequest.DESCRIPTOR.oneofs_by_name["payload"].fields}
    handled = {f.name for f in answered if f.name in h.worker._handlers}  # type: ignore[attr-defined]
    assert {f.name for f in answered} - handled == {"drain_events"}


async def test_worker_sequence_is_contiguous_from_one() -> None:
    h = Harness()
    await h.register()
    item = await h.subscribe("Types.Int")
    for value in range(5):
        await h.write(item, value + 100)
    await h.settle()
    assert [e.worker_sequence for e in h.events] == list(range(1, len(h.events) + 1))


async def test_event_latency_delays_but_keeps_order() -> None:
    h = Harness()
    await h.register()
    h.worker.set_event_latency(0.05)
    item = await h.subscribe("Types.Int")
    await h.write(item, 5)
    await h.settle()
    assert [e.family for e in h.events] == [DATA, DATA, WRITE]
    assert [e.worker_sequence for e in h.events] == [1, 2, 3]


async def test_command_latency_delays_replies() -> None:
    h = Harness()
    h.worker.set_latency(0.1)
    start = time.monotonic()
    await h.register()
    assert time.monotonic() - start >= 0.1


async def test_dropped_write_completions_never_arrive_but_the_write_applies() -> None:
    h = Harness()
    await h.register()
    item = await h.subscribe("Types.Int")
    h.worker.drop_write_completions(True)
    await h.write(item, 77)
    await h.settle()
    assert h.of(item, WRITE) == [] and h.values(item) == [42, 77]


async def test_snapshot_and_shutdown_release_everything() -> None:
    h = Harness()
    await h.register("a")
    await h.subscribe("Types.Int")
    await h.add("Types.Double")
    snap = h.worker.snapshot()
    assert (snap.server_handles, snap.items, snap.advised) == (1, 2, 1)
    assert snap.connections[0].client_name == "a"
    assert h.runtime.subscriber_count() == 1
    await h.worker.shutdown()
    assert h.runtime.subscriber_count() == 0
    snap = h.worker.snapshot()
    assert (snap.server_handles, snap.items, snap.advised, snap.closed) == (0, 0, 0, True)
    reply = await h.run(register=pb.RegisterCommand(client_name="late"))
    assert reply.protocol_status.code == pb.PROTOCOL_STATUS_CODE_WORKER_UNAVAILABLE
    await h.worker.shutdown()  # idempotent


async def test_unregister_releases_items() -> None:
    h = Harness()
    await h.register()
    await h.subscribe("Types.Int")
    reply = await h.run(unregister=pb.UnregisterCommand(server_handle=h.handle))
    assert reply.protocol_status.code == OK
    assert h.runtime.subscriber_count() == 0
    assert h.worker.snapshot().server_handles == 0


async def test_writes_from_one_session_reach_another() -> None:
    a = Harness()
    b = Harness(runtime=a.runtime)
    await a.register()
    await b.register()
    item_a = await a.subscribe("Types.Int")
    item_b = await b.subscribe("Types.Int")
    await a.write(item_a, 5)
    await a.settle()
    await b.settle()
    assert b.values(item_b) == [42, 5]


async def test_shutdown_interrupts_a_command_held_by_latency() -> None:
    h = Harness()
    h.worker.set_fault("latency", 60.0)
    pending = asyncio.ensure_future(h.run(register=pb.RegisterCommand(client_name="x")))
    await asyncio.sleep(0)
    async with asyncio.timeout(5):
        await h.worker.shutdown()
        reply = await pending
    assert reply.protocol_status.code == pb.PROTOCOL_STATUS_CODE_WORKER_UNAVAILABLE
    assert h.worker.faults()["latency"] == 60.0


async def test_sparse_array_writes_reset_unlisted_elements() -> None:
    h = Harness()
    await h.register()
    item = await h.subscribe("Types.IntArray[]")
    sparse = mx(SparseArray("int32", 4, {1: 9}))
    cmd = pb.WriteCommand(server_handle=h.handle, item_handle=item, value=sparse)
    assert (await h.run(write=cmd)).protocol_status.code == OK
    await h.settle()
    assert h.values(item)[-1] == [0, 9, 0, 0]


async def test_write2_with_a_timestamp_that_is_not_a_time_is_refused() -> None:
    h = Harness()
    await h.register()
    item = await h.subscribe("Types.Double")
    cmd = pb.Write2Command(
        server_handle=h.handle, item_handle=item, value=mx(1.0), timestamp_value=mx("soon")
    )
    reply = await h.run(write2=cmd)
    assert reply.protocol_status.code == MXACCESS_FAILURE and reply.hresult == E_INVALIDARG


async def test_writing_the_setpoint_moves_the_pv_through_ticks() -> None:
    h = Harness()
    await h.register()
    user = await h.authenticate("operator", "operator1")
    sp = await h.subscribe("Pump101.Speed.SP")
    pv = await h.subscribe("Pump101.Speed.PV")
    assert (await h.write_outcome(sp, 42.5, user=user)).success != 0
    for _ in range(15):
        h.clock.advance(1.0)
        h.runtime.tick()
    await h.settle()
    values = h.values(pv)
    assert values[0] == 0.0
    assert values == sorted(values) and len(values) == 16
    assert values[-1] == pytest.approx(42.5, abs=0.1)


async def test_an_unknown_command_kind_number_is_an_invalid_request() -> None:
    h = Harness()
    request = pb.MxCommandRequest(register=pb.RegisterCommand(client_name="x"))
    request.kind = 999  # type: ignore[assignment]
    reply = await h.worker.execute(request)
    assert reply.protocol_status.code == pb.PROTOCOL_STATUS_CODE_INVALID_REQUEST
    assert "999" in reply.protocol_status.message


async def test_timing_settings_change_while_running() -> None:
    h = Harness()
    await h.register()
    h.worker.set_fault("pending_completion", True)
    assert h.worker.faults()["pending_completion"] is True
    item = await h.subscribe("Types.Int")
    await h.write(item, 5)
    await h.settle()
    assert [category(e.statuses[0]) for e in h.of(item, WRITE)] == [
        MxStatusCategory.PENDING,
        MxStatusCategory.OK,
    ]
    with pytest.raises(ValueError, match="unknown worker"):
        h.worker.update_settings(colour="red")
    with pytest.raises(ValueError, match="unknown worker fault"):
        h.worker.set_fault("colour", 1)
