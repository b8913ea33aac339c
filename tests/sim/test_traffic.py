"""A scenario's worth of traffic: open, register, 100 items, advise, 1,000 writes, close —
then nothing is left behind in the simulator (sessions, tasks) or in the client (tasks)."""

from __future__ import annotations

import asyncio
import time

from simsupport import Connect, SimFactory

from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgw_sim.testing import ADMIN_KEY, SimProcess


def _server_tasks(sim: SimProcess) -> int:
    from mxgw_sim.generated import mxgw_sim_control_pb2 as cpb

    reply = sim.control("ListSessions", cpb.ListSessionsRequest(), ADMIN_KEY)
    return int(reply.server_tasks)


async def _wait_tasks(sim: SimProcess, at_most: int) -> int:
    deadline = time.monotonic() + 10
    count = await asyncio.to_thread(_server_tasks, sim)
    while count > at_most and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        count = await asyncio.to_thread(_server_tasks, sim)
    return count


async def _traffic(sim: SimProcess, connect: Connect) -> None:
    gateway = await connect(sim)
    client_tasks = len(asyncio.all_tasks())
    idle_tasks = await asyncio.to_thread(_server_tasks, sim)
    session = await gateway.open_session("traffic")
    handle = await session.register("traffic")
    # one item is written; the other 99 are advised static attributes that stay quiet
    references = ["Pump102.Free"] + ["Pump101.StatusWord"] * 99
    added = await session.add_item_bulk(handle, references)
    items = [r.item_handle for r in added]
    assert all(r.was_successful for r in added) and len(set(items)) == 100
    advised = await session.advise_item_bulk(handle, items)
    assert all(r.was_successful for r in advised)
    stream = gateway.stream_events_raw(session.session_id)
    initial = 0

    async def initial_changes() -> None:
        nonlocal initial
        async for event in stream:
            initial += event.family == pb.MX_EVENT_FAMILY_ON_DATA_CHANGE
            if initial == 100:
                return

    await asyncio.wait_for(initial_changes(), 30)
    completions = 0

    async def count() -> None:
        nonlocal completions
        async for event in stream:
            if event.family == pb.MX_EVENT_FAMILY_ON_WRITE_COMPLETE:
                completions += 1
                if completions == 1000:
                    return

    reader = asyncio.create_task(count())
    for n in range(1000):
        await session.write(handle, items[0], n + 1, type="Integer")
    await asyncio.wait_for(reader, 30)
    stream.cancel()
    info = {s.session_id: s for s in sim.list_sessions(ADMIN_KEY)}[session.session_id]
    assert (info.server_handles, info.items, info.advised) == (1, 100, 100)
    await session.unadvise_item_bulk(handle, items)
    await session.remove_item_bulk(handle, items)
    await session.unregister(handle)
    await session.close()
    assert await asyncio.to_thread(sim.wait_for_sessions, 0, ADMIN_KEY) == []
    assert await _wait_tasks(sim, idle_tasks) <= idle_tasks
    await asyncio.sleep(0)
    assert len(asyncio.all_tasks()) <= client_tasks


async def test_traffic_in_process_leaves_nothing_behind(
    sim: SimProcess, connect: Connect, no_leaked_sessions: None
) -> None:
    await _traffic(sim, connect)


async def test_traffic_with_worker_processes(sim_factory: SimFactory, connect: Connect) -> None:
    await _traffic(sim_factory("--worker-process"), connect)
