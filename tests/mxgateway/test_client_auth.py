"""API key metadata on every call kind, rejection, and keeping the key secret."""

from __future__ import annotations

import logging
import warnings

import grpc
import pytest
from client_testserver import API_KEY, RunningGateway, wait_for

from mxgateway import (
    AuthenticationError,
    ClientOptions,
    GatewayClient,
    InvalidOptionsError,
    PlaintextKeyWarning,
)
from mxgateway._auth import is_loopback_endpoint


async def test_key_is_sent_on_unary_and_streaming_calls(gateway: RunningGateway) -> None:
    async with await GatewayClient.connect(
        endpoint=gateway.endpoint, api_key=API_KEY, plaintext=True
    ) as client:
        session = await client.open_session(client_session_name="auth-test")
        await session.register("auth-test")
        async with session.events() as stream:
            await wait_for(gateway.servicer.stream_started, "the event stream to start")
            stream.cancel()
        alarms = client.stream_alarms()
        await alarms.aclose()
        assert await client.query_active_alarms() == []
        await session.close()
    seen = {method: md.get("authorization") for method, md in gateway.servicer.metadata}
    expected = f"Bearer {API_KEY}"
    assert seen["OpenSession"] == expected
    assert seen["Invoke"] == expected
    assert seen["CloseSession"] == expected
    assert seen["StreamEvents"] == expected
    assert seen["QueryActiveAlarms"] == expected


@pytest.mark.parametrize("batch", [False, True])
async def test_stream_without_key_is_rejected(gateway: RunningGateway, batch: bool) -> None:
    async with await GatewayClient.connect(endpoint=gateway.endpoint, plaintext=True) as client:
        with pytest.raises(AuthenticationError) as info:
            async for _ in (
                client.stream_event_batches_raw("session-x")
                if batch
                else client.stream_events_raw("session-x")
            ):
                pass
    assert info.value.code is grpc.StatusCode.UNAUTHENTICATED
    assert "missing bearer token" in info.value.details


async def test_unary_without_key_is_rejected(gateway: RunningGateway) -> None:
    async with await GatewayClient.connect(endpoint=gateway.endpoint, plaintext=True) as client:
        with pytest.raises(AuthenticationError, match="missing bearer token"):
            await client.open_session(client_session_name="no-key")


async def test_wrong_key_is_rejected_and_never_shown(gateway: RunningGateway) -> None:
    wrong = "mxgw_wrong_NotTheRightSecret99"
    gateway.servicer.details_suffix = f" (got Bearer {wrong})"  # a server that echoes the key
    async with await GatewayClient.connect(
        endpoint=gateway.endpoint, api_key=wrong, plaintext=True
    ) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.open_session(client_session_name="wrong-key")
        with pytest.raises(AuthenticationError) as stream_info:
            async for _ in client.stream_events_raw("session-x"):
                pass
        text = repr(client) + repr(client.options) + str(client.options)
    for error in (info.value, stream_info.value):
        assert wrong not in str(error)
        assert wrong not in repr(error)
        assert wrong not in error.details
        assert "<redacted>" in error.details
        # The server's raw text held the key, so it is not chained into the traceback.
        assert error.__cause__ is None and error.__suppress_context__
    assert wrong not in text


def test_options_repr_redacts_key() -> None:
    options = ClientOptions(endpoint="gw:5001", api_key=API_KEY)
    assert "api_key='<redacted>'" in repr(options)
    assert API_KEY not in repr(options) and API_KEY not in str(options)
    assert "api_key=None" in repr(ClientOptions())


def test_bad_key_error_does_not_echo_it() -> None:
    with pytest.raises(InvalidOptionsError, match="api_key") as info:
        ClientOptions(api_key="mxgw_abc_has space")
    assert "has space" not in str(info.value)


async def test_plaintext_key_to_remote_host_warns(
    gateway: RunningGateway, caplog: pytest.LogCaptureFixture
) -> None:
    def factory(options: ClientOptions) -> grpc.aio.Channel:
        # The options name a remote host; the channel really goes to the local test server.
        return grpc.aio.insecure_channel(gateway.endpoint)

    with caplog.at_level(logging.WARNING, logger="mxgateway"), pytest.warns(PlaintextKeyWarning):
        client = await GatewayClient.connect(
            endpoint="gateway.example.com:5000",
            api_key=API_KEY,
            plaintext=True,
            channel_factory=factory,
        )
    await client.close()
    assert "plaintext" in caplog.text
    assert API_KEY not in caplog.text


async def test_plaintext_key_to_loopback_does_not_warn(gateway: RunningGateway) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", PlaintextKeyWarning)
        client = await GatewayClient.connect(
            endpoint=gateway.endpoint, api_key=API_KEY, plaintext=True
        )
    await client.close()


@pytest.mark.parametrize(
    ("endpoint", "loopback"),
    [
        ("localhost:5000", True),
        ("127.0.0.1:5000", True),
        ("[::1]:5000", True),
        ("dns:///localhost:5000", True),
        ("unix:/tmp/gw.sock", True),
        ("gateway.example.com:5000", False),
        ("10.1.2.3:5000", False),
        ("[2001:db8::1]:5000", False),
    ],
)
def test_loopback_detection(endpoint: str, loopback: bool) -> None:
    assert is_loopback_endpoint(endpoint) is loopback
