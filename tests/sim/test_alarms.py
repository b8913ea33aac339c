"""The alarm surface of a galaxy with no alarms: an empty snapshot, a quiet feed that the
server ends on shutdown, and acknowledgements of alarms that are not active."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest
from simsupport import Connect, SimFactory

from mxgateway import (
    AlarmSnapshotComplete,
    GatewayUnavailableError,
    InvalidRequestError,
    PermissionDeniedError,
)
from mxgateway._client import GatewayClient
from mxgw_sim.testing import READ_KEY, SimProcess


async def test_no_active_alarms(client: GatewayClient) -> None:
    assert await client.query_active_alarms() == []
    assert await client.query_active_alarms("AreaA.") == []


async def test_feed_starts_with_an_empty_snapshot(client: GatewayClient) -> None:
    feed = client.stream_alarms()
    try:
        first = await asyncio.wait_for(feed.__anext__(), 10)
    finally:
        feed.cancel()
    assert isinstance(first, AlarmSnapshotComplete)


async def test_acknowledging_an_inactive_alarm_is_refused(client: GatewayClient) -> None:
    with pytest.raises(InvalidRequestError) as info:
        await client.acknowledge_alarm("Tank01.Level.HiHi", comment="seen")
    assert "no active alarm Tank01.Level.HiHi" in str(info.value)


async def test_reader_cannot_acknowledge(sim: SimProcess, connect: Connect) -> None:
    reader = await connect(sim, key=READ_KEY)
    with pytest.raises(PermissionDeniedError) as info:
        await reader.acknowledge_alarm("Tank01.Level.HiHi")
    assert info.value.details == "authorization failed: missing scope invoke:write"


async def test_shutdown_ends_an_open_feed(sim_factory: SimFactory, connect: Connect) -> None:
    server = sim_factory()
    gateway = await connect(server)
    feed = gateway.stream_alarms()
    await asyncio.wait_for(feed.__anext__(), 10)
    os.kill(server.pid, signal.SIGTERM)
    with pytest.raises(GatewayUnavailableError):
        await asyncio.wait_for(feed.__anext__(), 15)
    assert await asyncio.to_thread(server.process.wait, 15) == 0
