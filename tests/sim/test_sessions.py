"""Sessions: open/close, ids and versions, idempotent close, limits, lease, bad requests."""

from __future__ import annotations

import asyncio
import re

import pytest
from simsupport import Connect, SimFactory, assert_no_sessions, control

from mxgateway import (
    InvalidArgumentError,
    ResourceExhaustedError,
    SessionNotFoundError,
)
from mxgateway._client import GatewayClient
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgw_sim.generated import mxgw_sim_control_pb2 as cpb
from mxgw_sim.testing import ADMIN_KEY, SimProcess


async def test_open_reports_id_backend_and_versions(client: GatewayClient, sim: SimProcess) -> None:
    reply = await client.open_session_raw(pb.OpenSessionRequest(client_session_name="opener"))
    try:
        assert re.fullmatch(r"session-[0-9a-f]{32}", reply.session_id)
        assert reply.backend_name == "mxaccess-worker"
        assert reply.gateway_protocol_version == 3
        assert reply.worker_protocol_version == 3
        assert reply.protocol_status.code == pb.PROTOCOL_STATUS_CODE_OK
        listed = {s.session_id: s for s in sim.list_sessions(ADMIN_KEY)}
        assert listed[reply.session_id].client_name == "opener"
        assert listed[reply.session_id].state == pb.SESSION_STATE_READY
    finally:
        await client.close_session_raw(pb.CloseSessionRequest(session_id=reply.session_id))


async def test_close_is_idempotent_and_closed_session_is_not_found(
    client: GatewayClient,
) -> None:
    session = await client.open_session("closer")
    first = await client.close_session_raw(pb.CloseSessionRequest(session_id=session.session_id))
    again = await client.close_session_raw(pb.CloseSessionRequest(session_id=session.session_id))
    assert first.final_state == again.final_state == pb.SESSION_STATE_CLOSED
    assert again.protocol_status.code == pb.PROTOCOL_STATUS_CODE_OK
    with pytest.raises(SessionNotFoundError):
        await session.register("late")


async def test_unknown_session_is_not_found(client: GatewayClient) -> None:
    request = pb.MxCommandRequest(
        session_id="session-" + "0" * 32,
        kind=pb.MX_COMMAND_KIND_REGISTER,
        register=pb.RegisterCommand(client_name="x"),
    )
    with pytest.raises(SessionNotFoundError):
        await client.invoke_raw(request)
    with pytest.raises(SessionNotFoundError):
        await client.close_session_raw(pb.CloseSessionRequest(session_id="session-" + "1" * 32))


@pytest.mark.parametrize(
    ("kind", "payload", "message"),
    [
        (pb.MX_COMMAND_KIND_ADVISE, None, "payload: missing"),
        (pb.MX_COMMAND_KIND_WRITE, "register", "does not match kind"),
        (pb.MX_COMMAND_KIND_UNSPECIFIED, "register", "kind: missing"),
    ],
)
async def test_malformed_command_is_invalid_argument(
    client: GatewayClient, kind: int, payload: str | None, message: str
) -> None:
    session = await client.open_session("malformed")
    try:
        request = pb.MxCommandRequest(session_id=session.session_id, kind=kind)  # type: ignore[arg-type]
        if payload == "register":
            request.register.client_name = "x"
        with pytest.raises(InvalidArgumentError) as info:
            await client.invoke_raw(request)
        assert message in info.value.details
    finally:
        await session.close()


async def test_oversized_request_is_rejected(client: GatewayClient) -> None:
    session = await client.open_session("big")
    try:
        request = pb.MxCommandRequest(
            session_id=session.session_id,
            kind=pb.MX_COMMAND_KIND_REGISTER,
            register=pb.RegisterCommand(client_name="x" * (5 * 1024 * 1024)),
        )
        with pytest.raises(ResourceExhaustedError):
            await client.invoke_raw(request)
    finally:
        await session.close()


async def test_session_limit_is_resource_exhausted(
    sim_factory: SimFactory, connect: Connect
) -> None:
    small = sim_factory("--max-sessions", "2")
    gateway = await connect(small)
    first = await gateway.open_session("one")
    second = await gateway.open_session("two")
    with pytest.raises(ResourceExhaustedError) as info:
        await gateway.open_session("three")
    assert "session limit" in info.value.details
    await first.close()
    third = await gateway.open_session("three")
    for session in (second, third):
        await session.close()
    assert small.wait_for_sessions(0, ADMIN_KEY) == []


async def test_idle_session_expires_after_its_lease(
    sim_factory: SimFactory, connect: Connect
) -> None:
    short = sim_factory("--lease-seconds", "0.5", "--stream-grace", "0.5")
    gateway = await connect(short)
    session = await gateway.open_session("idle")
    handle = await session.register("idle")
    assert handle > 0
    assert await asyncio.to_thread(short.wait_for_sessions, 0, ADMIN_KEY) == []
    with pytest.raises(SessionNotFoundError):
        await session.register("too late")


async def test_unary_calls_keep_the_lease_alive(sim_factory: SimFactory, connect: Connect) -> None:
    short = sim_factory("--lease-seconds", "1", "--stream-grace", "0.5")
    gateway = await connect(short)
    session = await gateway.open_session("busy")
    handle = await session.register("busy")
    for _ in range(8):  # 2 s of activity, twice the lease
        await asyncio.sleep(0.25)
        await session.add_item(handle, "Pump102.Free")
    await session.close()
    assert_no_sessions(short)


async def test_expire_session_from_control(client: GatewayClient, sim: SimProcess) -> None:
    session = await client.open_session("doomed")
    reply = control(sim, "ExpireSession", cpb.SessionSelector(session_id=session.session_id))
    assert reply.affected == 1
    with pytest.raises(SessionNotFoundError):
        await session.register("gone")
    closed = await client.close_session_raw(pb.CloseSessionRequest(session_id=session.session_id))
    assert closed.final_state == pb.SESSION_STATE_CLOSED
