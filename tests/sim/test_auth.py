"""API keys and scopes on unary and streaming calls, and keys never showing up in logs."""

from __future__ import annotations

import grpc
import pytest
from simsupport import Connect, SimFactory, assert_no_sessions

from mxgateway import AuthenticationError, PermissionDeniedError
from mxgateway._client import GatewayClient
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway.generated import mxaccess_gateway_pb2_grpc as pb_grpc
from mxgw_sim.generated import mxgw_sim_control_pb2 as cpb
from mxgw_sim.generated import mxgw_sim_control_pb2_grpc as cpb_grpc
from mxgw_sim.testing import ADMIN_KEY, READ_KEY, USER_KEY, SimProcess


async def test_unary_call_without_key_is_unauthenticated(sim: SimProcess) -> None:
    async with grpc.aio.insecure_channel(sim.endpoint) as channel:
        stub = pb_grpc.MxAccessGatewayStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.OpenSession(pb.OpenSessionRequest(), timeout=5)
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert info.value.details() == "authentication failed: missing bearer token"


async def test_stream_without_key_is_unauthenticated(sim: SimProcess) -> None:
    async with grpc.aio.insecure_channel(sim.endpoint) as channel:
        stub = pb_grpc.MxAccessGatewayStub(channel)
        call = stub.StreamEvents(pb.StreamEventsRequest(session_id="session-x"), timeout=5)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            async for _ in call:
                pass
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert info.value.details() == "authentication failed: missing bearer token"


async def test_wrong_key_through_the_client(sim: SimProcess, connect: Connect) -> None:
    gateway: GatewayClient = await connect(sim, key="mxgw_wrong_secretvalue")
    with pytest.raises(AuthenticationError) as info:
        await gateway.open_session("nope")
    assert "mxgw_wrong_secretvalue" not in str(info.value)


async def test_reader_cannot_write(
    sim: SimProcess, connect: Connect, no_leaked_sessions: None
) -> None:
    gateway = await connect(sim, key=READ_KEY)
    async with await gateway.open_session("reader") as session:
        handle = await session.register("reader")
        item = await session.add_item(handle, "Pump102.Free")
        with pytest.raises(PermissionDeniedError) as info:
            await session.write(handle, item, 5, type="Integer")
        assert info.value.details == "authorization failed: missing scope invoke:write"
        with pytest.raises(PermissionDeniedError) as secured:
            await session.write_secured(handle, item, 5, current_user_id=1, type="Integer")
        assert secured.value.details == "authorization failed: missing scope invoke:secure"


async def test_control_service_needs_admin(sim: SimProcess) -> None:
    async with grpc.aio.insecure_channel(sim.endpoint) as channel:
        stub = cpb_grpc.SimulatorControlStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.ListSessions(
                cpb.ListSessionsRequest(),
                metadata=(("authorization", f"Bearer {USER_KEY}"),),
                timeout=5,
            )
        assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert info.value.details() == "authorization failed: missing scope admin"
        reply = await stub.ListSessions(
            cpb.ListSessionsRequest(),
            metadata=(("authorization", f"Bearer {ADMIN_KEY}"),),
            timeout=5,
        )
        assert isinstance(reply, cpb.ListSessionsReply)


def test_keys_never_appear_in_the_log(sim: SimProcess) -> None:
    log = sim.stderr_text()
    for key in (ADMIN_KEY, USER_KEY, READ_KEY):
        assert key not in log


async def test_debug_log_shows_keys_redacted(sim_factory: SimFactory, connect: Connect) -> None:
    chatty = sim_factory("--log-level", "DEBUG")
    gateway = await connect(chatty)
    session = await gateway.open_session("debug")
    await session.close()
    assert_no_sessions(chatty)
    log = chatty.stderr_text()
    assert "authorization: Bearer <redacted>" in log
    assert USER_KEY not in log
