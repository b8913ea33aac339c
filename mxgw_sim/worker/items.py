"""The MXAccess state of one worker: connections, items, advise state, data changes, users.

Operations return plain results or raise :class:`CommandRefused` (an invalid-argument COM
error: unknown handle, advising twice). Events go to an :class:`EventPump`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

from mxgateway import MxStatusCategory, MxStatusSource
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgw_sim.galaxy.coerce import empty_value, encode
from mxgw_sim.galaxy.outcomes import (
    DETAIL_BARE_ARRAY,
    DETAIL_UNKNOWN_REFERENCE,
)
from mxgw_sim.galaxy.references import Resolved, Unresolved, UnresolvedKind
from mxgw_sim.galaxy.runtime import AttributeState, GalaxyRuntime
from mxgw_sim.worker.events import EventPump
from mxgw_sim.worker.fanout import DataChanges, handle_fields
from mxgw_sim.worker.replies import E_INVALIDARG, ok_status, status
from mxgw_sim.worker.settings import WorkerSettings
from mxgw_sim.worker.state import Connection, Item

__all__ = ["FAMILY_WRITE", "CommandRefused", "ItemCore"]

_FAMILY_DATA = pb.MX_EVENT_FAMILY_ON_DATA_CHANGE
FAMILY_WRITE = pb.MX_EVENT_FAMILY_ON_WRITE_COMPLETE
_FAMILY_OPERATION = pb.MX_EVENT_FAMILY_OPERATION_COMPLETE
_FAMILY_BUFFERED = pb.MX_EVENT_FAMILY_ON_BUFFERED_DATA_CHANGE


class CommandRefused(Exception):
    """MXAccess threw from the call: the reply is an MXACCESS_FAILURE with ``hresult``."""

    def __init__(
        self,
        message: str,
        hresult: int = E_INVALIDARG,
        statuses: list[pb.MxStatusProxy] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hresult = hresult
        self.statuses = statuses


class ItemCore:
    """Connections and items of one session, bound to a shared :class:`GalaxyRuntime`."""

    def __init__(self, runtime: GalaxyRuntime, settings: WorkerSettings, pump: EventPump) -> None:
        self.runtime = runtime
        self.settings = settings
        self.pump = pump
        self.connections: dict[int, Connection] = {}
        self._next_server = settings.first_server_handle
        self._next_user = 2  # 1 is what any credentials get while security is off
        self._tasks: set[asyncio.Task[Any]] = set()
        self.drop_write_completions = False
        self.ok_status = ok_status(settings.success_value)
        self.changes = DataChanges(self)

    # ------------------------------------------------------------------ helpers

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``coro`` as a tracked background task (cancelled at shutdown)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def settle(self) -> None:
        """Wait until no background task is running and every queued event is delivered."""
        while True:
            tasks = [t for t in self._tasks if not t.done()]
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
                continue
            await self.pump.drain()
            if not any(not t.done() for t in self._tasks):
                return

    def connection(self, handle: int) -> Connection:
        """The connection of a server handle, or an invalid-argument refusal."""
        conn = self.connections.get(handle)
        if conn is None:
            raise CommandRefused(f"unknown server handle {handle}")
        return conn

    def item(self, conn: Connection, handle: int) -> Item:
        """The item of a handle on ``conn``, or an invalid-argument refusal."""
        item = conn.items.get(handle)
        if item is None:
            raise CommandRefused(f"unknown item handle {handle} on server handle {conn.handle}")
        return item

    def _event(self, family: int, conn: Connection, item: Item) -> pb.MxEvent:
        return pb.MxEvent(
            family=family,  # type: ignore[arg-type]
            server_handle=conn.handle,
            item_handle=item.handle,
        )

    # ------------------------------------------------------------------ connections

    def register(self, client_name: str) -> int:
        """Open a connection; returns its positive server handle."""
        handle = self._next_server
        self._next_server += 1
        self.connections[handle] = Connection(
            handle, client_name, self.settings.buffered_update_interval
        )
        return handle

    def unregister(self, handle: int) -> None:
        """Close a connection, releasing every item (well-behaved clients do it first)."""
        conn = self.connection(handle)
        self._close_connection(conn)
        del self.connections[handle]

    def _close_connection(self, conn: Connection) -> None:
        for item in conn.items.values():
            item.release()
        conn.release_all()
        conn.users.clear()
        if conn.flush_task is not None:
            conn.flush_task.cancel()
            conn.flush_task = None

    async def close(self) -> None:
        """Release everything and stop every task."""
        for conn in list(self.connections.values()):
            self._close_connection(conn)
        self.connections.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # ------------------------------------------------------------------ users

    def authenticate(self, handle: int, user_name: str, password: str) -> int:
        """User id for valid credentials (0 = failed); any credentials give 1 without security."""
        conn = self.connection(handle)
        security = self.runtime.galaxy.security
        if not security.enabled:
            return 1
        user = security.user(user_name)
        if user is None or user.password != password:
            return 0
        for user_id, known in conn.users.items():
            if known.name == user.name:
                return user_id
        user_id = self._next_user
        self._next_user += 1
        conn.users[user_id] = user
        return user_id

    def user_to_id(self, handle: int, user_name: str) -> int:
        """The id of a user authenticated on this connection (0 when not)."""
        conn = self.connection(handle)
        if not self.runtime.galaxy.security.enabled:
            return 1
        for user_id, user in conn.users.items():
            if user.name.lower() == user_name.lower():
                return user_id
        return 0

    # ------------------------------------------------------------------ items

    def add_item(
        self, handle: int, reference: str, context: str | None = None, *, buffered: bool = False
    ) -> int:
        """Declare an item; never fails for a reference that does not exist."""
        conn = self.connection(handle)
        if not reference:
            raise CommandRefused("the item reference is empty")
        target = self.runtime.resolve(reference, context or None)
        item_handle = conn.allocate_item(self.settings.reuse_item_handles)
        conn.items[item_handle] = Item(item_handle, reference, context or None, target, buffered)
        return item_handle

    def remove_item(self, handle: int, item_handle: int) -> None:
        """Forget an item (unadvising it if needed); its handle may be reused."""
        conn = self.connection(handle)
        item = self.item(conn, item_handle)
        item.release()
        conn.release_item(item_handle)

    def advise(self, handle: int, item_handle: int, *, supervisory: bool = False) -> None:
        """Start updates; the initial data change follows (after the configured delay)."""
        conn = self.connection(handle)
        item = self.item(conn, item_handle)
        if item.advised:
            raise CommandRefused(f"item {item_handle} is already advised")
        item.advised = True
        item.supervisory = supervisory
        item.last = None
        delay = self.settings.advise_delay if conn.advised_once else self.settings.first_event_delay
        conn.advised_once = True
        item.initial_task = self.spawn(self._initial(conn, item, delay))
        if item.buffered:
            self._ensure_flush(conn)

    def unadvise(self, handle: int, item_handle: int) -> None:
        """Stop updates of an advised item."""
        conn = self.connection(handle)
        item = self.item(conn, item_handle)
        if not item.advised:
            raise CommandRefused(f"item {item_handle} is not advised")
        item.release()

    def suspend(self, handle: int, item_handle: int) -> None:
        """Pause updates of an advised item."""
        conn = self.connection(handle)
        item = self.item(conn, item_handle)
        if not item.advised:
            raise CommandRefused(f"item {item_handle} is not advised")
        item.suspended = True
        self._operation_complete(conn, item)

    def activate(self, handle: int, item_handle: int) -> None:
        """Resume updates of a suspended item (re-sending its value when the setting says)."""
        conn = self.connection(handle)
        item = self.item(conn, item_handle)
        if not item.advised:
            raise CommandRefused(f"item {item_handle} is not advised")
        was_suspended, item.suspended = item.suspended, False
        self._operation_complete(conn, item)
        resend = self.settings.activate_sends_current or item.dirty
        if was_suspended and resend and item.type_known and isinstance(item.target, Resolved):
            self._deliver(conn, item, self.runtime.read(item.target.key), force=True)
        item.dirty = False

    def _operation_complete(self, conn: Connection, item: Item) -> None:
        if self.settings.operation_complete_on_suspend:
            event = self._event(_FAMILY_OPERATION, conn, item)
            event.statuses.append(ok_status(self.settings.success_value))
            event.operation_complete.SetInParent()
            self.pump.put(event)

    def set_buffered_interval(self, handle: int, milliseconds: int) -> None:
        """Interval of this connection's buffered data change batches."""
        conn = self.connection(handle)
        if milliseconds <= 0:
            raise CommandRefused("the buffered update interval must be positive")
        conn.buffered_interval = milliseconds / 1000.0
        if conn.flush_task is not None:
            conn.flush_task.cancel()
            conn.flush_task = None
        if any(i.buffered and i.advised for i in conn.items.values()):
            self._ensure_flush(conn)

    # ------------------------------------------------------------------ data changes

    async def _initial(self, conn: Connection, item: Item, delay: float) -> None:
        await asyncio.sleep(delay)
        item.initial_task = None
        if not item.advised:
            return
        target = item.target
        if isinstance(target, Unresolved):
            self._unresolved_change(conn, item, target)
            return
        state = self.runtime.read(target.key)
        item.type_known = True
        self._deliver(conn, item, state, force=True)
        item.subscription = self.changes.subscribe(target.key, conn, item)

    def _unresolved_change(self, conn: Connection, item: Item, target: Unresolved) -> None:
        if target.kind is UnresolvedKind.BARE_ARRAY:
            category, detail = MxStatusCategory.COMMUNICATION_ERROR, DETAIL_BARE_ARRAY
        else:
            if not self.settings.unknown_reference_event:
                return
            category, detail = MxStatusCategory.CONFIGURATION_ERROR, DETAIL_UNKNOWN_REFERENCE
        event = self._event(_FAMILY_DATA, conn, item)
        event.value.CopyFrom(empty_value())
        event.quality = self.settings.unknown_reference_quality
        event.source_timestamp.CopyFrom(self.runtime.timestamp(self.runtime.now()))
        event.statuses.append(
            status(category, MxStatusSource.RESPONDING_LMX, detail=detail, text=target.reason)
        )
        event.on_data_change.SetInParent()
        item.last_event = event
        self.pump.put(event)

    def _deliver(
        self, conn: Connection, item: Item, state: AttributeState, *, force: bool = False
    ) -> None:
        member = (conn, item, handle_fields(conn.handle, item.handle))
        self.changes.deliver((member,), state, force=force)

    def _ensure_flush(self, conn: Connection) -> None:
        if conn.flush_task is None or conn.flush_task.done():
            # Not tracked by settle(): it never ends; connection close cancels it.
            conn.flush_task = asyncio.get_running_loop().create_task(self._flush_loop(conn))

    async def _flush_loop(self, conn: Connection) -> None:
        while True:
            await asyncio.sleep(conn.buffered_interval)
            self.flush_buffers(conn)

    def flush_buffers(self, conn: Connection) -> None:
        """Send one OnBufferedDataChange per buffered item with values collected since last."""
        for item in conn.items.values():
            if not item.buffered or not item.advised or item.suspended or not item.buffer:
                continue
            samples, item.buffer = item.buffer, []
            last = samples[-1]
            event = self._event(_FAMILY_BUFFERED, conn, item)
            values = [s.value for s in samples]
            if last.is_array or any(v is None for v in values):
                event.value.CopyFrom(encode(last.value, last.data_type, last.is_array))
            else:
                event.value.CopyFrom(encode(values, last.data_type, True))
            event.quality = last.quality
            event.source_timestamp.CopyFrom(self.runtime.timestamp(last.timestamp))
            event.statuses.append(ok_status(self.settings.success_value))
            event.on_buffered_data_change.data_type = last.data_type.wire  # type: ignore[assignment]
            event.on_buffered_data_change.raw_data_type = int(last.data_type)
            self.pump.put(event)
