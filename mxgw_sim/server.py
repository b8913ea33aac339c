"""The simulator's gRPC server: the gateway service, the batching extension, health,
reflection and the control service, all behind the auth interceptor.

:class:`SimServer` binds, serves and stops on the loop that started it. Stopping is graceful:
health turns NOT_SERVING, every session closes (its stream ends with UNAVAILABLE, its worker
shuts down), then the server stops.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway.generated import mxaccess_gateway_pb2_grpc as pb_grpc
from mxgateway.generated import mxgw_extensions_pb2 as ext
from mxgw_sim import __version__
from mxgw_sim.auth import AuthInterceptor, KeyStore
from mxgw_sim.control import ControlServicer, GalaxyAdapter
from mxgw_sim.events import StoredEvent, StreamEnded, SubscriberExists, Subscription
from mxgw_sim.generated import mxgw_sim_control_pb2 as cpb
from mxgw_sim.generated import mxgw_sim_control_pb2_grpc as cpb_grpc
from mxgw_sim.sessions import Session, SessionError, SessionManager, SessionSettings
from mxgw_sim.tls import server_credentials
from mxgw_sim.wire import as_message, encode_event_batch
from mxgw_sim.worker_host import HostSettings

log = logging.getLogger("mxgw_sim.server")

PROTOCOL_VERSION = 3
BACKEND_NAME = "mxaccess-worker"
MAX_RECEIVE_BYTES = 4 * 1024 * 1024
MAX_SEND_BYTES = 64 * 1024 * 1024
DEFAULT_BATCH_SIZE = 256
DEFAULT_BATCH_DELAY = 0.005
MAX_BATCH_SIZE = 10_000
SERVICE_NAMES = (
    pb.DESCRIPTOR.services_by_name["MxAccessGateway"].full_name,
    ext.DESCRIPTOR.services_by_name["MxGatewayExtensions"].full_name,
    cpb.DESCRIPTOR.services_by_name["SimulatorControl"].full_name,
)


@dataclass
class ServerConfig:
    """Everything :class:`SimServer` needs (the CLI builds it from its arguments)."""

    listen: str = "127.0.0.1:5000"
    galaxy_file: str | None = None
    keys: KeyStore = field(default_factory=KeyStore)
    tls_cert: str | None = None
    tls_key: str | None = None
    sessions: SessionSettings = field(default_factory=SessionSettings)
    host: HostSettings = field(default_factory=HostSettings)
    max_receive_bytes: int = MAX_RECEIVE_BYTES


async def _abort(context: grpc.aio.ServicerContext[Any, Any], exc: SessionError) -> None:
    await context.abort(exc.code, exc.message)


async def _stream(
    manager: SessionManager,
    context: grpc.aio.ServicerContext[Any, Any],
    session_id: str,
    after: int,
    max_batch: int,
    max_delay: float,
) -> AsyncGenerator[list[StoredEvent], None]:
    """Attach the session's one subscriber and yield event batches until the stream ends."""
    try:
        session: Session = manager.get(session_id)
        if session.state == pb.SESSION_STATE_FAULTED:
            raise SessionError(
                grpc.StatusCode.FAILED_PRECONDITION, f"session faulted: {session.fault_message}"
            )
        sub: Subscription = session.hub.attach(after, context.done)
    except SessionError as exc:
        await _abort(context, exc)
        return
    except SubscriberExists:
        await context.abort(
            grpc.StatusCode.ALREADY_EXISTS, f"session {session_id} already has an event stream"
        )
        return
    try:
        # Tell the client the stream is attached before the first event exists.
        await context.send_initial_metadata(())
        while True:
            yield await sub.next_batch(max_batch, max_delay)
    except StreamEnded as ended:
        if ended.code is not None:
            await context.abort(ended.code, ended.reason)
    finally:
        sub.detach()


class GatewayServicer(pb_grpc.MxAccessGatewayServicer):
    """``mxaccess_gateway.v1.MxAccessGateway`` over the session manager."""

    def __init__(self, manager: SessionManager, galaxy: GalaxyAdapter) -> None:
        self._manager = manager
        self._galaxy = galaxy

    async def OpenSession(
        self, request: pb.OpenSessionRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.OpenSessionReply:
        try:
            session = await self._manager.open(request.client_session_name)
        except SessionError as exc:
            await _abort(context, exc)
            raise AssertionError("unreachable") from None
        reply = pb.OpenSessionReply(
            session_id=session.id,
            backend_name=BACKEND_NAME,
            gateway_protocol_version=PROTOCOL_VERSION,
            worker_protocol_version=PROTOCOL_VERSION,
        )
        reply.protocol_status.code = pb.PROTOCOL_STATUS_CODE_OK
        return reply

    async def CloseSession(
        self, request: pb.CloseSessionRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.CloseSessionReply:
        try:
            state = await self._manager.close(request.session_id, request.reason or "client")
        except SessionError as exc:
            await _abort(context, exc)
            raise AssertionError("unreachable") from None
        reply = pb.CloseSessionReply(session_id=request.session_id, final_state=state)  # type: ignore[arg-type]
        reply.protocol_status.code = pb.PROTOCOL_STATUS_CODE_OK
        return reply

    async def Invoke(
        self, request: pb.MxCommandRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.MxCommandReply:
        try:
            session = self._manager.get(request.session_id)
            return await session.invoke(request)
        except SessionError as exc:
            await _abort(context, exc)
            raise AssertionError("unreachable") from None

    async def StreamEvents(
        self, request: pb.StreamEventsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[pb.MxEvent]:
        batches = _stream(
            self._manager, context, request.session_id, request.after_worker_sequence, 512, 0.0
        )
        try:
            async for batch in batches:
                for event in batch:
                    yield as_message(event)
        finally:
            await batches.aclose()

    async def AcknowledgeAlarm(
        self, request: pb.AcknowledgeAlarmRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.AcknowledgeAlarmReply:
        return await self._galaxy.acknowledge_alarm(request, context)

    async def StreamAlarms(
        self, request: pb.StreamAlarmsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[pb.AlarmFeedMessage]:
        async for message in self._galaxy.stream_alarms(request, context):
            yield message

    async def QueryActiveAlarms(
        self, request: pb.QueryActiveAlarmsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[pb.ActiveAlarmSnapshot]:
        async for message in self._galaxy.query_active_alarms(request, context):
            yield message


class ExtensionServicer:
    """``mxgw.ext.v1.MxGatewayExtensions``: StreamEvents in batches.

    Each batch is yielded already serialized (:func:`encode_event_batch`: the bytes an
    ``MxEventBatch`` would serialize to), so the method is served by :func:`extension_handler`
    with an identity response serializer rather than the generated one.
    """

    def __init__(self, manager: SessionManager) -> None:
        self._manager = manager

    async def StreamEventBatches(
        self, request: ext.StreamEventBatchesRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[bytes]:
        size = request.max_batch_size or DEFAULT_BATCH_SIZE
        size = min(size, MAX_BATCH_SIZE)
        delay = DEFAULT_BATCH_DELAY
        if request.HasField("max_batch_delay"):
            delay = max(0.0, request.max_batch_delay.ToTimedelta().total_seconds())
        batches = _stream(
            self._manager, context, request.session_id, request.after_worker_sequence, size, delay
        )
        try:
            async for batch in batches:
                yield encode_event_batch(batch)
        finally:
            await batches.aclose()


def _identity(data: bytes) -> bytes:
    return data


def extension_handler(servicer: ExtensionServicer) -> grpc.GenericRpcHandler[Any, Any]:
    """The extension service with StreamEventBatches sending pre-encoded batches."""
    service = ext.DESCRIPTOR.services_by_name["MxGatewayExtensions"].full_name
    return grpc.method_handlers_generic_handler(
        service,
        {
            "StreamEventBatches": grpc.unary_stream_rpc_method_handler(
                servicer.StreamEventBatches,
                request_deserializer=ext.StreamEventBatchesRequest.FromString,
                response_serializer=_identity,
            ),
        },
    )


class SimServer:
    """One running simulator: build, :meth:`start`, then :meth:`stop` on the same loop."""

    def __init__(self, config: ServerConfig, galaxy: GalaxyAdapter) -> None:
        self.config = config
        self.galaxy = galaxy
        self.manager = SessionManager(config.sessions, config.host, galaxy.worker_factory)
        galaxy.bind(self.manager)
        self.health = health.aio.HealthServicer()  # type: ignore[attr-defined]
        self._server: grpc.aio.Server | None = None
        self.endpoint = ""
        self._stopped = False

    @property
    def tls(self) -> bool:
        """Whether the server listens with TLS."""
        return bool(self.config.tls_cert)

    async def start(self) -> str:
        """Bind and start serving; returns the bound ``host:port``."""
        options = [
            ("grpc.max_receive_message_length", self.config.max_receive_bytes),
            ("grpc.max_send_message_length", MAX_SEND_BYTES),
            ("grpc.so_reuseport", 0),
        ]
        server = grpc.aio.server(interceptors=[AuthInterceptor(self.config.keys)], options=options)
        pb_grpc.add_MxAccessGatewayServicer_to_server(
            GatewayServicer(self.manager, self.galaxy), server
        )
        server.add_generic_rpc_handlers((extension_handler(ExtensionServicer(self.manager)),))
        cpb_grpc.add_SimulatorControlServicer_to_server(
            ControlServicer(self.manager, self.galaxy), server
        )
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        reflection.enable_server_reflection(
            (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server
        )
        if self.config.tls_cert:
            creds = server_credentials(self.config.tls_cert, self.config.tls_key or "")
            port = server.add_secure_port(self.config.listen, creds)
        else:
            port = server.add_insecure_port(self.config.listen)
        if port == 0:
            raise OSError(f"cannot listen on {self.config.listen}")
        host = self.config.listen.rsplit(":", 1)[0]
        self.endpoint = f"{host}:{port}"
        await server.start()
        self._server = server
        self.galaxy.start()
        self.manager.start()
        for name in (*SERVICE_NAMES, health.OVERALL_HEALTH):
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        log.info(
            "serving on %s (tls=%s, auth=%s)", self.endpoint, self.tls, self.config.keys.enabled
        )
        return self.endpoint

    async def stop(self, grace: float = 1.0) -> None:
        """Graceful stop: NOT_SERVING, close sessions (streams end), stop the server.

        ``grace`` is how long calls still running after the sessions closed (health
        watches, reflection) may take before they are cancelled.
        """
        if self._stopped:
            return
        self._stopped = True
        with contextlib.suppress(Exception):
            await self.health.enter_graceful_shutdown()
        self.galaxy.stopping()
        await self.manager.close_all("shutting down")
        if self._server is not None:
            await self._server.stop(grace)
        await self.galaxy.stop()
        log.info("stopped")

    async def wait(self) -> None:
        """Wait until the server terminates."""
        if self._server is not None:
            await self._server.wait_for_termination()


def version() -> str:
    """The simulator's version string."""
    return __version__
