"""Typed events are light read-only views over the raw message; a batched stream hands
over a whole received message without waiting."""

from __future__ import annotations

import pytest
from client_testserver import API_KEY, RunningGateway

from mxgateway import DataChange, GatewayClient, ReplayGap, Session, WriteComplete, to_mx_value
from mxgateway._events import event_from_proto, events_from_protos
from mxgateway.generated import mxaccess_gateway_pb2 as pb


def change(seq: int, value: object = 1.5) -> pb.MxEvent:
    return pb.MxEvent(
        family=pb.MX_EVENT_FAMILY_ON_DATA_CHANGE,
        server_handle=1,
        item_handle=2,
        value=to_mx_value(value),
        quality=192,
        worker_sequence=seq,
        on_data_change=pb.OnDataChangeEvent(),
    )


def test_an_event_is_a_read_only_view_equal_by_message() -> None:
    raw = change(7, 42)
    event = event_from_proto(raw)
    assert isinstance(event, DataChange)
    assert event.raw is raw and event.worker_sequence == 7 and event.value == 42
    with pytest.raises(AttributeError):
        event.raw = change(8)  # type: ignore[misc]
    with pytest.raises(AttributeError):
        event.anything = 1  # type: ignore[attr-defined]
    assert event == event_from_proto(change(7, 42))
    assert event != event_from_proto(change(7, 43))
    with pytest.raises(TypeError):
        hash(event)  # like the message it wraps


def test_the_body_decides_the_type_and_a_given_sequence_is_kept() -> None:
    # A write completion whose family says data change: the body wins (families 1-4 are
    # inferred numbers, the body's are known).
    odd = pb.MxEvent(
        family=pb.MX_EVENT_FAMILY_ON_DATA_CHANGE,
        worker_sequence=3,
        on_write_complete=pb.OnWriteCompleteEvent(),
    )
    gap = pb.MxEvent(
        replay_gap=pb.ReplayGap(requested_after_sequence=1, oldest_available_sequence=5)
    )
    typed = events_from_protos([odd, gap, change(6)])
    assert [type(e) for e in typed] == [WriteComplete, ReplayGap, DataChange]
    assert typed == [event_from_proto(m) for m in (odd, gap, change(6))]
    # Runs of one body and changes between them: each message is typed as on its own.
    done = pb.MxEvent(worker_sequence=4, on_write_complete=pb.OnWriteCompleteEvent())
    alarm = pb.MxEvent(on_alarm_transition=pb.OnAlarmTransitionEvent())
    family_only = pb.MxEvent(family=pb.MX_EVENT_FAMILY_ON_WRITE_COMPLETE, worker_sequence=5)
    mixed = [change(1), change(2), done, done, change(3), alarm, family_only, gap, change(6)]
    assert [type(e) for e in events_from_protos(mixed)] == [
        type(event_from_proto(m)) for m in mixed
    ]
    assert [type(e).__name__ for e in events_from_protos(mixed)] == [
        "DataChange",
        "DataChange",
        "WriteComplete",
        "WriteComplete",
        "DataChange",
        "AlarmTransition",
        "WriteComplete",
        "ReplayGap",
        "DataChange",
    ]
    renumbered = DataChange(change(1), 9)
    assert renumbered.worker_sequence == 9 and renumbered.raw.worker_sequence == 9


async def test_received_hands_over_the_rest_of_a_batch(
    gateway: RunningGateway, session: Session
) -> None:
    gateway.servicer.events = [change(n) for n in range(1, 8)]  # batches of 3
    gateway.servicer.hold_stream_open = False
    stream = session.events(batch=True)
    first = await stream.__anext__()
    rest = stream.received()
    assert first.worker_sequence == 1
    assert [e.worker_sequence for e in rest] == [2, 3]
    assert stream.last_worker_sequence == 3  # what was handed over counts
    assert stream.received() == []  # nothing more without waiting
    following = [e.worker_sequence async for e in stream]
    assert following == [4, 5, 6, 7] and stream.last_worker_sequence == 7


async def test_batches_hand_out_one_list_per_message_in_order(
    gateway: RunningGateway, session: Session
) -> None:
    gateway.servicer.events = [change(n) for n in range(1, 9)]  # batches of 3
    gateway.servicer.hold_stream_open = False
    stream = session.events(batch=True)
    first = await stream.__anext__()  # the rest of its message is buffered
    lists = [[e.worker_sequence for e in batch] async for batch in stream.batches()]
    assert first.worker_sequence == 1
    assert lists == [[2, 3], [4, 5, 6], [7, 8]]
    assert stream.last_worker_sequence == 8


async def test_batches_resume_after_the_last_list_handed_out(
    gateway: RunningGateway, session: Session
) -> None:
    gateway.servicer.events = [change(n) for n in range(1, 8)]
    gateway.servicer.hold_stream_open = False
    stream = session.events(batch=True)
    async for batch in stream.batches():
        assert [e.worker_sequence for e in batch] == [1, 2, 3]
        break
    assert stream.last_worker_sequence == 3
    await stream.aclose()
    resumed = session.events(stream.last_worker_sequence, batch=True)
    rest = [e.worker_sequence async for batch in resumed.batches() for e in batch]
    assert rest == [4, 5, 6, 7] and resumed.last_worker_sequence == 7


async def test_a_replay_gap_in_a_list_does_not_move_the_resume_point(
    gateway: RunningGateway, session: Session
) -> None:
    gap = pb.MxEvent(
        replay_gap=pb.ReplayGap(requested_after_sequence=0, oldest_available_sequence=2)
    )
    gateway.servicer.events = [change(2), change(3), gap]
    gateway.servicer.hold_stream_open = False
    stream = session.events(batch=True)
    lists = [[type(e).__name__ for e in batch] async for batch in stream.batches()]
    assert lists == [["DataChange", "DataChange", "ReplayGap"]]
    assert stream.last_worker_sequence == 3


async def test_batches_over_the_stream_events_fallback_hold_one_event_each(
    plain_gateway: RunningGateway,
) -> None:
    plain_gateway.servicer.events = [change(n) for n in range(1, 5)]
    plain_gateway.servicer.hold_stream_open = False
    async with await GatewayClient.connect(
        endpoint=plain_gateway.endpoint, api_key=API_KEY, plaintext=True
    ) as client:
        session = await client.open_session(client_session_name="fallback")
        stream = session.events(after_worker_sequence=1, batch=True)
        lists = [[e.worker_sequence for e in batch] async for batch in stream.batches()]
        assert stream.method == "StreamEvents"
        assert lists == [[2], [3], [4]] and stream.last_worker_sequence == 4


async def test_raw_batches_share_the_stream_position(
    gateway: RunningGateway, session: Session
) -> None:
    gateway.servicer.events = [change(n) for n in range(1, 8)]
    gateway.servicer.hold_stream_open = False
    stream = session.events(batch=True)
    first = await stream.__anext__()
    raw = await stream.next_raw_batch()  # the rest of the first message, as messages
    assert first.worker_sequence == 1 and [m.worker_sequence for m in raw] == [2, 3]
    assert raw[0] == change(2) and stream.last_worker_sequence == 3
    assert [m.worker_sequence for m in await stream.next_raw_batch()] == [4, 5, 6]
    assert [e.worker_sequence async for e in stream] == [7]
    with pytest.raises(StopAsyncIteration):
        await stream.next_raw_batch()
