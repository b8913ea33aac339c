"""Event streams: typed events, resume, replay gaps, batching fallback, cancellation."""

from __future__ import annotations

import asyncio

import pytest
from client_testserver import API_KEY, RunningGateway, wait_for

from mxgateway import (
    ActiveAlarm,
    AlarmSnapshotComplete,
    AlarmTransition,
    BufferedDataChange,
    DataChange,
    GatewayClient,
    InvalidRequestError,
    MxDataType,
    MxStatusCategory,
    OperationComplete,
    ReplayGap,
    Session,
    StreamAlreadyOpenError,
    WriteComplete,
    to_mx_value,
)
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway.generated import mxgw_extensions_pb2 as ext


def data_change(seq: int, value: object = 1.5, quality: int = 192) -> pb.MxEvent:
    return pb.MxEvent(
        family=pb.MX_EVENT_FAMILY_ON_DATA_CHANGE,
        server_handle=1,
        item_handle=2,
        value=to_mx_value(value),
        quality=quality,
        worker_sequence=seq,
        statuses=[pb.MxStatusProxy(success=-1, category=pb.MX_STATUS_CATEGORY_OK)],
        on_data_change=pb.OnDataChangeEvent(),
    )


def mixed_events() -> list[pb.MxEvent]:
    write_failed = pb.MxStatusProxy(
        success=0,
        category=pb.MX_STATUS_CATEGORY_OPERATIONAL_ERROR,
        detected_by=pb.MX_STATUS_SOURCE_RESPONDING_AUTOMATION_OBJECT,
        detail=17,
        raw_category=5,
        raw_detected_by=5,
    )
    return [
        data_change(1),
        pb.MxEvent(
            family=pb.MX_EVENT_FAMILY_ON_WRITE_COMPLETE,
            server_handle=1,
            item_handle=2,
            worker_sequence=2,
            statuses=[write_failed],
            on_write_complete=pb.OnWriteCompleteEvent(),
        ),
        pb.MxEvent(
            family=pb.MX_EVENT_FAMILY_OPERATION_COMPLETE,
            worker_sequence=3,
            operation_complete=pb.OperationCompleteEvent(),
        ),
        pb.MxEvent(
            family=pb.MX_EVENT_FAMILY_ON_BUFFERED_DATA_CHANGE,
            worker_sequence=4,
            value=to_mx_value([1, 2, 3]),
            quality=192,
            on_buffered_data_change=pb.OnBufferedDataChangeEvent(
                data_type=pb.MX_DATA_TYPE_INTEGER, raw_data_type=2
            ),
        ),
        pb.MxEvent(
            family=pb.MX_EVENT_FAMILY_ON_ALARM_TRANSITION,
            worker_sequence=5,
            on_alarm_transition=pb.OnAlarmTransitionEvent(
                alarm_full_reference="Tank01.Level.HiAlarm",
                transition_kind=pb.ALARM_TRANSITION_KIND_RAISE,
                raw_severity=500,
            ),
        ),
    ]


async def test_typed_events_in_order(gateway: RunningGateway, session: Session) -> None:
    gateway.servicer.events = mixed_events()
    gateway.servicer.hold_stream_open = False
    stream = session.events()
    events = [event async for event in stream]
    assert [type(e) for e in events] == [
        DataChange,
        WriteComplete,
        OperationComplete,
        BufferedDataChange,
        AlarmTransition,
    ]
    assert [e.worker_sequence for e in events] == [1, 2, 3, 4, 5]
    assert stream.last_worker_sequence == 5
    change, write, _, buffered, alarm = events
    assert isinstance(change, DataChange)
    assert change.value == 1.5 and change.quality.is_good and change.ok
    assert (change.server_handle, change.item_handle) == (1, 2)
    assert change.raw is gateway.servicer.events[0] or change.raw == gateway.servicer.events[0]
    assert isinstance(write, WriteComplete) and not write.ok
    assert write.status is not None
    assert write.status.category is MxStatusCategory.OPERATIONAL_ERROR
    assert write.status.detected_by.label == "RespondingAutomationObject"
    assert isinstance(buffered, BufferedDataChange)
    assert buffered.value == [1, 2, 3] and buffered.data_type is MxDataType.INTEGER
    assert isinstance(alarm, AlarmTransition)
    assert alarm.kind == "RAISE" and alarm.alarm_full_reference == "Tank01.Level.HiAlarm"


async def test_resume_after_worker_sequence(gateway: RunningGateway, session: Session) -> None:
    gateway.servicer.events = mixed_events()
    gateway.servicer.hold_stream_open = False
    events = [e async for e in session.events(after_worker_sequence=3)]
    assert [e.worker_sequence for e in events] == [4, 5]
    request = gateway.servicer.probes[-1].request
    assert request.after_worker_sequence == 3 and request.session_id == session.session_id


async def test_replay_gap_is_a_typed_event(gateway: RunningGateway, session: Session) -> None:
    gap = pb.MxEvent(
        replay_gap=pb.ReplayGap(requested_after_sequence=2, oldest_available_sequence=10)
    )
    gateway.servicer.events = [gap, data_change(10), data_change(11)]
    gateway.servicer.hold_stream_open = False
    stream = session.events(after_worker_sequence=2)
    events = [e async for e in stream]
    first = events[0]
    assert isinstance(first, ReplayGap)
    assert (first.requested_after_sequence, first.oldest_available_sequence) == (2, 10)
    assert first.lost == 7
    assert [e.worker_sequence for e in events[1:]] == [10, 11]
    assert stream.last_worker_sequence == 11


async def test_leaving_the_loop_cancels_the_call(gateway: RunningGateway, session: Session) -> None:
    gateway.servicer.events = [data_change(1), data_change(2)]
    async for event in session.events():
        assert event.worker_sequence == 1
        break
    probe = gateway.servicer.probes[-1]
    await wait_for(probe.cancelled, "the server to see the stream cancelled")


async def test_cancelling_the_task_cancels_the_call(
    gateway: RunningGateway, session: Session
) -> None:
    received: list[int] = []

    async def consume() -> None:
        async for event in session.events():
            received.append(event.worker_sequence)

    gateway.servicer.events = [data_change(1)]
    task = asyncio.create_task(consume())
    await wait_for(gateway.servicer.stream_started, "the stream to start")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_for(gateway.servicer.probes[-1].cancelled, "the server to see the cancellation")


async def test_async_with_and_aclose_cancel(gateway: RunningGateway, session: Session) -> None:
    async with session.events() as stream:
        await wait_for(gateway.servicer.stream_started, "the stream to start")
    await wait_for(gateway.servicer.probes[-1].cancelled, "cancellation after async with")
    raw = session.client.stream_events_raw(session.session_id)
    await wait_for(gateway.servicer.probes[-1].started, "the raw stream to start")
    await raw.aclose()
    await wait_for(gateway.servicer.probes[-1].cancelled, "cancellation after aclose")
    assert [e async for e in stream] == []


async def test_second_stream_is_already_open(gateway: RunningGateway, session: Session) -> None:
    first = session.events()
    await wait_for(gateway.servicer.stream_started, "the first stream to start")
    with pytest.raises(StreamAlreadyOpenError) as info:
        async for _ in session.events():
            pass
    assert info.value.code.name == "ALREADY_EXISTS"
    await first.aclose()


async def test_batches_used_when_offered(gateway: RunningGateway, session: Session) -> None:
    gateway.servicer.events = [data_change(n) for n in range(1, 8)]
    gateway.servicer.hold_stream_open = False
    stream = session.events(batch=True)
    events = [e async for e in stream]
    assert stream.method == "StreamEventBatches"
    assert [p.method for p in gateway.servicer.probes] == ["StreamEventBatches"]
    assert [e.worker_sequence for e in events] == list(range(1, 8))


async def test_batch_delay_is_asked_only_when_given(
    gateway: RunningGateway, session: Session
) -> None:
    gateway.servicer.events = [data_change(n) for n in range(1, 3)]
    gateway.servicer.hold_stream_open = False
    [_ async for _ in session.events(batch=True)]
    [_ async for _ in session.events(batch=True, max_batch_delay=0.0)]
    [_ async for _ in session.events(batch=True, max_batch_delay=0.25)]
    sent = [r for r in gateway.servicer.requests if isinstance(r, ext.StreamEventBatchesRequest)]
    assert [r.HasField("max_batch_delay") for r in sent] == [False, True, True]
    assert [r.max_batch_delay.ToMilliseconds() for r in sent[1:]] == [0, 250]
    with pytest.raises(ValueError, match="max_batch_delay"):
        session.events(batch=True, max_batch_delay=-1.0)


async def test_batches_fall_back_on_unimplemented(plain_gateway: RunningGateway) -> None:
    plain_gateway.servicer.events = [data_change(n) for n in range(1, 5)]
    plain_gateway.servicer.hold_stream_open = False
    async with await GatewayClient.connect(
        endpoint=plain_gateway.endpoint, api_key=API_KEY, plaintext=True
    ) as client:
        session = await client.open_session(client_session_name="fallback")
        stream = session.events(after_worker_sequence=1, batch=True)
        events = [e async for e in stream]
        assert stream.method == "StreamEvents"
        assert [e.worker_sequence for e in events] == [2, 3, 4]
        # The client remembers: the next batch request goes straight to StreamEvents.
        again = session.events(batch=True)
        assert again.method == "StreamEvents"
        await again.aclose()


async def test_drain_events_and_raw_stream(gateway: RunningGateway, session: Session) -> None:
    gateway.servicer.events = mixed_events()
    drained = await session.drain_events(max_events=10)
    assert [type(e).__name__ for e in drained][:2] == ["DataChange", "WriteComplete"]
    request = gateway.servicer.requests[-1]
    assert request.drain_events.max_events == 10
    gateway.servicer.hold_stream_open = False
    raw = [e async for e in session.client.stream_events_raw(session.session_id)]
    assert raw == gateway.servicer.events


async def test_alarm_feed_query_and_acknowledge(gateway: RunningGateway) -> None:
    active = pb.ActiveAlarmSnapshot(
        alarm_full_reference="Tank01.Level.HiAlarm",
        state=pb.ALARM_CONDITION_STATE_ACTIVE_UNACKNOWLEDGED,
        raw_severity=500,
    )
    other = pb.ActiveAlarmSnapshot(alarm_full_reference="Pump02.Trip")
    gateway.servicer.active_alarms = [active, other]
    gateway.servicer.alarm_feed = [
        pb.AlarmFeedMessage(active_alarm=active),
        pb.AlarmFeedMessage(snapshot_complete=pb.AlarmSnapshotComplete(active_alarm_count=1)),
        pb.AlarmFeedMessage(
            transition=pb.OnAlarmTransitionEvent(
                alarm_full_reference="Tank01.Level.HiAlarm",
                transition_kind=pb.ALARM_TRANSITION_KIND_ACKNOWLEDGE,
            )
        ),
    ]
    async with await GatewayClient.connect(
        endpoint=gateway.endpoint, api_key=API_KEY, plaintext=True
    ) as client:
        feed = []
        async with client.stream_alarms() as stream:
            async for item in stream:
                feed.append(item)
                if len(feed) == 3:
                    break
        assert isinstance(feed[0], ActiveAlarm) and feed[0].state == "ACTIVE_UNACKNOWLEDGED"
        assert isinstance(feed[1], AlarmSnapshotComplete) and feed[1].active_alarm_count == 1
        assert isinstance(feed[2], AlarmTransition) and feed[2].kind == "ACKNOWLEDGE"
        await wait_for(gateway.servicer.probes[-1].cancelled, "the alarm feed to be cancelled")

        alarms = await client.query_active_alarms("Tank01")
        assert [a.alarm_full_reference for a in alarms] == ["Tank01.Level.HiAlarm"]

        reply = await client.acknowledge_alarm("Tank01.Level.HiAlarm", comment="seen")
        assert reply.alarm_full_reference == "Tank01.Level.HiAlarm"
        with pytest.raises(InvalidRequestError) as info:
            await client.acknowledge_alarm("Unknown.Alarm")
        assert info.value.reply.alarm_full_reference == "Unknown.Alarm"
        assert "no such alarm" in str(info.value)
