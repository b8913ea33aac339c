"""The control service (``mxgw_sim.control.v1.SimulatorControl``) and the galaxy it steers.

:class:`GalaxyAdapter` owns the front's galaxy runtime, makes each session's worker, and
applies control changes: directly to the shared runtime for in-process workers, and as
``ReplicaUpdate`` frames to every child's replica in ``--worker-process`` mode (where it
also replicates successful writes from one session to the other children).
:class:`ControlServicer` exposes fault injection and inspection over gRPC.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any

import grpc

from mxgateway import from_mx_value
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgw_sim.generated import mxgw_sim_control_pb2 as cpb
from mxgw_sim.generated import mxgw_sim_control_pb2_grpc as cpb_grpc
from mxgw_sim.worker_host import make_worker

if TYPE_CHECKING:
    from mxgw_sim.sessions import Session, SessionManager

log = logging.getLogger("mxgw_sim.control")

Context = grpc.aio.ServicerContext[Any, Any]


class ControlError(Exception):
    """A control request names something that does not exist or is not allowed."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


# --------------------------------------------------------------- galaxy runtime adapter
def load_galaxy_runtime(path: str | None) -> Any:
    """Load a galaxy file (``None``: the packaged default) into a live runtime."""
    from mxgw_sim.galaxy.loader import load_galaxy
    from mxgw_sim.galaxy.runtime import GalaxyRuntime

    return GalaxyRuntime(load_galaxy(path))


def galaxy_name(runtime: Any) -> str:
    """The galaxy's name, for the listening line."""
    galaxy = getattr(runtime, "galaxy", runtime)
    return str(getattr(galaxy, "name", "Galaxy"))


def change_to_record(change: Any) -> cpb.ReplicaUpdate:
    """A runtime ``GalaxyChange`` as a replica frame."""
    update = cpb.ReplicaUpdate()
    record = update.change
    record.kind = change.kind
    record.object = change.object
    record.field = change.field
    record.timestamp = change.timestamp
    if change.value:
        record.value.ParseFromString(change.value)
    if change.quality is not None:
        record.quality = change.quality
    if change.flag is not None:
        record.flag = change.flag
    return update


def record_to_change(record: cpb.GalaxyChangeRecord) -> Any:
    """A replica frame's change as a runtime ``GalaxyChange``."""
    from mxgw_sim.galaxy.changes import GalaxyChange

    return GalaxyChange(
        kind=record.kind,
        object=record.object,
        field=record.field,
        timestamp=record.timestamp,
        value=record.value.SerializeToString() if record.HasField("value") else b"",
        quality=record.quality if record.HasField("quality") else None,
        flag=record.flag if record.HasField("flag") else None,
    )


def set_worker_fault(worker: Any, name: str, value: Any) -> None:
    """Set one of the worker's fault hooks (e.g. ``drop_write_completions``)."""
    setter = getattr(worker, "set_fault", None)
    if callable(setter):
        setter(name, value)
    else:
        setattr(worker, name, value)


def apply_replica_update(runtime: Any, workers: Iterable[Any], update: cpb.ReplicaUpdate) -> None:
    """Apply one frame from the front inside a worker child (replica side)."""
    kind = update.WhichOneof("update")
    if kind == "change":
        runtime.apply_external_change(record_to_change(update.change))
    elif kind == "drop_write_completions":
        for worker in workers:
            set_worker_fault(
                worker, "drop_write_completions", update.drop_write_completions.enabled
            )
    elif kind == "reset":
        for worker in workers:
            set_worker_fault(worker, "drop_write_completions", False)


def _control(call: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return call(*args, **kwargs)
    except KeyError as exc:
        raise ControlError(grpc.StatusCode.NOT_FOUND, f"not found: {exc.args[0]}") from None
    except (ValueError, TypeError) as exc:
        raise ControlError(grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from None


class GalaxyAdapter:
    """The front's galaxy runtime and the way control changes reach every worker.

    In process mode every change the front's runtime reports (control operations) goes to
    every child, and every change a child reports (its sessions' writes) is applied here and
    forwarded to the other children, so all replicas agree.
    """

    def __init__(self, runtime: Any, galaxy_file: str | None, process_workers: bool) -> None:
        self.runtime = runtime
        self.galaxy_file = galaxy_file
        self.process_workers = process_workers
        self.name = galaxy_name(runtime)
        self.drop_write_completions = False
        self._manager: SessionManager | None = None
        self._stopping = asyncio.Event()
        #: The latest change of each (kind, object, field), oldest first: what a replica
        #: started now has to be told, since it loads the galaxy file as configured.
        self._latest: dict[tuple[str, str, str], cpb.ReplicaUpdate] = {}
        if process_workers:
            runtime.add_change_listener(self._local_change)

    def bind(self, manager: SessionManager) -> None:
        """Attach to the session manager (replica frames from children come here)."""
        self._manager = manager
        manager.replica_sink = self._from_child
        if self.process_workers:
            manager.replica_seed = self._seed

    def start(self) -> None:
        """Start ticking behaviours on the running loop."""
        starter = getattr(self.runtime, "start", None)
        if callable(starter):
            starter()

    async def stop(self) -> None:
        """Stop ticking behaviours."""
        stopper = getattr(self.runtime, "stop", None)
        if callable(stopper):
            await stopper()

    def worker_factory(self, session_id: str) -> Any:
        """A new in-process worker for ``session_id`` over the shared runtime."""
        worker = make_worker(self.runtime, session_id)
        if self.drop_write_completions:
            set_worker_fault(worker, "drop_write_completions", True)
        return worker

    def _remember(self, update: cpb.ReplicaUpdate) -> None:
        change = update.change
        key = (change.kind, change.object, change.field)
        self._latest.pop(key, None)
        self._latest[key] = update

    def _seed(self, session: Session) -> None:
        """Bring a new replica up to date: every change made since the galaxy was loaded."""
        if session.host is not None:
            for update in list(self._latest.values()):
                session.host.replicate(update)

    def _local_change(self, change: Any) -> None:
        update = change_to_record(change)
        self._remember(update)
        self._broadcast(update, origin=None)

    def _from_child(self, origin: Session, update: cpb.ReplicaUpdate) -> None:
        if update.WhichOneof("update") != "change":
            return
        self._remember(update)
        try:
            self.runtime.apply_external_change(record_to_change(update.change))
        except ValueError as exc:
            log.warning("replica change from %s not applied: %s", origin.id, exc)
        self._broadcast(update, origin=origin)

    def _broadcast(self, update: cpb.ReplicaUpdate, origin: Session | None) -> None:
        if self._manager is None:
            return
        for session in self._manager.sessions():
            if session is not origin and session.host is not None:
                session.host.replicate(update)

    def _sessions(self, session_id: str = "") -> list[Session]:
        assert self._manager is not None
        if not session_id:
            return self._manager.sessions()
        for session in self._manager.sessions():
            if session.id == session_id:
                return [session]
        raise ControlError(grpc.StatusCode.NOT_FOUND, f"session {session_id} not found")

    def set_value(self, reference: str, value: pb.MxValue, quality: int | None) -> None:
        """Force a value (replicated through the runtime's change listener)."""
        _control(self.runtime.set_value, reference, from_mx_value(value), quality=quality)

    def set_quality(self, reference: str, quality: int) -> None:
        """Force a quality."""
        _control(self.runtime.set_quality, reference, quality)

    def set_scan(self, object_name: str, on_scan: bool) -> None:
        """Put an object on or off scan."""
        _control(self.runtime.set_scan_state, object_name, on_scan)

    def set_drop_write_completions(self, session_id: str, enabled: bool) -> int:
        """Drop (or deliver again) write completions, for one session or all."""
        sessions = self._sessions(session_id)
        if not session_id:
            self.drop_write_completions = enabled
        update = cpb.ReplicaUpdate()
        update.drop_write_completions.session_id = session_id
        update.drop_write_completions.enabled = enabled
        for session in sessions:
            host = session.host
            if host is None:
                continue
            if host.mode == "process":
                host.replicate(update)
            else:
                set_worker_fault(getattr(host, "worker", None), "drop_write_completions", enabled)
        return len(sessions)

    def reset(self) -> int:
        """Restore every object's states and every attribute's configured quality and value."""
        self.set_drop_write_completions("", False)
        galaxy = self.runtime.galaxy
        for obj in galaxy.objects.values():
            if obj.is_area:
                continue
            self.runtime.set_scan_state(obj.name, obj.on_scan)
            self.runtime.set_deployed(obj.name, obj.deployed)
            self.runtime.set_link(obj.name, obj.link.connected)
        count = 0
        for obj, attr in galaxy.attributes():
            reference = f"{obj.name}.{attr.name}"
            with contextlib.suppress(ValueError):
                self.runtime.set_quality(reference, None)
                if attr.value is not None:
                    self.runtime.set_value(reference, attr.value)
                count += 1
        return count

    # ------------------------------------------------------------------ alarms
    # The galaxy model has no alarms yet, so the simulator behaves like a gateway whose
    # galaxy has none active: an empty snapshot, then a feed that stays quiet until the
    # client leaves or the server stops; acknowledging names an alarm that is not active.
    # A runtime that does model alarms (acknowledge_alarm, alarm_feed, active_alarms)
    # is used instead.

    async def acknowledge_alarm(
        self, request: pb.AcknowledgeAlarmRequest, context: Context
    ) -> pb.AcknowledgeAlarmReply:
        """AcknowledgeAlarm: the runtime's answer, or "not active" when it has no alarms."""
        ack = getattr(self.runtime, "acknowledge_alarm", None)
        if ack is not None:
            answer: pb.AcknowledgeAlarmReply = ack(request)
            return answer
        if not request.alarm_full_reference:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "alarm_full_reference: missing")
        reply = pb.AcknowledgeAlarmReply(alarm_full_reference=request.alarm_full_reference)
        reply.protocol_status.code = pb.PROTOCOL_STATUS_CODE_INVALID_REQUEST
        reply.protocol_status.message = f"no active alarm {request.alarm_full_reference}"
        return reply

    def _active(self, prefix: str) -> list[pb.ActiveAlarmSnapshot]:
        query = getattr(self.runtime, "active_alarms", None)
        if query is None:
            return []
        return [a for a in query() if a.alarm_full_reference.startswith(prefix)]

    async def stream_alarms(
        self, request: pb.StreamAlarmsRequest, context: Context
    ) -> AsyncIterator[pb.AlarmFeedMessage]:
        """StreamAlarms: the active alarms, ``snapshot_complete``, then transitions."""
        active = self._active(request.alarm_filter_prefix)
        for snapshot in active:
            yield pb.AlarmFeedMessage(active_alarm=snapshot)
        done = pb.AlarmFeedMessage()
        done.snapshot_complete.active_alarm_count = len(active)
        yield done
        feed = getattr(self.runtime, "alarm_feed", None)
        if feed is not None:
            async for transition in feed(request.alarm_filter_prefix):
                yield pb.AlarmFeedMessage(transition=transition)
            return
        await self._stopping.wait()
        await context.abort(grpc.StatusCode.UNAVAILABLE, "server shutting down")

    async def query_active_alarms(
        self, request: pb.QueryActiveAlarmsRequest, context: Context
    ) -> AsyncIterator[pb.ActiveAlarmSnapshot]:
        """QueryActiveAlarms: one message per active alarm matching the prefix."""
        for snapshot in self._active(request.alarm_filter_prefix):
            yield snapshot

    def stopping(self) -> None:
        """The server is stopping: end the open alarm feeds."""
        self._stopping.set()


class ControlServicer(cpb_grpc.SimulatorControlServicer):
    """``mxgw_sim.control.v1.SimulatorControl``: fault injection and inspection."""

    def __init__(self, manager: SessionManager, galaxy: GalaxyAdapter) -> None:
        self._manager = manager
        self._galaxy = galaxy

    async def _guard(self, context: Context, call: Any, *args: Any) -> Any:
        try:
            return call(*args)
        except ControlError as exc:
            await context.abort(exc.code, exc.message)

    async def _one(self, context: Context, session_id: str) -> Session:
        if not session_id:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "session_id: missing")
        for session in self._manager.sessions():
            if session.id == session_id:
                return session
        await context.abort(grpc.StatusCode.NOT_FOUND, f"session {session_id} not found")
        raise AssertionError("unreachable")

    async def _many(self, context: Context, session_id: str) -> list[Session]:
        if session_id:
            return [await self._one(context, session_id)]
        return self._manager.sessions()

    async def SetValue(self, request: cpb.SetValueRequest, context: Context) -> cpb.ControlReply:
        if not request.reference:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "reference: missing")
        quality = request.quality if request.HasField("quality") else None
        await self._guard(
            context, self._galaxy.set_value, request.reference, request.value, quality
        )
        return cpb.ControlReply(affected=1, message="ok")

    async def SetQuality(
        self, request: cpb.SetQualityRequest, context: Context
    ) -> cpb.ControlReply:
        if not request.reference:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "reference: missing")
        await self._guard(context, self._galaxy.set_quality, request.reference, request.quality)
        return cpb.ControlReply(affected=1, message="ok")

    async def SetScan(self, request: cpb.SetScanRequest, context: Context) -> cpb.ControlReply:
        if not request.object:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "object: missing")
        await self._guard(context, self._galaxy.set_scan, request.object, request.on_scan)
        return cpb.ControlReply(affected=1, message="ok")

    async def SetLatency(
        self, request: cpb.SetLatencyRequest, context: Context
    ) -> cpb.ControlReply:
        commands = request.command_latency.ToTimedelta().total_seconds()
        events = request.event_latency.ToTimedelta().total_seconds()
        if commands < 0 or events < 0:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "latency: must not be negative")
        sessions = await self._many(context, request.session_id)
        if not request.session_id:
            self._manager.default_command_latency = commands
            self._manager.default_event_latency = events
        for session in sessions:
            session.command_latency = commands
            session.event_latency = events
        return cpb.ControlReply(affected=len(sessions), message="ok")

    async def DropStreams(self, request: cpb.SessionSelector, context: Context) -> cpb.ControlReply:
        from mxgw_sim.events import StreamEnded

        sessions = await self._many(context, request.session_id)
        dropped = sum(
            session.hub.end_stream(StreamEnded("stream dropped by the simulator's control"))
            for session in sessions
        )
        return cpb.ControlReply(affected=dropped, message="ok")

    async def KillWorker(self, request: cpb.SessionSelector, context: Context) -> cpb.ControlReply:
        session = await self._one(context, request.session_id)
        if session.host is None or not session.host.alive:
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION, f"session {session.id} has no live worker"
            )
        assert session.host is not None
        session.host.kill()
        return cpb.ControlReply(affected=1, message=f"killed worker {session.host.pid}")

    async def ExpireSession(
        self, request: cpb.SessionSelector, context: Context
    ) -> cpb.ControlReply:
        session = await self._one(context, request.session_id)
        await self._manager.close(session.id, "lease expired (forced)")
        return cpb.ControlReply(affected=1, message="expired")

    async def FaultSession(
        self, request: cpb.FaultSessionRequest, context: Context
    ) -> cpb.ControlReply:
        session = await self._one(context, request.session_id)
        if session.state == pb.SESSION_STATE_FAULTED:
            return cpb.ControlReply(affected=0, message="already faulted")
        session.fault(request.message or "faulted by the simulator's control")
        return cpb.ControlReply(affected=1, message="faulted")

    async def DropWriteCompletions(
        self, request: cpb.DropWriteCompletionsRequest, context: Context
    ) -> cpb.ControlReply:
        affected = await self._guard(
            context,
            self._galaxy.set_drop_write_completions,
            request.session_id,
            request.enabled,
        )
        return cpb.ControlReply(affected=affected, message="ok")

    async def Reset(self, request: cpb.ResetRequest, context: Context) -> cpb.ControlReply:
        self._manager.default_command_latency = 0.0
        self._manager.default_event_latency = 0.0
        for session in self._manager.sessions():
            session.command_latency = 0.0
            session.event_latency = 0.0
        affected = await self._guard(context, self._galaxy.reset)
        return cpb.ControlReply(affected=affected, message="reset")

    async def ListSessions(
        self, request: cpb.ListSessionsRequest, context: Context
    ) -> cpb.ListSessionsReply:
        return cpb.ListSessionsReply(
            sessions=[s.info() for s in self._manager.sessions()],
            server_tasks=len(asyncio.all_tasks()),
        )
