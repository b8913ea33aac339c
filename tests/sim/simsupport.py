"""Types and small helpers shared by the simulator tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from mxgateway._client import GatewayClient
from mxgw_sim.testing import SimProcess

#: ``await connect(sim, key=USER_KEY)`` → a client of ``sim`` (fixture ``connect``).
Connect = Callable[..., Awaitable[GatewayClient]]
#: ``sim_factory(*args, keys=True)`` → a started simulator (fixture ``sim_factory``).
SimFactory = Callable[..., SimProcess]


def control(sim: SimProcess, method: str, request: Any) -> Any:
    """Call the control service of ``sim`` with the admin key."""
    from mxgw_sim.testing import ADMIN_KEY

    return sim.control(method, request, ADMIN_KEY)


async def advised(session: Any, reference: str = "Pump102.Free") -> tuple[int, int]:
    """Register, add ``reference``, advise it and wait for its initial data change.

    Returns (server handle, item handle). The initial data change is taken with
    DrainEvents, so a stream opened afterwards starts after it.
    """
    import asyncio
    import time

    handle = await session.register("tests")
    item = await session.add_item(handle, reference)
    await session.advise(handle, item)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if await session.drain_events():
            return handle, item
        await asyncio.sleep(0.02)
    raise AssertionError(f"no initial data change for {reference}")


async def write_many(session: Any, handle: int, item: int, count: int, start: int = 1) -> None:
    """``count`` writes of increasing integers (from ``start``, so each changes the value:
    the galaxy starts at 0) to one item, in bulk commands of 500."""
    done = 0
    while done < count:
        chunk = min(500, count - done)
        await session.write_bulk(handle, [(item, start + done + i) for i in range(chunk)])
        done += chunk


def assert_no_sessions(sim: SimProcess) -> None:
    """The leak check: ``sim`` has no open session (asked through the control service)."""
    from mxgw_sim.testing import ADMIN_KEY

    left = [s.session_id for s in sim.wait_for_sessions(0, ADMIN_KEY)]
    assert left == [], f"sessions left open: {left}"
