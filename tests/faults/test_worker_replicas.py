"""With ``--worker-process`` every session has its own galaxy replica: a session opened
after another session's write (or after a control change) must see the value as it is now,
not as the galaxy file configured it — else a read-back after a crash lies."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from e2e.support import read_values, set_value

from mxgateway import GatewayClient, WriteComplete
from mxgw_sim.testing import ADMIN_KEY, USER_KEY, SimProcess


async def test_a_new_replica_starts_from_the_current_values(
    sim_factory: Callable[..., SimProcess],
) -> None:
    sim = sim_factory("--worker-process")
    set_value(sim, "Types.Int", 7, "int32")  # a control change, before any session
    async with await GatewayClient.connect(
        sim.endpoint, api_key=USER_KEY, plaintext=True
    ) as client:
        session = await client.open_session("writer")
        server = await session.register("writer")
        item = await session.add_item(server, "Pump102.Free")
        events = session.events()
        try:
            await session.advise(server, item)
            await session.write(server, item, 5)
            async with asyncio.timeout(10):
                async for event in events:
                    if isinstance(event, WriteComplete):
                        break
        finally:
            events.cancel()
        await session.close()
    assert sim.wait_for_sessions(0, ADMIN_KEY) == []
    # Each read opens a new session, so a new child process and replica.
    values = await asyncio.to_thread(read_values, sim, "Pump102.Free", "Types.Int")
    assert values == {"Pump102.Free": 5, "Types.Int": 7}
