"""A small, real gateway for the client tests: a grpc.aio server on 127.0.0.1, port 0.

``GatewayServicer`` checks the bearer key like the gateway does, records every request and
its metadata, answers commands from a programmable table, streams queued events, and tells
the test (through ``asyncio.Event``s) when a stream handler saw its call cancelled.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
import trustme

from mxgateway import GatewayClient, Session
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway.generated import mxaccess_gateway_pb2_grpc as pb_grpc
from mxgateway.generated import mxgw_extensions_pb2 as ext
from mxgateway.generated import mxgw_extensions_pb2_grpc as ext_grpc

API_KEY = "mxgw_testkey_Zq8sEcReT0nlyF0rTests"
READ_ONLY_KEY = "mxgw_readonly_R3adOnlyS3cret"
WRITE_KINDS = {
    pb.MX_COMMAND_KIND_WRITE,
    pb.MX_COMMAND_KIND_WRITE2,
    pb.MX_COMMAND_KIND_WRITE_SECURED,
    pb.MX_COMMAND_KIND_WRITE_SECURED2,
    pb.MX_COMMAND_KIND_WRITE_BULK,
    pb.MX_COMMAND_KIND_WRITE2_BULK,
    pb.MX_COMMAND_KIND_WRITE_SECURED_BULK,
    pb.MX_COMMAND_KIND_WRITE_SECURED2_BULK,
}
SESSION_ID = "session-" + "0" * 31 + "1"

OK = pb.ProtocolStatus(code=pb.PROTOCOL_STATUS_CODE_OK, message="ok")
K = pb.MxCommandKind

Handler = Callable[[pb.MxCommandRequest], Awaitable[pb.MxCommandReply] | pb.MxCommandReply]


@dataclass
class StreamProbe:
    """What one event-stream handler saw: when it started and whether it was cancelled."""

    method: str
    started: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    request: Any = None


class GatewayServicer(pb_grpc.MxAccessGatewayServicer):
    """The gateway side of the tests; attributes are the knobs and the records."""

    def __init__(self, api_key: str | None = API_KEY) -> None:
        self.api_key = api_key
        self.metadata: list[tuple[str, dict[str, str]]] = []
        self.requests: list[Any] = []
        self.handlers: dict[int, Handler] = {}
        self.invoke_delay = 0.0
        self.open_delay = 0.0
        self.opening = asyncio.Event()
        self.invoked = asyncio.Event()
        self.events: list[pb.MxEvent] = []
        self.hold_stream_open = True
        self.end_streams = asyncio.Event()
        self.probes: list[StreamProbe] = []
        self.stream_started = asyncio.Event()
        self.open_streams: set[str] = set()
        self.details_suffix = ""
        self.alarm_feed: list[pb.AlarmFeedMessage] = []
        self.active_alarms: list[pb.ActiveAlarmSnapshot] = []
        self._handles = itertools.count(1)
        self.closed_sessions: set[str] = set()

    # ------------------------------------------------------------------ auth

    async def _auth(self, method: str, context: grpc.aio.ServicerContext) -> str | None:
        """Check the bearer key; returns it (None when the server needs no key)."""
        md = {k: v for k, v in (context.invocation_metadata() or ())}
        self.metadata.append((method, md))
        if self.api_key is None:
            return None
        header = md.get("authorization")
        if header is None:
            await context.abort(
                grpc.StatusCode.UNAUTHENTICATED, "authentication failed: missing bearer token"
            )
        assert header is not None
        if header == f"Bearer {READ_ONLY_KEY}":
            return READ_ONLY_KEY
        if header != f"Bearer {self.api_key}":
            await context.abort(
                grpc.StatusCode.UNAUTHENTICATED,
                "authentication failed: invalid API key" + self.details_suffix,
            )
        return self.api_key

    # ------------------------------------------------------------------ sessions

    async def OpenSession(
        self, request: pb.OpenSessionRequest, context: grpc.aio.ServicerContext
    ) -> pb.OpenSessionReply:
        await self._auth("OpenSession", context)
        self.requests.append(request)
        self.opening.set()
        if self.open_delay:
            await asyncio.sleep(self.open_delay)
        return pb.OpenSessionReply(
            session_id=SESSION_ID,
            backend_name="test-worker",
            gateway_protocol_version=3,
            worker_protocol_version=3,
            protocol_status=OK,
        )

    async def CloseSession(
        self, request: pb.CloseSessionRequest, context: grpc.aio.ServicerContext
    ) -> pb.CloseSessionReply:
        await self._auth("CloseSession", context)
        self.requests.append(request)
        if request.session_id != SESSION_ID:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"session {request.session_id} unknown")
        self.closed_sessions.add(request.session_id)
        return pb.CloseSessionReply(
            session_id=request.session_id,
            final_state=pb.SESSION_STATE_CLOSED,
            protocol_status=OK,
        )

    async def Invoke(
        self, request: pb.MxCommandRequest, context: grpc.aio.ServicerContext
    ) -> pb.MxCommandReply:
        key = await self._auth("Invoke", context)
        self.requests.append(request)
        if key == READ_ONLY_KEY and request.kind in WRITE_KINDS:
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED,
                "authorization failed: missing scope invoke:write",
            )
        if request.session_id != SESSION_ID:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"session {request.session_id} unknown")
        self.invoked.set()
        if self.invoke_delay:
            await asyncio.sleep(self.invoke_delay)
        handler = self.handlers.get(request.kind)
        if handler is not None:
            result = handler(request)
            reply = await result if asyncio.iscoroutine(result) else result
            assert isinstance(reply, pb.MxCommandReply)
        else:
            reply = self.default_reply(request)
        reply.session_id = request.session_id
        reply.correlation_id = request.correlation_id
        return reply

    def default_reply(self, request: pb.MxCommandRequest) -> pb.MxCommandReply:
        """OK for everything; handles count from 1; bulk commands answer per entry."""
        reply = pb.MxCommandReply(kind=request.kind, protocol_status=OK)
        which = request.WhichOneof("payload")
        if which == "register":
            reply.register.server_handle = next(self._handles)
        elif which in ("add_item", "add_item2", "add_buffered_item"):
            getattr(reply, which).item_handle = next(self._handles)
        elif which == "authenticate_user":
            reply.authenticate_user.user_id = 7
        elif which == "archestra_user_to_id":
            reply.archestra_user_to_id.user_id = 8
        elif which == "drain_events":
            reply.drain_events.events.extend(self.events)
        elif which in ("add_item_bulk", "subscribe_bulk"):
            payload = getattr(request, which)
            for address in payload.tag_addresses:
                reply.bulk_subscribe.results.add(
                    server_handle=payload.server_handle,
                    tag_address=address,
                    item_handle=next(self._handles),
                    was_successful=True,
                )
        elif which and which.endswith("_bulk") and "write" in which:
            for entry in getattr(request, which).entries:
                reply.bulk_write.results.add(item_handle=entry.item_handle, was_successful=True)
        elif which and which.endswith("_bulk") and which != "read_bulk":
            payload = getattr(request, which)
            for handle in payload.item_handles:
                reply.bulk_subscribe.results.add(
                    server_handle=payload.server_handle, item_handle=handle, was_successful=True
                )
        elif which == "read_bulk":
            for index, address in enumerate(request.read_bulk.tag_addresses):
                result = reply.read_bulk.results.add(
                    tag_address=address, item_handle=index + 1, was_successful=True, quality=192
                )
                result.value.int32_value = index
                result.value.data_type = pb.MX_DATA_TYPE_INTEGER
        return reply

    # ------------------------------------------------------------------ events

    async def _serve_events(
        self, method: str, request: Any, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[list[pb.MxEvent]]:
        probe = StreamProbe(method, request=request)
        self.probes.append(probe)
        if request.session_id in self.open_streams:
            await context.abort(grpc.StatusCode.ALREADY_EXISTS, "an event stream is already open")
        self.open_streams.add(request.session_id)
        probe.started.set()
        self.stream_started.set()
        try:
            after = request.after_worker_sequence
            pending = [
                e for e in self.events if e.worker_sequence > after or e.HasField("replay_gap")
            ]
            if pending:
                yield pending
            if self.hold_stream_open:
                await self.end_streams.wait()
        except asyncio.CancelledError:
            probe.cancelled.set()
            raise
        finally:
            self.open_streams.discard(request.session_id)

    async def StreamEvents(
        self, request: pb.StreamEventsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.MxEvent]:
        await self._auth("StreamEvents", context)
        self.requests.append(request)
        async for chunk in self._serve_events("StreamEvents", request, context):
            for event in chunk:
                yield event

    # ------------------------------------------------------------------ alarms

    async def AcknowledgeAlarm(
        self, request: pb.AcknowledgeAlarmRequest, context: grpc.aio.ServicerContext
    ) -> pb.AcknowledgeAlarmReply:
        await self._auth("AcknowledgeAlarm", context)
        self.requests.append(request)
        if request.alarm_full_reference.startswith("Unknown"):
            return pb.AcknowledgeAlarmReply(
                protocol_status=pb.ProtocolStatus(
                    code=pb.PROTOCOL_STATUS_CODE_INVALID_REQUEST, message="no such alarm"
                ),
                alarm_full_reference=request.alarm_full_reference,
            )
        return pb.AcknowledgeAlarmReply(
            protocol_status=OK, alarm_full_reference=request.alarm_full_reference
        )

    async def StreamAlarms(
        self, request: pb.StreamAlarmsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.AlarmFeedMessage]:
        await self._auth("StreamAlarms", context)
        probe = StreamProbe("StreamAlarms", request=request)
        self.probes.append(probe)
        probe.started.set()
        try:
            for message in self.alarm_feed:
                yield message
            if self.hold_stream_open:
                await self.end_streams.wait()
        except asyncio.CancelledError:
            probe.cancelled.set()
            raise

    async def QueryActiveAlarms(
        self, request: pb.QueryActiveAlarmsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.ActiveAlarmSnapshot]:
        await self._auth("QueryActiveAlarms", context)
        for alarm in self.active_alarms:
            if alarm.alarm_full_reference.startswith(request.alarm_filter_prefix):
                yield alarm


class ExtensionsServicer(ext_grpc.MxGatewayExtensionsServicer):
    """The batching extension, served from the same state as ``GatewayServicer``."""

    def __init__(self, gateway: GatewayServicer) -> None:
        self.gateway = gateway

    async def StreamEventBatches(
        self, request: ext.StreamEventBatchesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[ext.MxEventBatch]:
        await self.gateway._auth("StreamEventBatches", context)
        self.gateway.requests.append(request)
        size = request.max_batch_size or 3
        async for chunk in self.gateway._serve_events("StreamEventBatches", request, context):
            for start in range(0, len(chunk), size):
                yield ext.MxEventBatch(events=chunk[start : start + size])


@dataclass
class RunningGateway:
    """A started test server: where it listens and the servicer behind it."""

    endpoint: str
    servicer: GatewayServicer
    server: grpc.aio.Server
    ca_pem: bytes | None = None


async def start_gateway(
    *,
    api_key: str | None = API_KEY,
    extensions: bool = True,
    tls: trustme.CA | None = None,
    hostname: str = "localhost",
) -> RunningGateway:
    """Start a server on 127.0.0.1, port 0 (TLS with a cert for ``hostname`` when ``tls``)."""
    servicer = GatewayServicer(api_key)
    server = grpc.aio.server()
    pb_grpc.add_MxAccessGatewayServicer_to_server(servicer, server)
    if extensions:
        ext_grpc.add_MxGatewayExtensionsServicer_to_server(ExtensionsServicer(servicer), server)
    ca_pem = None
    if tls is None:
        port = server.add_insecure_port("127.0.0.1:0")
    else:
        cert = tls.issue_cert(hostname)
        credentials = grpc.ssl_server_credentials(
            [(cert.private_key_pem.bytes(), cert.cert_chain_pems[0].bytes())]
        )
        port = server.add_secure_port("127.0.0.1:0", credentials)
        ca_pem = tls.cert_pem.bytes()
    await server.start()
    return RunningGateway(f"127.0.0.1:{port}", servicer, server, ca_pem)


@pytest.fixture
async def gateway() -> AsyncIterator[RunningGateway]:
    """A plaintext test gateway requiring ``API_KEY``, with the batching extension."""
    running = await start_gateway()
    try:
        yield running
    finally:
        await running.server.stop(None)


@pytest.fixture
async def plain_gateway() -> AsyncIterator[RunningGateway]:
    """A test gateway without the batching extension (like the real gateway)."""
    running = await start_gateway(extensions=False)
    try:
        yield running
    finally:
        await running.server.stop(None)


@pytest.fixture
def api_key() -> str:
    """The key the test gateways accept."""
    return API_KEY


@pytest.fixture
async def session(gateway: RunningGateway) -> AsyncIterator[Session]:
    """A client connected to ``gateway`` and a session open on it, closed afterwards."""
    async with (
        await GatewayClient.connect(
            endpoint=gateway.endpoint, api_key=API_KEY, plaintext=True
        ) as client,
        await client.open_session(client_session_name="client-tests") as opened,
    ):
        yield opened


async def wait_for(event: asyncio.Event, what: str, limit: float = 5.0) -> None:
    """Wait on a condition the server signals, failing with ``what`` if it never comes."""
    try:
        await asyncio.wait_for(event.wait(), limit)
    except TimeoutError:
        pytest.fail(f"timed out waiting for {what}")
