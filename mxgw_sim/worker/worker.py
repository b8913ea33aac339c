"""``MxWorker``: one session's simulated MXAccess, driven by ``MxCommandRequest`` messages.

The front hosts one worker per session (in-process, or in a child process over the worker
contract). ``execute`` runs one command at a time, like MXAccess on its STA thread, and
answers every command kind of the contract except DrainEvents (the front's). Events go to
``on_event`` in worker-sequence order.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgw_sim.galaxy.runtime import GalaxyRuntime
from mxgw_sim.worker.bulk import BulkCommands
from mxgw_sim.worker.commands import SingleCommands
from mxgw_sim.worker.core import CommandRefused, WorkerCore
from mxgw_sim.worker.events import BatchSink, EventPump, EventSink
from mxgw_sim.worker.replies import E_FAIL, failure_reply
from mxgw_sim.worker.settings import WorkerSettings

__all__ = ["ConnectionSnapshot", "MxWorker", "WorkerSnapshot"]

_PREFIX = "MX_COMMAND_KIND_"
#: payload member name -> MxCommandKind number (the member is the kind in snake case)
_KIND_OF: dict[str, int] = {
    name[len(_PREFIX) :].lower(): number
    for name, number in pb.MxCommandKind.items()
    if name != _PREFIX + "UNSPECIFIED"
}
Handler = Callable[[pb.MxCommandRequest, int], pb.MxCommandReply]
_log = logging.getLogger(__name__)
#: Settings that set_fault may change too.
_SETTING_FAULTS = frozenset({"first_event_delay", "advise_delay", "pending_completion"})


def _kind_name(kind: int) -> str:
    """The enum name of a command kind, or its number when this contract does not know it."""
    for name, number in pb.MxCommandKind.items():
        if number == kind:
            return name
    return str(kind)


@dataclass(frozen=True, slots=True)
class ConnectionSnapshot:
    """One server handle as list-sessions shows it."""

    server_handle: int
    client_name: str
    items: int
    advised: int
    buffered: int
    users: int


@dataclass(frozen=True, slots=True)
class WorkerSnapshot:
    """What a worker holds: for the control service's list-sessions and leak checks."""

    session_id: str
    connections: tuple[ConnectionSnapshot, ...]
    server_handles: int
    items: int
    advised: int
    last_worker_sequence: int
    pending_events: int
    closed: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-safe)."""
        return asdict(self)


class MxWorker:
    """Simulated MXAccess for one session over a shared :class:`GalaxyRuntime`."""

    def __init__(
        self,
        runtime: GalaxyRuntime,
        settings: WorkerSettings | None = None,
        session_id: str = "",
        *,
        on_event: EventSink | None = None,
    ) -> None:
        self.runtime = runtime
        self.settings = settings or WorkerSettings.from_galaxy(runtime.settings)
        self.session_id = session_id
        self.on_event: EventSink = on_event or (lambda event: None)
        #: When set, each delivery pass's events go here as one list instead of to
        #: ``on_event`` one by one (the in-process host's fast path).
        self.on_events: BatchSink | None = None
        self._pump = EventPump(
            lambda event: self.on_event(event), runtime, batch_sink=lambda: self.on_events
        )
        self._core = WorkerCore(runtime, self.settings, self._pump)
        self._lock = asyncio.Lock()
        self._latency = 0.0
        self._closed = False
        self._closing = asyncio.Event()
        self._single = SingleCommands(self._core, self.settings)
        self._bulk = BulkCommands(self._core, self.settings)
        self._handlers: dict[str, Handler] = {
            member: getattr(owner, f"cmd_{member}")
            for member in _KIND_OF
            for owner in (self._single, self._bulk)
            if hasattr(owner, f"cmd_{member}")
        }

    # ------------------------------------------------------------------ entry point

    async def execute(self, request: pb.MxCommandRequest) -> pb.MxCommandReply:
        """Run one command and return its reply; MXAccess refusals are reply data."""
        member = request.WhichOneof("payload")
        kind = int(request.kind)
        if self._closed:
            return self._unavailable(request, kind)
        if member is None:
            return self._invalid(request, kind, "the request has no command payload")
        expected = _KIND_OF[member]
        if kind == pb.MX_COMMAND_KIND_UNSPECIFIED:
            kind = expected
        elif kind != expected:
            return self._invalid(
                request,
                kind,
                f"kind {_kind_name(kind)} does not match the payload {member!r}",
            )
        handler = self._handlers.get(member)
        if handler is None:
            return self._invalid(request, kind, f"{member} is answered by the gateway front")
        async with self._lock:
            if self._latency > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), self._latency)
            if self._closed:
                return self._unavailable(request, kind)
            try:
                reply = handler(request, kind)
            except CommandRefused as exc:
                reply = failure_reply(
                    request, kind, exc.message, hresult=exc.hresult, statuses=exc.statuses
                )
            except Exception as exc:  # a simulator bug must not take the front down
                _log.exception("session %s: %s failed", self.session_id, member)
                reply = failure_reply(
                    request,
                    kind,
                    f"internal simulator error: {type(exc).__name__}",
                    hresult=E_FAIL,
                    code=pb.PROTOCOL_STATUS_CODE_INTERNAL_ERROR,
                    statuses=[],
                )
        if not reply.session_id:
            reply.session_id = self.session_id
        return reply

    def _unavailable(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        return failure_reply(
            request,
            kind,
            "the worker has shut down",
            hresult=E_FAIL,
            code=pb.PROTOCOL_STATUS_CODE_WORKER_UNAVAILABLE,
            statuses=[],
        )

    def _invalid(self, request: pb.MxCommandRequest, kind: int, message: str) -> pb.MxCommandReply:
        return failure_reply(
            request,
            kind,
            message,
            hresult=0,
            code=pb.PROTOCOL_STATUS_CODE_INVALID_REQUEST,
            statuses=[],
        )

    # ------------------------------------------------------------------ fault hooks

    def set_latency(self, seconds: float) -> None:
        """Delay every command by ``seconds`` (0 turns it off): a slow or hung STA."""
        self._latency = max(0.0, seconds)

    def set_event_latency(self, seconds: float) -> None:
        """Delay every event by ``seconds`` (order and sequence numbers are kept)."""
        self._pump.latency = max(0.0, seconds)

    def drop_write_completions(self, drop: bool = True) -> None:
        """Writes are applied but their OnWriteComplete never comes (while ``drop``)."""
        self._core.drop_write_completions = drop

    def set_register_failure(self, fail: bool = True) -> None:
        """Register answers server handle 0 and MXACCESS_FAILURE (while ``fail``)."""
        self._single.fail_register = fail

    def set_fault(self, name: str, value: Any) -> None:
        """Set a fault hook by name: ``latency``, ``event_latency`` (seconds),
        ``drop_write_completions`` or ``register_failure`` (booleans), or one of the timing
        settings ``first_event_delay``, ``advise_delay`` (seconds), ``pending_completion``."""
        if name == "latency":
            self.set_latency(float(value))
        elif name == "event_latency":
            self.set_event_latency(float(value))
        elif name == "drop_write_completions":
            self.drop_write_completions(bool(value))
        elif name == "register_failure":
            self.set_register_failure(bool(value))
        elif name in _SETTING_FAULTS:
            self.update_settings(**{name: value})
        else:
            raise ValueError(f"unknown worker fault {name!r}")

    def update_settings(self, **changes: Any) -> WorkerSettings:
        """Change settings of a running worker (e.g. ``first_event_delay=5.0`` for a cold
        start); applies to commands from now on."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(WorkerSettings)}
        if unknown:
            raise ValueError(f"unknown worker settings: {', '.join(sorted(unknown))}")
        self.settings = dataclasses.replace(self.settings, **changes)
        self._core.settings = self._single.settings = self._bulk.settings = self.settings
        return self.settings

    def faults(self) -> dict[str, Any]:
        """The fault hooks' current settings."""
        return {
            "latency": self._latency,
            "event_latency": self._pump.latency,
            "drop_write_completions": self._core.drop_write_completions,
            "register_failure": self._single.fail_register,
            **{name: getattr(self.settings, name) for name in sorted(_SETTING_FAULTS)},
        }

    # ------------------------------------------------------------------ lifecycle

    def flush_buffers(self) -> None:
        """Send pending buffered data changes of every connection now (tests, shutdown)."""
        for conn in self._core.connections.values():
            self._core.flush_buffers(conn)

    async def settle(self) -> None:
        """Wait until every scheduled event (initial data changes, write completions) is out."""
        await self._core.settle()

    async def shutdown(self) -> None:
        """Release everything (unadvise, remove, unregister), stop the tasks; idempotent.

        Later commands are answered with WORKER_UNAVAILABLE.
        """
        if self._closed:
            return
        self._closed = True
        self._closing.set()  # a command held up by injected latency gives up at once
        await self._core.close()
        await self._pump.close()

    @property
    def closed(self) -> bool:
        """True after :meth:`shutdown`."""
        return self._closed

    def snapshot(self) -> WorkerSnapshot:
        """Server handles, items and advise counts held right now."""
        connections = tuple(
            ConnectionSnapshot(
                server_handle=conn.handle,
                client_name=conn.client_name,
                items=len(conn.items),
                advised=conn.advised_count(),
                buffered=sum(1 for i in conn.items.values() if i.buffered),
                users=len(conn.users),
            )
            for conn in self._core.connections.values()
        )
        return WorkerSnapshot(
            session_id=self.session_id,
            connections=connections,
            server_handles=len(connections),
            items=sum(c.items for c in connections),
            advised=sum(c.advised for c in connections),
            last_worker_sequence=self._pump.sequence,
            pending_events=self._pump.pending(),
            closed=self._closed,
        )
