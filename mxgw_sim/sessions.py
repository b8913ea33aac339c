"""Gateway sessions: ids, limits, lease, states, command dispatch and fault injection.

A :class:`Session` owns one worker host and one event hub. States follow the contract:
Opening → Ready → Closing → Closed, and Faulted → Closed only. A faulted session answers
commands with ``PROTOCOL_STATUS_CODE_WORKER_UNAVAILABLE`` (a reply, not a gRPC error), its
event stream ends with ABORTED, and CloseSession still succeeds.

:class:`SessionManager` enforces the session limit, remembers closed ids (so CloseSession is
idempotent), and expires idle sessions: a session expires once no stream is attached and
both its lease (since the last unary call) and the stream grace (since the last stream
detached) have run out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc

from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgw_sim.events import EventHub, StreamEnded
from mxgw_sim.generated import mxgw_sim_control_pb2 as cpb
from mxgw_sim.wire import AnyEvent
from mxgw_sim.worker_host import (
    HostSettings,
    InProcessWorkerHost,
    ProcessWorkerHost,
    WorkerHost,
    WorkerUnavailable,
    unavailable,
)

log = logging.getLogger("mxgw_sim.sessions")

S = pb.SessionState
_CLOSED_MEMORY = 10_000
_OPEN_STATES = (S.SESSION_STATE_OPENING, S.SESSION_STATE_READY, S.SESSION_STATE_FAULTED)


class SessionError(Exception):
    """A session-level refusal that maps to a gRPC status."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class SessionSettings:
    """Limits and timings of sessions (defaults from the gateway contract)."""

    max_sessions: int = 64
    max_pending: int = 128
    command_timeout: float = 30.0
    lease_seconds: float = 1800.0
    stream_grace: float = 30.0
    ring_size: int = 1024
    ring_seconds: float = 300.0
    queue_limit: int = 10_000
    fail_fast: bool = True


def payload_name(kind: int) -> str:
    """The MxCommandRequest payload member that goes with ``kind``."""
    return pb.MxCommandKind.Name(kind).removeprefix("MX_COMMAND_KIND_").lower()  # type: ignore[arg-type]


def validate_request(request: pb.MxCommandRequest) -> None:
    """Raise INVALID_ARGUMENT for a missing payload or a kind/payload mismatch."""
    member = request.WhichOneof("payload")
    if request.kind == pb.MX_COMMAND_KIND_UNSPECIFIED:
        raise SessionError(grpc.StatusCode.INVALID_ARGUMENT, "kind: missing command kind")
    try:
        expected = payload_name(request.kind)
    except ValueError:
        raise SessionError(
            grpc.StatusCode.INVALID_ARGUMENT, f"kind: unknown command kind {request.kind}"
        ) from None
    if member is None:
        raise SessionError(
            grpc.StatusCode.INVALID_ARGUMENT, f"payload: missing (kind needs {expected!r})"
        )
    if member != expected:
        raise SessionError(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"payload: {member!r} does not match kind {pb.MxCommandKind.Name(request.kind)}",
        )
    if request.HasField("timeout") and request.timeout.ToTimedelta().total_seconds() < 0:
        raise SessionError(grpc.StatusCode.INVALID_ARGUMENT, "timeout: must not be negative")


def _status_reply(request: pb.MxCommandRequest, code: int, message: str) -> pb.MxCommandReply:
    reply = pb.MxCommandReply(
        session_id=request.session_id, correlation_id=request.correlation_id, kind=request.kind
    )
    reply.protocol_status.code = code  # type: ignore[assignment]
    reply.protocol_status.message = message
    return reply


class Session:
    """One client session: its worker host, its event hub and its bookkeeping."""

    def __init__(
        self, session_id: str, client_name: str, settings: SessionSettings, manager: SessionManager
    ) -> None:
        self.id = session_id
        self.client_name = client_name
        self.settings = settings
        self._manager = manager
        self.created = time.monotonic()
        self.last_activity = self.created
        self.state: int = S.SESSION_STATE_OPENING
        self.fault_message = ""
        self.pending = 0
        self.command_latency = 0.0
        self.event_latency = 0.0
        self.hub = EventHub(
            ring_size=settings.ring_size,
            ring_seconds=settings.ring_seconds,
            queue_limit=settings.queue_limit,
            on_overflow=self._overflowed,
        )
        self.host: WorkerHost | None = None
        self._delayed: deque[tuple[float, AnyEvent]] = deque()
        self._delay_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()

    # ----------------------------------------------------------------- events
    def publish(self, event: AnyEvent) -> None:
        """Event from the worker: to the hub now, or after the injected event latency."""
        if self.event_latency <= 0 and not self._delayed:
            self.hub.publish(event)
            return
        self._delayed.append((time.monotonic() + self.event_latency, event))
        if self._delay_task is None or self._delay_task.done():
            self._delay_task = asyncio.create_task(self._release_delayed())

    def publish_many(self, events: list[AnyEvent]) -> None:
        """Events of one worker pass, in order: to the hub as one list when not delayed."""
        if self.event_latency <= 0 and not self._delayed:
            self.hub.publish_many(events)
            return
        for event in events:
            self.publish(event)

    async def _release_delayed(self) -> None:
        while self._delayed:
            due, event = self._delayed[0]
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._delayed.popleft()
            self.hub.publish(event)

    def _overflowed(self) -> None:
        log.warning("session %s: event queue overflow, stream disconnected", self.id)
        if self.settings.fail_fast:
            self.fault("event queue overflow (FailFast): the only subscriber fell behind")

    # ------------------------------------------------------------------ state
    @property
    def is_open(self) -> bool:
        """Whether the session still exists (Opening, Ready or Faulted)."""
        return self.state in _OPEN_STATES

    def touch(self) -> None:
        """Refresh the lease (every unary call does)."""
        self.last_activity = time.monotonic()

    def expired(self, now: float) -> bool:
        """Whether the lease and the stream grace have both run out."""
        if self.hub.attached:
            return False
        deadline = self.last_activity + self.settings.lease_seconds
        if self.hub.detached_at is not None:
            deadline = max(deadline, self.hub.detached_at + self.settings.stream_grace)
        return now > deadline

    def fault(self, message: str) -> None:
        """Move to Faulted (only from Opening/Ready): end the stream, release the worker."""
        if self.state not in (S.SESSION_STATE_OPENING, S.SESSION_STATE_READY):
            return
        self.state = S.SESSION_STATE_FAULTED
        self.fault_message = message
        log.warning("session %s faulted: %s", self.id, message)
        self.hub.end_stream(StreamEnded(f"session faulted: {message}", grpc.StatusCode.ABORTED))
        host = self.host
        if host is not None:
            task = asyncio.get_running_loop().create_task(host.shutdown("session faulted"))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    # --------------------------------------------------------------- commands
    async def invoke(self, request: pb.MxCommandRequest) -> pb.MxCommandReply:
        """Run one command: DrainEvents here, everything else on the worker."""
        validate_request(request)
        self.touch()
        if self.state == S.SESSION_STATE_FAULTED or self.host is None:
            return _status_reply(
                request,
                pb.PROTOCOL_STATUS_CODE_WORKER_UNAVAILABLE,
                f"session faulted: {self.fault_message}",
            )
        if request.kind == pb.MX_COMMAND_KIND_DRAIN_EVENTS:
            reply = _status_reply(request, pb.PROTOCOL_STATUS_CODE_OK, "")
            reply.drain_events.events.extend(self.hub.drain(request.drain_events.max_events))
            return reply
        if self.pending >= self.settings.max_pending:
            return _status_reply(
                request,
                pb.PROTOCOL_STATUS_CODE_BUSY,
                f"too many pending commands (limit {self.settings.max_pending})",
            )
        timeout = self.settings.command_timeout
        if request.HasField("timeout") and request.timeout.ToTimedelta().total_seconds() > 0:
            timeout = request.timeout.ToTimedelta().total_seconds()
        self.pending += 1
        try:
            if self.command_latency > 0:
                await asyncio.sleep(self.command_latency)
            reply = await asyncio.wait_for(self.host.execute(request), timeout)
        except TimeoutError:
            return _status_reply(
                request, pb.PROTOCOL_STATUS_CODE_TIMEOUT, f"command timed out after {timeout:g} s"
            )
        except WorkerUnavailable as exc:
            return unavailable(request, str(exc))
        finally:
            self.pending -= 1
            self.touch()
        reply.session_id = self.id
        return reply

    # ---------------------------------------------------------------- control
    def info(self) -> cpb.SessionInfo:
        """What ``ctl list-sessions`` shows about this session."""
        now = time.monotonic()
        handles, items, advised = self.host.counts() if self.host is not None else (0, 0, 0)
        return cpb.SessionInfo(
            session_id=self.id,
            state=self.state,  # type: ignore[arg-type]
            client_name=self.client_name,
            age_seconds=round(now - self.created, 3),
            idle_seconds=round(now - self.last_activity, 3),
            stream_attached=self.hub.attached,
            server_handles=handles,
            items=items,
            advised=advised,
            pending_events=self.hub.pending,
            worker_mode=self.host.mode if self.host is not None else "",
            worker_pid=self.host.pid
            if self.host is not None and self.host.mode == "process"
            else 0,
            last_worker_sequence=self.hub.last_sequence,
            fault_message=self.fault_message,
        )

    async def close(self, reason: str, stream_end: StreamEnded | None = None) -> None:
        """Release everything: end the stream, shut the worker down, mark Closed."""
        if self.state in (S.SESSION_STATE_CLOSING, S.SESSION_STATE_CLOSED):
            return
        self.state = S.SESSION_STATE_CLOSING
        self.hub.close(stream_end or StreamEnded(f"session closed: {reason}", None))
        if self._delay_task is not None:
            self._delay_task.cancel()
        if self.host is not None:
            try:
                await self.host.shutdown(reason)
            except Exception:
                log.exception("session %s: worker shutdown failed", self.id)
        for task in list(self._background):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.state = S.SESSION_STATE_CLOSED


WorkerFactory = Callable[[str], Any]
ReplicaSink = Callable[["Session", cpb.ReplicaUpdate], None]


class SessionManager:
    """All sessions of one simulator, with the lease reaper."""

    def __init__(
        self,
        settings: SessionSettings,
        host_settings: HostSettings,
        worker_factory: WorkerFactory,
    ) -> None:
        self.settings = settings
        self.host_settings = host_settings
        self._factory = worker_factory
        self._sessions: dict[str, Session] = {}
        self._closed: OrderedDict[str, int] = OrderedDict()
        self._reaper: asyncio.Task[None] | None = None
        self.default_command_latency = 0.0
        self.default_event_latency = 0.0
        self.replica_sink: ReplicaSink | None = None
        #: Called once a process worker is up, before its session is returned: the front
        #: sends the new replica the galaxy changes made so far.
        self.replica_seed: Callable[[Session], None] | None = None
        self.shutting_down = False

    def start(self) -> None:
        """Start the lease reaper on the running loop."""
        self._reaper = asyncio.create_task(self._reap())

    async def _reap(self) -> None:
        step = max(0.05, min(1.0, self.settings.lease_seconds / 4, self.settings.stream_grace / 4))
        while True:
            await asyncio.sleep(step)
            now = time.monotonic()
            for session in list(self._sessions.values()):
                if session.expired(now):
                    log.info("session %s: lease expired", session.id)
                    await self.close(session.id, "lease expired")

    def _from_child(self, session: Session, update: cpb.ReplicaUpdate) -> None:
        if self.replica_sink is not None:
            self.replica_sink(session, update)

    # ------------------------------------------------------------------ public
    def sessions(self) -> list[Session]:
        """Open sessions, oldest first."""
        return list(self._sessions.values())

    async def open(self, client_name: str) -> Session:
        """Open a session and start its worker; RESOURCE_EXHAUSTED past the limit."""
        if self.shutting_down:
            raise SessionError(grpc.StatusCode.UNAVAILABLE, "server is shutting down")
        if len(self._sessions) >= self.settings.max_sessions:
            raise SessionError(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"session limit reached ({self.settings.max_sessions} open sessions)",
            )
        session_id = f"session-{secrets.token_hex(16)}"
        session = Session(session_id, client_name, self.settings, self)
        session.command_latency = self.default_command_latency
        session.event_latency = self.default_event_latency
        self._sessions[session_id] = session
        host: WorkerHost
        try:
            if self.host_settings.process:
                host = ProcessWorkerHost(
                    session_id,
                    self.host_settings,
                    session.publish,
                    session.fault,
                    on_replica=lambda update: self._from_child(session, update),
                )
            else:
                host = InProcessWorkerHost(
                    session_id,
                    self.host_settings,
                    session.publish,
                    session.fault,
                    self._factory(session_id),
                    session.publish_many,
                )
            session.host = host
            await host.start()
            if self.host_settings.process and self.replica_seed is not None:
                self.replica_seed(session)
        except Exception as exc:
            self._sessions.pop(session_id, None)
            if session.host is not None:
                with contextlib.suppress(Exception):
                    await session.host.shutdown("failed to start")
            log.exception("session %s: worker failed to start", session_id)
            raise SessionError(
                grpc.StatusCode.UNAVAILABLE, f"worker failed to start: {exc}"
            ) from None
        if session.state == S.SESSION_STATE_OPENING:
            session.state = S.SESSION_STATE_READY
        log.info("session %s opened (%s)", session_id, client_name or "unnamed")
        return session

    def get(self, session_id: str) -> Session:
        """The open session ``session_id``; NOT_FOUND for unknown or closed ids."""
        session = self._sessions.get(session_id)
        if session is None:
            if not session_id:
                raise SessionError(grpc.StatusCode.INVALID_ARGUMENT, "session_id: missing")
            raise SessionError(grpc.StatusCode.NOT_FOUND, f"session {session_id} not found")
        return session

    async def close(
        self, session_id: str, reason: str, stream_end: StreamEnded | None = None
    ) -> int:
        """Close a session (idempotent for closed ids); returns the final state."""
        session = self._sessions.get(session_id)
        if session is None:
            if session_id in self._closed:
                return S.SESSION_STATE_CLOSED
            self.get(session_id)  # raises NOT_FOUND / INVALID_ARGUMENT
        assert session is not None
        self._sessions.pop(session_id, None)
        self._closed[session_id] = S.SESSION_STATE_CLOSED
        while len(self._closed) > _CLOSED_MEMORY:
            self._closed.popitem(last=False)
        await session.close(reason, stream_end)
        log.info("session %s closed (%s)", session_id, reason)
        return S.SESSION_STATE_CLOSED

    async def close_all(self, reason: str) -> None:
        """Close every session (shutdown); streams end with UNAVAILABLE."""
        self.shutting_down = True
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        end = StreamEnded(f"server {reason}", grpc.StatusCode.UNAVAILABLE)
        await asyncio.gather(
            *(self.close(sid, reason, end) for sid in list(self._sessions)),
            return_exceptions=True,
        )
