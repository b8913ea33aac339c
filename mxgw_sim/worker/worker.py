"""``MxWorker``: one session's simulated MXAccess, driven by ``MxCommandRequest`` messages.

The front hosts one worker per session (in-process, or in a child process over the worker
contract). ``execute`` runs one command at a time, like MXAccess on its STA thread, and
answers every command kind of the contract except DrainEvents (the front's). Events go to
``on_event`` in worker-sequence order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgw_sim.galaxy.runtime import GalaxyRuntime
from mxgw_sim.worker.core import CommandRefused, WorkerCore, WriteRequest
from mxgw_sim.worker.events import EventPump, EventSink
from mxgw_sim.worker.readbulk import read_bulk
from mxgw_sim.worker.replies import E_FAIL, failure_reply, int_value, new_reply
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
        self._pump = EventPump(lambda event: self.on_event(event), runtime)
        self._core = WorkerCore(runtime, self.settings, self._pump)
        self._lock = asyncio.Lock()
        self._latency = 0.0
        self._fail_register = False
        self._closed = False
        self._closing = asyncio.Event()
        self._handlers: dict[str, Handler] = {
            member: getattr(self, f"_cmd_{member}")
            for member in _KIND_OF
            if hasattr(self, f"_cmd_{member}")
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
                f"kind {pb.MxCommandKind.Name(kind)} does not match the payload {member!r}",  # type: ignore[arg-type]
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

    def _ok(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        return new_reply(request, kind, self.settings.success_value)

    # ------------------------------------------------------------------ single commands

    def _cmd_register(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        if self._fail_register:
            reply = failure_reply(request, kind, "Register failed (injected fault)", hresult=E_FAIL)
            reply.return_value.CopyFrom(int_value(0))
            reply.register.server_handle = 0
            return reply
        handle = self._core.register(request.register.client_name)
        reply = self._ok(request, kind)
        reply.return_value.CopyFrom(int_value(handle))
        reply.register.server_handle = handle
        return reply

    def _cmd_unregister(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        self._core.unregister(request.unregister.server_handle)
        return self._ok(request, kind)

    def _item_reply(
        self, request: pb.MxCommandRequest, kind: int, handle: int
    ) -> pb.MxCommandReply:
        reply = self._ok(request, kind)
        reply.return_value.CopyFrom(int_value(handle))
        return reply

    def _cmd_add_item(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        cmd = request.add_item
        handle = self._core.add_item(cmd.server_handle, cmd.item_reference)
        reply = self._item_reply(request, kind, handle)
        reply.add_item.item_handle = handle
        return reply

    def _cmd_add_item2(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        cmd = request.add_item2
        handle = self._core.add_item(cmd.server_handle, cmd.item_reference, cmd.context)
        reply = self._item_reply(request, kind, handle)
        reply.add_item2.item_handle = handle
        return reply

    def _cmd_add_buffered_item(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        cmd = request.add_buffered_item
        handle = self._core.add_item(
            cmd.server_handle, cmd.item_reference, cmd.context, buffered=True
        )
        reply = self._item_reply(request, kind, handle)
        reply.add_buffered_item.item_handle = handle
        return reply

    def _cmd_remove_item(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        self._core.remove_item(request.remove_item.server_handle, request.remove_item.item_handle)
        return self._ok(request, kind)

    def _cmd_advise(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        self._core.advise(request.advise.server_handle, request.advise.item_handle)
        return self._ok(request, kind)

    def _cmd_advise_supervisory(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        cmd = request.advise_supervisory
        self._core.advise(cmd.server_handle, cmd.item_handle, supervisory=True)
        return self._ok(request, kind)

    def _cmd_un_advise(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        self._core.unadvise(request.un_advise.server_handle, request.un_advise.item_handle)
        return self._ok(request, kind)

    def _cmd_suspend(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        self._core.suspend(request.suspend.server_handle, request.suspend.item_handle)
        return self._ok(request, kind)

    def _cmd_activate(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        self._core.activate(request.activate.server_handle, request.activate.item_handle)
        return self._ok(request, kind)

    def _cmd_set_buffered_update_interval(
        self, request: pb.MxCommandRequest, kind: int
    ) -> pb.MxCommandReply:
        cmd = request.set_buffered_update_interval
        self._core.set_buffered_interval(cmd.server_handle, cmd.update_interval_ms)
        return self._ok(request, kind)

    def _cmd_authenticate_user(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        cmd = request.authenticate_user
        user_id = self._core.authenticate(cmd.server_handle, cmd.user_name, cmd.password)
        reply = self._ok(request, kind)
        reply.return_value.CopyFrom(int_value(user_id))
        reply.authenticate_user.user_id = user_id
        if user_id == 0:
            reply.diagnostic_message = f"authentication failed for user {cmd.user_name!r}"
        return reply

    def _cmd_archestra_user_to_id(
        self, request: pb.MxCommandRequest, kind: int
    ) -> pb.MxCommandReply:
        cmd = request.archestra_user_to_id
        user_id = self._core.user_to_id(cmd.server_handle, cmd.user_name)
        reply = self._ok(request, kind)
        reply.return_value.CopyFrom(int_value(user_id))
        reply.archestra_user_to_id.user_id = user_id
        return reply

    def _write(
        self, request: pb.MxCommandRequest, kind: int, server_handle: int, write: WriteRequest
    ) -> pb.MxCommandReply:
        self._core.write(server_handle, write)
        return self._ok(request, kind)

    def _cmd_write(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        c = request.write
        return self._write(
            request, kind, c.server_handle, WriteRequest(c.item_handle, c.value, user_id=c.user_id)
        )

    def _cmd_write2(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        c = request.write2
        timestamp = c.timestamp_value if c.HasField("timestamp_value") else None
        return self._write(
            request,
            kind,
            c.server_handle,
            WriteRequest(c.item_handle, c.value, user_id=c.user_id, timestamp=timestamp),
        )

    def _cmd_write_secured(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        c = request.write_secured
        return self._write(
            request,
            kind,
            c.server_handle,
            WriteRequest(
                c.item_handle,
                c.value,
                user_id=c.current_user_id,
                verifier_id=c.verifier_user_id,
                secured=True,
            ),
        )

    def _cmd_write_secured2(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        c = request.write_secured2
        timestamp = c.timestamp_value if c.HasField("timestamp_value") else None
        return self._write(
            request,
            kind,
            c.server_handle,
            WriteRequest(
                c.item_handle,
                c.value,
                user_id=c.current_user_id,
                verifier_id=c.verifier_user_id,
                secured=True,
                timestamp=timestamp,
            ),
        )

    # ------------------------------------------------------------------ bulk commands

    def _subscribe_results(
        self,
        request: pb.MxCommandRequest,
        kind: int,
        server_handle: int,
        entries: list[Any],
        step: Callable[[Any], tuple[str, int]],
    ) -> pb.MxCommandReply:
        self._core.connection(server_handle)  # an unknown server handle refuses the whole call
        reply = self._ok(request, kind)
        results = reply.bulk_subscribe.results
        for entry in entries:
            result = results.add(server_handle=server_handle)
            if isinstance(entry, str):
                result.tag_address = entry
            else:
                result.item_handle = entry
                item = self._core.connections[server_handle].items.get(entry)
                result.tag_address = item.reference if item else ""
            try:
                tag, item_handle = step(entry)
            except CommandRefused as exc:
                result.was_successful = False
                result.error_message = exc.message
            else:
                result.tag_address = tag
                result.item_handle = item_handle
                result.was_successful = True
        return reply

    def _reference(self, server_handle: int, item_handle: int) -> str:
        item = self._core.connections[server_handle].items.get(item_handle)
        return item.reference if item else ""

    def _cmd_add_item_bulk(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        c = request.add_item_bulk
        core = self._core

        def step(tag: str) -> tuple[str, int]:
            return tag, core.add_item(c.server_handle, tag)

        return self._subscribe_results(request, kind, c.server_handle, list(c.tag_addresses), step)

    def _cmd_subscribe_bulk(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        c = request.subscribe_bulk
        core = self._core

        def step(tag: str) -> tuple[str, int]:
            handle = core.add_item(c.server_handle, tag)
            core.advise(c.server_handle, handle)
            return tag, handle

        return self._subscribe_results(request, kind, c.server_handle, list(c.tag_addresses), step)

    def _handle_bulk(
        self,
        request: pb.MxCommandRequest,
        kind: int,
        server_handle: int,
        handles: list[int],
        action: Callable[[int, int], None],
    ) -> pb.MxCommandReply:
        def step(item_handle: int) -> tuple[str, int]:
            tag = self._reference(server_handle, item_handle)
            action(server_handle, item_handle)
            return tag, item_handle

        return self._subscribe_results(request, kind, server_handle, handles, step)

    def _cmd_advise_item_bulk(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        c = request.advise_item_bulk
        return self._handle_bulk(
            request, kind, c.server_handle, list(c.item_handles), self._core.advise
        )

    def _cmd_un_advise_item_bulk(
        self, request: pb.MxCommandRequest, kind: int
    ) -> pb.MxCommandReply:
        c = request.un_advise_item_bulk
        return self._handle_bulk(
            request, kind, c.server_handle, list(c.item_handles), self._core.unadvise
        )

    def _cmd_remove_item_bulk(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        c = request.remove_item_bulk
        return self._handle_bulk(
            request, kind, c.server_handle, list(c.item_handles), self._core.remove_item
        )

    def _cmd_unsubscribe_bulk(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        c = request.unsubscribe_bulk
        core = self._core

        def unsubscribe(server_handle: int, item_handle: int) -> None:
            item = core.item(core.connection(server_handle), item_handle)
            if item.advised:
                core.unadvise(server_handle, item_handle)
            core.remove_item(server_handle, item_handle)

        return self._handle_bulk(request, kind, c.server_handle, list(c.item_handles), unsubscribe)

    def _write_bulk(
        self,
        request: pb.MxCommandRequest,
        kind: int,
        server_handle: int,
        writes: list[WriteRequest],
    ) -> pb.MxCommandReply:
        self._core.connection(server_handle)
        reply = self._ok(request, kind)
        for write in writes:
            result = reply.bulk_write.results.add(item_handle=write.item_handle)
            try:
                self._core.write(server_handle, write)
            except CommandRefused as exc:
                result.was_successful = False
                result.error_message = exc.message
                result.hresult = exc.hresult
                result.statuses.extend(
                    failure_reply(
                        request, kind, exc.message, hresult=exc.hresult, statuses=exc.statuses
                    ).statuses
                )
            else:
                result.was_successful = True
                result.statuses.append(
                    new_reply(request, kind, self.settings.success_value).statuses[0]
                )
        return reply

    def _cmd_write_bulk(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        c = request.write_bulk
        writes = [WriteRequest(e.item_handle, e.value, user_id=e.user_id) for e in c.entries]
        return self._write_bulk(request, kind, c.server_handle, writes)

    def _cmd_write2_bulk(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        c = request.write2_bulk
        writes = [
            WriteRequest(
                e.item_handle,
                e.value,
                user_id=e.user_id,
                timestamp=e.timestamp_value if e.HasField("timestamp_value") else None,
            )
            for e in c.entries
        ]
        return self._write_bulk(request, kind, c.server_handle, writes)

    def _cmd_write_secured_bulk(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        c = request.write_secured_bulk
        writes = [
            WriteRequest(
                e.item_handle,
                e.value,
                user_id=e.current_user_id,
                verifier_id=e.verifier_user_id,
                secured=True,
            )
            for e in c.entries
        ]
        return self._write_bulk(request, kind, c.server_handle, writes)

    def _cmd_write_secured2_bulk(
        self, request: pb.MxCommandRequest, kind: int
    ) -> pb.MxCommandReply:
        c = request.write_secured2_bulk
        writes = [
            WriteRequest(
                e.item_handle,
                e.value,
                user_id=e.current_user_id,
                verifier_id=e.verifier_user_id,
                secured=True,
                timestamp=e.timestamp_value if e.HasField("timestamp_value") else None,
            )
            for e in c.entries
        ]
        return self._write_bulk(request, kind, c.server_handle, writes)

    def _cmd_read_bulk(self, request: pb.MxCommandRequest, kind: int) -> pb.MxCommandReply:
        c = request.read_bulk
        conn = self._core.connection(c.server_handle)
        reply = self._ok(request, kind)
        read_bulk(self._core, conn, list(c.tag_addresses), reply.read_bulk)
        return reply

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
        self._fail_register = fail

    def set_fault(self, name: str, value: Any) -> None:
        """Set a fault hook by name: ``latency``, ``event_latency`` (seconds),
        ``drop_write_completions`` or ``register_failure`` (booleans)."""
        if name == "latency":
            self.set_latency(float(value))
        elif name == "event_latency":
            self.set_event_latency(float(value))
        elif name == "drop_write_completions":
            self.drop_write_completions(bool(value))
        elif name == "register_failure":
            self.set_register_failure(bool(value))
        else:
            raise ValueError(f"unknown worker fault {name!r}")

    def faults(self) -> dict[str, Any]:
        """The fault hooks' current settings."""
        return {
            "latency": self._latency,
            "event_latency": self._pump.latency,
            "drop_write_completions": self._core.drop_write_completions,
            "register_failure": self._fail_register,
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
