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
