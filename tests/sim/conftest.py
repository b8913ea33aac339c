"""Fixtures of the simulator tests: connected clients of real simulator processes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from simsupport import Connect

from mxgateway._client import GatewayClient
from mxgw_sim.testing import USER_KEY, SimProcess


@pytest.fixture
async def connect() -> AsyncIterator[Connect]:
    """``await connect(sim, key=USER_KEY)``: a client of ``sim``, closed after the test."""
    clients: list[GatewayClient] = []

    async def open_client(
        sim: SimProcess, key: str | None = USER_KEY, **kw: object
    ) -> GatewayClient:
        if sim.info.get("tls"):
            kw.setdefault("ca_file", sim.ca_file)
        else:
            kw.setdefault("plaintext", True)
        gateway = await GatewayClient.connect(sim.endpoint, api_key=key, **kw)  # type: ignore[arg-type]
        clients.append(gateway)
        return gateway

    try:
        yield open_client
    finally:
        for gateway in clients:
            await gateway.close()


@pytest.fixture
async def client(sim: SimProcess, no_leaked_sessions: None, connect: Connect) -> GatewayClient:
    """A client of the shared simulator with the all-but-admin key; leak-checked after."""
    return await connect(sim)
