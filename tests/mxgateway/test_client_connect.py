"""Connecting: TLS, wrong CA, unreachable endpoints, deadlines, use after close."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme
from client_testserver import API_KEY, RunningGateway, start_gateway, wait_for

from mxgateway import (
    ClientClosedError,
    ClientOptions,
    DeadlineExceededError,
    GatewayClient,
    GatewayUnavailableError,
    InvalidOptionsError,
    SessionNotFoundError,
)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def tls_gateway(ca: trustme.CA) -> AsyncIterator[RunningGateway]:
    running = await start_gateway(tls=ca, hostname="gateway.test.example")
    try:
        yield running
    finally:
        await running.server.stop(None)


def _write_ca(tmp_path: Path, pem: bytes, name: str = "ca.pem") -> str:
    path = tmp_path / name
    path.write_bytes(pem)
    return str(path)


async def test_tls_with_ca_file_and_server_name_override(
    tls_gateway: RunningGateway, tmp_path: Path
) -> None:
    assert tls_gateway.ca_pem is not None
    ca_file = _write_ca(tmp_path, tls_gateway.ca_pem)
    async with await GatewayClient.connect(
        endpoint=tls_gateway.endpoint,
        api_key=API_KEY,
        ca_file=ca_file,
        server_name_override="gateway.test.example",
        connect_timeout=5,
    ) as client:
        session = await client.open_session(client_session_name="tls")
        assert await session.register("tls") == 1
        await session.close()


async def test_wrong_ca_fails_clearly_within_connect_timeout(
    tls_gateway: RunningGateway, tmp_path: Path
) -> None:
    other_ca = _write_ca(tmp_path, trustme.CA().cert_pem.bytes(), "other.pem")
    started = time.monotonic()
    with pytest.raises(GatewayUnavailableError) as info:
        await GatewayClient.connect(
            endpoint=tls_gateway.endpoint,
            api_key=API_KEY,
            ca_file=other_ca,
            server_name_override="gateway.test.example",
            connect_timeout=1.0,
        )
    assert time.monotonic() - started < 3.0
    message = str(info.value)
    assert tls_gateway.endpoint in message
    assert "TLS" in message
    assert API_KEY not in message


async def test_plaintext_client_cannot_talk_to_tls_gateway(tls_gateway: RunningGateway) -> None:
    with pytest.raises(GatewayUnavailableError, match=tls_gateway.endpoint):
        await GatewayClient.connect(
            endpoint=tls_gateway.endpoint, plaintext=True, connect_timeout=0.5
        )


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_unreachable_endpoint_names_it_within_connect_timeout() -> None:
    endpoint = f"127.0.0.1:{_unused_port()}"
    started = time.monotonic()
    with pytest.raises(GatewayUnavailableError) as info:
        await GatewayClient.connect(
            endpoint=endpoint, api_key=API_KEY, plaintext=True, connect_timeout=0.5
        )
    elapsed = time.monotonic() - started
    assert 0.4 < elapsed < 2.5
    assert endpoint in str(info.value)
    assert "0.5 s" in str(info.value)
    assert API_KEY not in str(info.value)


async def test_missing_ca_file_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(InvalidOptionsError, match="ca_file") as info:
        await GatewayClient.connect(endpoint="127.0.0.1:1", ca_file=str(missing))
    assert str(missing) in str(info.value)


async def test_ca_file_without_certificate_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(InvalidOptionsError, match="no PEM certificate"):
        await GatewayClient.connect(endpoint="127.0.0.1:1", ca_file=str(junk))


async def test_options_and_keywords_cannot_be_mixed() -> None:
    with pytest.raises(InvalidOptionsError, match="endpoint"):
        await GatewayClient.connect(endpoint="elsewhere:1", options=ClientOptions(plaintext=True))


async def test_connect_with_options_object(gateway: RunningGateway) -> None:
    options = ClientOptions(endpoint=gateway.endpoint, api_key=API_KEY, plaintext=True)
    async with await GatewayClient.connect(options=options) as client:
        assert client.options is options
        session = await client.open_session(client_session_name="opts")
        assert session.session_id.startswith("session-")
        assert session.backend_name == "test-worker"
        assert (session.gateway_protocol_version, session.worker_protocol_version) == (3, 3)


async def test_deadline_per_call_and_client_default(gateway: RunningGateway) -> None:
    async with await GatewayClient.connect(
        endpoint=gateway.endpoint, api_key=API_KEY, plaintext=True, timeout=0.3
    ) as client:
        session = await client.open_session(client_session_name="deadline")
        gateway.servicer.invoke_delay = 5.0
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError) as info:
            await session.register("slow")  # the client default: 0.3 s
        assert time.monotonic() - started < 2.0
        assert info.value.method == "Invoke"
        with pytest.raises(DeadlineExceededError):
            await session.register("slow", timeout=0.1)
        gateway.servicer.invoke_delay = 0.5
        # None = no deadline: outlives the 0.3 s default.
        assert await session.register("no-deadline", timeout=None) >= 1


async def test_closed_client_refuses_use(gateway: RunningGateway) -> None:
    client = await GatewayClient.connect(endpoint=gateway.endpoint, api_key=API_KEY, plaintext=True)
    session = await client.open_session(client_session_name="closing")
    await client.close()
    await client.close()  # idempotent
    assert client.closed
    with pytest.raises(ClientClosedError, match=gateway.endpoint):
        await client.open_session(client_session_name="again")
    with pytest.raises(ClientClosedError):
        await session.register("after-close")
    with pytest.raises(ClientClosedError):
        client.stream_events_raw(session.session_id)
    with pytest.raises(ClientClosedError):
        async with client:
            pass


async def test_close_during_a_call_reports_client_closed(gateway: RunningGateway) -> None:
    client = await GatewayClient.connect(endpoint=gateway.endpoint, api_key=API_KEY, plaintext=True)
    session = await client.open_session(client_session_name="in-flight")
    gateway.servicer.invoke_delay = 5.0
    call = asyncio.create_task(session.register("in-flight"))
    await wait_for(gateway.servicer.invoked, "the gateway to receive the command")
    await client.close()
    with pytest.raises(ClientClosedError):
        await call


async def test_unknown_session_is_session_not_found(gateway: RunningGateway) -> None:
    async with await GatewayClient.connect(
        endpoint=gateway.endpoint, api_key=API_KEY, plaintext=True
    ) as client:
        session = await client.open_session(client_session_name="nf")
        session.session_id = "session-" + "f" * 32
        with pytest.raises(SessionNotFoundError) as info:
            await session.register("x")
        assert "session-" + "f" * 32 in info.value.details
