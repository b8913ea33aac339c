"""Event streams: one subscriber, resume with and without a gap, drain, overflow, batches."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import grpc
import pytest
from simsupport import Connect, SimFactory, advised, assert_no_sessions, control, write_many

from mxgateway import ReplayGap, StreamAlreadyOpenError, WorkerUnavailableError
from mxgateway._client import GatewayClient
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway.generated import mxaccess_gateway_pb2_grpc as pb_grpc
from mxgateway.generated import mxgw_extensions_pb2 as ext
from mxgateway.generated import mxgw_extensions_pb2_grpc as ext_grpc
from mxgw_sim.generated import mxgw_sim_control_pb2 as cpb
from mxgw_sim.testing import ADMIN_KEY, USER_KEY, SimProcess

AUTH = (("authorization", f"Bearer {USER_KEY}"),)


async def _collect(stream: Any, count: int, limit: float = 10) -> list[Any]:
    out: list[Any] = []

    async def take() -> None:
        async for event in stream:
            out.append(event)
            if len(out) >= count:
                return

    await asyncio.wait_for(take(), limit)
    return out


async def test_events_carry_sequence_and_receive_time(client: GatewayClient) -> None:
    async with await client.open_session("seq") as session:
        handle = await session.register("seq")
        item = await session.add_item(handle, "Pump102.Free")
        await session.advise(handle, item)
        stream = client.stream_events_raw(session.session_id)
        try:
            (initial,) = await _collect(stream, 1)
            await session.write(handle, item, 42, type="Integer")
            events = await _collect(stream, 2)
        finally:
            stream.cancel()
    sequences = [initial.worker_sequence] + [e.worker_sequence for e in events]
    assert sequences == [1, 2, 3]
    assert all(e.HasField("gateway_receive_timestamp") for e in [initial, *events])
    assert initial.family == pb.MX_EVENT_FAMILY_ON_DATA_CHANGE
    families = {e.family for e in events}
    assert pb.MX_EVENT_FAMILY_ON_WRITE_COMPLETE in families


async def test_second_stream_is_already_exists(client: GatewayClient) -> None:
    async with await client.open_session("two-streams") as session:
        handle, item = await advised(session)
        first = session.events()
        await session.write(handle, item, 1, type="Integer")
        await _collect(first, 1)
        second = session.events()
        with pytest.raises(StreamAlreadyOpenError):
            await _collect(second, 1)
        first.cancel()
        # once the first stream is gone a new one may attach
        third = session.events(after_worker_sequence=1)
        assert len(await _collect(third, 1)) == 1
        third.cancel()


async def test_resume_without_gap(client: GatewayClient) -> None:
    async with await client.open_session("resume") as session:
        handle, item = await advised(session)
        await write_many(session, handle, item, 5)
        stream = session.events()
        seen = await _collect(stream, 4)
        stream.cancel()
        resume_at = stream.last_worker_sequence
        resumed = session.events(after_worker_sequence=resume_at)
        more = await _collect(resumed, 3)
        resumed.cancel()
    assert not any(isinstance(e, ReplayGap) for e in more)
    assert [e.worker_sequence for e in more] == [resume_at + 1, resume_at + 2, resume_at + 3]
    assert seen[-1].worker_sequence == resume_at


async def test_resume_at_once_after_cancel_never_sees_already_exists(
    client: GatewayClient,
) -> None:
    # A cancel reaches the gateway a moment after the client lets go; the session's next
    # stream must not fail with ALREADY_EXISTS in that moment, and no event may be lost.
    async with await client.open_session("rapid-resume") as session:
        handle, item = await advised(session)
        await write_many(session, handle, item, 20)
        sequences: list[int] = []
        resume_at = 0
        for _ in range(10):
            stream = session.events(after_worker_sequence=resume_at)
            got = await _collect(stream, 2)
            stream.cancel()
            sequences += [e.worker_sequence for e in got]
            resume_at = stream.last_worker_sequence
    assert sequences == list(range(sequences[0], sequences[0] + 20))


async def test_resume_behind_the_ring_starts_with_one_sentinel(
    sim_factory: SimFactory, connect: Connect
) -> None:
    small = sim_factory("--replay-events", "16")
    gateway = await connect(small)
    async with await gateway.open_session("gap") as session:
        handle, item = await advised(session)
        await write_many(session, handle, item, 40)
        await _wait_sequence(small, session.session_id, 60)  # the ring has moved on
        stream = gateway.stream_events_raw(session.session_id, after_worker_sequence=1)
        events = await _collect(stream, 3)
        stream.cancel()
        gap = events[0]
        assert gap.HasField("replay_gap")
        assert gap.family == pb.MX_EVENT_FAMILY_UNSPECIFIED
        assert gap.WhichOneof("body") is None
        oldest = gap.replay_gap.oldest_available_sequence
        assert gap.replay_gap.requested_after_sequence == 1
        assert oldest > 2
        assert events[1].worker_sequence == oldest
        assert not events[1].HasField("replay_gap")
        # the typed client surfaces the sentinel as a ReplayGap
        typed = session.events(after_worker_sequence=1)
        (first,) = await _collect(typed, 1)
        typed.cancel()
        assert isinstance(first, ReplayGap)
        # resuming from oldest - 1 is gap-free
        clean = gateway.stream_events_raw(session.session_id, after_worker_sequence=oldest - 1)
        (next_event,) = await _collect(clean, 1)
        clean.cancel()
        assert next_event.worker_sequence == oldest
    assert_no_sessions(small)


async def test_drain_events_never_returns_a_sentinel(
    sim_factory: SimFactory, connect: Connect
) -> None:
    small = sim_factory("--replay-events", "8")
    gateway = await connect(small)
    async with await gateway.open_session("drain") as session:
        handle, item = await advised(session)
        await write_many(session, handle, item, 20)
        drained: list[Any] = []
        for _ in range(100):
            drained += await session.drain_events()
            if len(drained) >= 8:
                break
            await asyncio.sleep(0.02)
        assert drained
        assert not any(isinstance(e, ReplayGap) for e in drained)
        sequences = [e.worker_sequence for e in drained]
        assert sequences == sorted(sequences)
    assert_no_sessions(small)


async def test_slow_consumer_overflow_disconnects_and_faults(
    sim_factory: SimFactory, connect: Connect
) -> None:
    server = sim_factory("--event-queue", "50")
    gateway = await connect(server)
    session = await gateway.open_session("slow")
    handle, item = await advised(session)
    options = [("grpc.http2.bdp_probe", 0)]
    async with grpc.aio.insecure_channel(server.endpoint, options=options) as channel:
        stub = pb_grpc.MxAccessGatewayStub(channel)
        call = stub.StreamEvents(
            pb.StreamEventsRequest(session_id=session.session_id), metadata=AUTH
        )
        await call.initial_metadata()  # attached, and never read from here on
        with contextlib.suppress(WorkerUnavailableError):  # the session faults mid-way
            await write_many(session, handle, item, 5000)
        info = await asyncio.wait_for(_wait_state(server, session.session_id), 20)
        assert info.state == pb.SESSION_STATE_FAULTED
        assert "overflow" in info.fault_message
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            async for _ in call:
                pass
        assert ended.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        reply = await gateway.invoke_raw(
            pb.MxCommandRequest(
                session_id=session.session_id,
                kind=pb.MX_COMMAND_KIND_REGISTER,
                register=pb.RegisterCommand(client_name="after"),
            )
        )
        assert reply.protocol_status.code == pb.PROTOCOL_STATUS_CODE_WORKER_UNAVAILABLE
    await session.close()
    assert server.wait_for_sessions(0, ADMIN_KEY) == []


async def _wait_sequence(server: SimProcess, session_id: str, at_least: int) -> None:
    async def poll() -> None:
        while True:
            for info in await asyncio.to_thread(server.list_sessions, ADMIN_KEY):
                if info.session_id == session_id and info.last_worker_sequence >= at_least:
                    return
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), 10)


async def _wait_state(server: SimProcess, session_id: str) -> cpb.SessionInfo:
    while True:
        for info in await asyncio.to_thread(server.list_sessions, ADMIN_KEY):
            if info.session_id == session_id and info.state == pb.SESSION_STATE_FAULTED:
                return info
        await asyncio.sleep(0.05)


async def test_batches_keep_order_and_respect_the_size(client: GatewayClient) -> None:
    async with await client.open_session("batches") as session:
        handle, item = await advised(session)
        await write_many(session, handle, item, 50)
        async with grpc.aio.insecure_channel(client.endpoint) as channel:
            stub = ext_grpc.MxGatewayExtensionsStub(channel)
            call = stub.StreamEventBatches(
                ext.StreamEventBatchesRequest(
                    session_id=session.session_id, after_worker_sequence=1, max_batch_size=16
                ),
                metadata=AUTH,
            )
            sequences: list[int] = []

            async def take() -> None:
                nonlocal sequences
                async for batch in call:
                    assert 0 < len(batch.events) <= 16
                    sequences += [e.worker_sequence for e in batch.events]
                    if len(sequences) >= 100:
                        return

            try:
                await asyncio.wait_for(take(), 10)
            finally:
                call.cancel()
    assert sequences[:100] == list(range(2, 102))


async def test_drop_streams_ends_the_stream_and_keeps_the_session(
    client: GatewayClient, sim: SimProcess
) -> None:
    async with await client.open_session("dropped") as session:
        handle, item = await advised(session)
        stream = client.stream_events_raw(session.session_id)
        await session.write(handle, item, 3, type="Integer")
        await _collect(stream, 1)
        reply = control(sim, "DropStreams", cpb.SessionSelector(session_id=session.session_id))
        assert reply.affected == 1
        with pytest.raises(Exception) as ended:
            await _collect(stream, 100)
        assert "UNAVAILABLE" in str(ended.value)
        assert await session.register("still alive") > 0


async def test_faulted_session_stream_ends_aborted(client: GatewayClient, sim: SimProcess) -> None:
    session = await client.open_session("faulty")
    handle, item = await advised(session)
    stream = client.stream_events_raw(session.session_id)
    await session.write(handle, item, 3, type="Integer")
    await _collect(stream, 1)
    control(sim, "FaultSession", cpb.FaultSessionRequest(session_id=session.session_id))
    with pytest.raises(Exception) as ended:
        await _collect(stream, 100)
    assert "ABORTED" in str(ended.value)
    reply = await client.invoke_raw(
        pb.MxCommandRequest(
            session_id=session.session_id,
            kind=pb.MX_COMMAND_KIND_REGISTER,
            register=pb.RegisterCommand(client_name="after"),
        )
    )
    assert reply.protocol_status.code == pb.PROTOCOL_STATUS_CODE_WORKER_UNAVAILABLE
    closed = await client.close_session_raw(pb.CloseSessionRequest(session_id=session.session_id))
    assert closed.final_state == pb.SESSION_STATE_CLOSED
