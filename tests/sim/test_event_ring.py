"""The event hub's replay, sentinel, queue and drain rules (the real EventHub, no server)."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgw_sim.events import EventHub, QueueOverflow, StreamEnded, SubscriberExists


def _event(sequence: int) -> pb.MxEvent:
    event = pb.MxEvent(
        family=pb.MX_EVENT_FAMILY_ON_DATA_CHANGE, worker_sequence=sequence, item_handle=1
    )
    event.on_data_change.SetInParent()
    return event


def _publish(hub: EventHub, first: int, last: int) -> None:
    for sequence in range(first, last + 1):
        hub.publish(_event(sequence))


async def _take(hub_sub: object, count: int) -> list[pb.MxEvent]:
    out: list[pb.MxEvent] = []
    while len(out) < count:
        out.extend(await asyncio.wait_for(hub_sub.next_batch(count - len(out)), 2))  # type: ignore[attr-defined]
    return out


async def test_fresh_stream_gets_pending_events_without_sentinel() -> None:
    hub = EventHub(ring_size=8)
    _publish(hub, 1, 3)
    sub = hub.attach(0)
    events = await _take(sub, 3)
    assert [e.worker_sequence for e in events] == [1, 2, 3]
    assert all(e.HasField("gateway_receive_timestamp") for e in events)
    assert not any(e.HasField("replay_gap") for e in events)


async def test_resume_inside_ring_replays_without_gap() -> None:
    hub = EventHub(ring_size=8)
    _publish(hub, 1, 6)
    sub = hub.attach(3)
    assert [e.worker_sequence for e in await _take(sub, 3)] == [4, 5, 6]


async def test_resume_behind_ring_starts_with_one_sentinel() -> None:
    hub = EventHub(ring_size=4)
    _publish(hub, 1, 10)  # the ring keeps 7..10
    sub = hub.attach(2)
    events = await _take(sub, 5)
    gap = events[0]
    assert gap.HasField("replay_gap")
    assert gap.family == pb.MX_EVENT_FAMILY_UNSPECIFIED
    assert gap.WhichOneof("body") is None
    assert gap.replay_gap.requested_after_sequence == 2
    assert gap.replay_gap.oldest_available_sequence == 7
    assert [e.worker_sequence for e in events[1:]] == [7, 8, 9, 10]


async def test_resume_from_oldest_minus_one_is_gap_free() -> None:
    hub = EventHub(ring_size=4)
    _publish(hub, 1, 10)
    sub = hub.attach(6)
    events = await _take(sub, 4)
    assert [e.worker_sequence for e in events] == [7, 8, 9, 10]


async def test_events_age_out_of_the_ring() -> None:
    now = [100.0]
    hub = EventHub(ring_size=100, ring_seconds=5, clock=lambda: now[0])
    _publish(hub, 1, 2)
    now[0] += 10
    _publish(hub, 3, 3)
    assert hub.oldest_sequence == 3


def test_second_subscriber_is_refused() -> None:
    hub = EventHub()
    hub.attach(0)
    with pytest.raises(SubscriberExists):
        hub.attach(0)


async def test_overflow_disconnects_and_calls_back() -> None:
    overflowed: list[bool] = []
    hub = EventHub(queue_limit=5, on_overflow=lambda: overflowed.append(True))
    sub = hub.attach(0)
    _publish(hub, 1, 6)
    assert overflowed == [True]
    assert not hub.attached
    with pytest.raises(QueueOverflow) as info:
        await sub.next_batch(10)
    assert info.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    # the ring still holds everything: a resumed stream continues
    resumed = hub.attach(0)
    assert [e.worker_sequence for e in await _take(resumed, 6)] == [1, 2, 3, 4, 5, 6]


def test_drain_returns_pending_once_and_never_a_sentinel() -> None:
    hub = EventHub(ring_size=4)
    _publish(hub, 1, 10)
    drained = hub.drain(0)
    assert [e.worker_sequence for e in drained] == [7, 8, 9, 10]
    assert hub.drain(0) == []
    _publish(hub, 11, 13)
    assert [e.worker_sequence for e in hub.drain(2)] == [11, 12]
    assert hub.pending == 1


async def test_batches_wait_for_more_up_to_the_delay() -> None:
    hub = EventHub()
    sub = hub.attach(0)
    _publish(hub, 1, 1)
    loop = asyncio.get_running_loop()
    loop.call_later(0.02, _publish, hub, 2, 3)
    batch = await sub.next_batch(3, max_delay=1.0)
    assert [e.worker_sequence for e in batch] == [1, 2, 3]


async def test_end_stream_raises_in_the_subscriber() -> None:
    hub = EventHub()
    sub = hub.attach(0)
    assert hub.end_stream(StreamEnded("dropped"))
    with pytest.raises(StreamEnded):
        await sub.next_batch(1)
    assert hub.detached_at is not None
