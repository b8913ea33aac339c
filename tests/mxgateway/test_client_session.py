"""Session lifecycle, typed reply errors, secrets in errors, and cancellation of calls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from client_testserver import API_KEY, SESSION_ID, RunningGateway, wait_for

from mxgateway import (
    ClientClosedError,
    GatewayBusyError,
    GatewayClient,
    InvalidOptionsError,
    MxGatewayCommandError,
    MxGatewayError,
    SessionFaultedError,
    SessionState,
    WorkerUnavailableError,
)
from mxgateway.generated import mxaccess_gateway_pb2 as pb


@pytest.fixture
async def client(gateway: RunningGateway) -> AsyncIterator[GatewayClient]:
    async with await GatewayClient.connect(
        endpoint=gateway.endpoint, api_key=API_KEY, plaintext=True
    ) as connected:
        yield connected


def failing(code: int, message: str) -> pb.MxCommandReply:
    return pb.MxCommandReply(protocol_status=pb.ProtocolStatus(code=code, message=message))  # type: ignore[arg-type]


async def test_close_is_idempotent_and_final(
    gateway: RunningGateway, client: GatewayClient
) -> None:
    session = await client.open_session(client_session_name="life", client_correlation_id="c-1")
    assert gateway.servicer.requests[0].client_correlation_id == "c-1"
    assert await session.close("done") is SessionState.CLOSED
    assert await session.close() is SessionState.CLOSED
    closes = [r for r in gateway.servicer.requests if isinstance(r, pb.CloseSessionRequest)]
    assert len(closes) == 1 and closes[0].reason == "done"
    assert session.closed and "closed" in repr(session)
    with pytest.raises(ClientClosedError, match=SESSION_ID):
        await session.register("after")
    with pytest.raises(ClientClosedError):
        session.events()


async def test_async_with_session_closes_it(gateway: RunningGateway, client: GatewayClient) -> None:
    async with await client.open_session(client_session_name="ctx") as session:
        await session.register("ctx")
    assert SESSION_ID in gateway.servicer.closed_sessions


async def test_unknown_open_session_field_is_a_clear_error(client: GatewayClient) -> None:
    with pytest.raises(InvalidOptionsError, match="no_such_field"):
        await client.open_session(client_session_name="x", no_such_field=1)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (pb.PROTOCOL_STATUS_CODE_WORKER_UNAVAILABLE, WorkerUnavailableError),
        (pb.PROTOCOL_STATUS_CODE_SESSION_FAULTED, SessionFaultedError),
        (pb.PROTOCOL_STATUS_CODE_BUSY, GatewayBusyError),
        (pb.PROTOCOL_STATUS_CODE_TIMEOUT, MxGatewayCommandError),
        (77, MxGatewayCommandError),  # a code from a newer gateway: still a failure
    ],
)
async def test_reply_codes_map_to_typed_errors(
    gateway: RunningGateway, client: GatewayClient, code: int, error: type[Exception]
) -> None:
    reply = failing(code, "gateway says no")
    gateway.servicer.handlers[pb.MX_COMMAND_KIND_ADVISE] = lambda request: reply
    session = await client.open_session(client_session_name="codes")
    with pytest.raises(error) as info:
        await session.advise(1, 2)
    assert type(info.value) is error
    assert isinstance(info.value, MxGatewayCommandError)
    assert info.value.reply == reply
    assert "Advise failed" in str(info.value) and "gateway says no" in str(info.value)
    raw = await client.invoke_raw(gateway.servicer.requests[-1])
    assert raw.protocol_status.code == code


async def test_reply_without_typed_result_is_an_error(
    gateway: RunningGateway, client: GatewayClient
) -> None:
    gateway.servicer.handlers[pb.MX_COMMAND_KIND_REGISTER] = lambda request: pb.MxCommandReply(
        protocol_status=pb.ProtocolStatus(code=pb.PROTOCOL_STATUS_CODE_OK)
    )
    session = await client.open_session(client_session_name="no-result")
    with pytest.raises(MxGatewayError, match="no register result"):
        await session.register("x")


async def test_password_and_key_never_reach_error_text(
    gateway: RunningGateway, client: GatewayClient
) -> None:
    password = "Pa55-w0rd!"

    def echo(request: pb.MxCommandRequest) -> pb.MxCommandReply:
        text = f"bad credentials {request.authenticate_user.password} with {API_KEY}"
        reply = failing(pb.PROTOCOL_STATUS_CODE_INVALID_REQUEST, text)
        reply.diagnostic_message = text
        return reply

    gateway.servicer.handlers[pb.MX_COMMAND_KIND_AUTHENTICATE_USER] = echo
    session = await client.open_session(client_session_name="secrets")
    with pytest.raises(MxGatewayCommandError) as info:
        await session.authenticate_user(1, "operator", password)
    error = info.value
    for text in (str(error), repr(error), error.protocol_message, error.diagnostic_message):
        assert password not in text and API_KEY not in text
    assert "<redacted>" in str(error)
    for text in (repr(client), repr(client.options), repr(session)):
        assert API_KEY not in text


async def test_cancelling_a_command_task_propagates_cancelled_error(
    gateway: RunningGateway, client: GatewayClient
) -> None:
    session = await client.open_session(client_session_name="cancel")
    gateway.servicer.invoke_delay = 5.0
    task = asyncio.create_task(session.register("slow"))
    await wait_for(gateway.servicer.invoked, "the gateway to receive the command")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    gateway.servicer.invoke_delay = 0.0
    assert await session.register("next") >= 1  # the client is still usable
