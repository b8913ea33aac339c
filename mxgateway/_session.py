"""``Session``: one gateway session and a helper per MXAccess command."""

# timeout= is the gRPC deadline passed to the call, not an asyncio timeout.
# ruff: noqa: ASYNC109

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from mxgateway._bulk import BulkCommands
from mxgateway._errors import ClientClosedError, MxGatewayError, raise_for_reply
from mxgateway._events import Event, event_from_proto
from mxgateway._eventstream import EventStream
from mxgateway._options import UNSET
from mxgateway._results import SessionState
from mxgateway._values import to_mx_value
from mxgateway.generated import mxaccess_gateway_pb2 as pb

if TYPE_CHECKING:
    from mxgateway._client import GatewayClient, Timeout

__all__ = ["Session"]

K = pb.MxCommandKind


class Session(BulkCommands):
    """An open gateway session (one MXAccess worker). Close it with ``close()`` or
    ``async with session:``; every command helper raises a typed error keeping the reply."""

    def __init__(self, client: GatewayClient, reply: pb.OpenSessionReply) -> None:
        self._client = client
        self.raw = reply
        self.session_id: str = reply.session_id
        self.backend_name: str = reply.backend_name
        self.gateway_protocol_version: int = reply.gateway_protocol_version
        self.worker_protocol_version: int = reply.worker_protocol_version
        self._final_state: SessionState | None = None

    @property
    def client(self) -> GatewayClient:
        """The client this session belongs to."""
        return self._client

    @property
    def closed(self) -> bool:
        """True once ``close()`` succeeded."""
        return self._final_state is not None

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<Session {self.session_id} backend={self.backend_name!r} {state}>"

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self, reason: str = "", *, timeout: Timeout = UNSET) -> SessionState:
        """Close the session on the gateway; idempotent. Returns the final state."""
        if self._final_state is not None:
            return self._final_state
        reply = await self._client.close_session_raw(
            pb.CloseSessionRequest(session_id=self.session_id, reason=reason), timeout=timeout
        )
        raise_for_reply(reply, operation="CloseSession")
        self._final_state = SessionState.from_wire(reply.final_state) or SessionState.CLOSED
        return self._final_state

    # ------------------------------------------------------------------ plumbing

    def _check_open(self) -> None:
        if self._final_state is not None:
            raise ClientClosedError(f"session {self.session_id} is closed")

    async def _invoke(
        self,
        kind: int,
        field: str,
        payload: Any,
        *,
        operation: str,
        timeout: Timeout,
        secrets: tuple[str | None, ...] = (),
    ) -> pb.MxCommandReply:
        self._check_open()
        request = pb.MxCommandRequest(
            session_id=self.session_id,
            correlation_id=self._client.next_correlation_id(),
            kind=kind,  # type: ignore[arg-type]
        )
        getattr(request, field).CopyFrom(payload)
        reply = await self._client.invoke_raw(request, timeout=timeout, secrets=secrets)
        raise_for_reply(
            reply, operation=operation, secrets=(self._client.options.api_key, *secrets)
        )
        return reply

    @staticmethod
    def _member(reply: pb.MxCommandReply, name: str, operation: str) -> Any:
        if reply.WhichOneof("reply") != name:
            raise MxGatewayError(f"{operation}: the gateway's reply carries no {name} result")
        return getattr(reply, name)

    async def _item_command(
        self, kind: int, field: str, message: Any, operation: str, timeout: Timeout
    ) -> None:
        await self._invoke(kind, field, message, operation=operation, timeout=timeout)

    # ------------------------------------------------------------------ connections, items

    async def register(self, client_name: str, *, timeout: Timeout = UNSET) -> int:
        """Register: open an MXAccess connection; returns the server handle."""
        reply = await self._invoke(
            K.MX_COMMAND_KIND_REGISTER,
            "register",
            pb.RegisterCommand(client_name=client_name),
            operation="Register",
            timeout=timeout,
        )
        return int(self._member(reply, "register", "Register").server_handle)

    async def unregister(self, server_handle: int, *, timeout: Timeout = UNSET) -> None:
        """Unregister: close the MXAccess connection."""
        await self._invoke(
            K.MX_COMMAND_KIND_UNREGISTER,
            "unregister",
            pb.UnregisterCommand(server_handle=server_handle),
            operation="Unregister",
            timeout=timeout,
        )

    async def add_item(self, server_handle: int, item: str, *, timeout: Timeout = UNSET) -> int:
        """AddItem: declare an item reference; returns the item handle."""
        reply = await self._invoke(
            K.MX_COMMAND_KIND_ADD_ITEM,
            "add_item",
            pb.AddItemCommand(server_handle=server_handle, item_reference=item),
            operation="AddItem",
            timeout=timeout,
        )
        return int(self._member(reply, "add_item", "AddItem").item_handle)

    async def add_item2(
        self, server_handle: int, item: str, context: str, *, timeout: Timeout = UNSET
    ) -> int:
        """AddItem2: like AddItem, with a context resolving relative names."""
        reply = await self._invoke(
            K.MX_COMMAND_KIND_ADD_ITEM2,
            "add_item2",
            pb.AddItem2Command(server_handle=server_handle, item_reference=item, context=context),
            operation="AddItem2",
            timeout=timeout,
        )
        return int(self._member(reply, "add_item2", "AddItem2").item_handle)

    async def add_buffered_item(
        self, server_handle: int, item: str, context: str = "", *, timeout: Timeout = UNSET
    ) -> int:
        """AddBufferedItem: an item whose updates arrive as buffered data changes."""
        reply = await self._invoke(
            K.MX_COMMAND_KIND_ADD_BUFFERED_ITEM,
            "add_buffered_item",
            pb.AddBufferedItemCommand(
                server_handle=server_handle, item_reference=item, context=context
            ),
            operation="AddBufferedItem",
            timeout=timeout,
        )
        return int(self._member(reply, "add_buffered_item", "AddBufferedItem").item_handle)

    async def set_buffered_update_interval(
        self, server_handle: int, update_interval_ms: int, *, timeout: Timeout = UNSET
    ) -> None:
        """SetBufferedUpdateInterval for the connection's buffered items."""
        await self._invoke(
            K.MX_COMMAND_KIND_SET_BUFFERED_UPDATE_INTERVAL,
            "set_buffered_update_interval",
            pb.SetBufferedUpdateIntervalCommand(
                server_handle=server_handle, update_interval_ms=update_interval_ms
            ),
            operation="SetBufferedUpdateInterval",
            timeout=timeout,
        )

    async def remove_item(
        self, server_handle: int, item_handle: int, *, timeout: Timeout = UNSET
    ) -> None:
        """RemoveItem."""
        msg = pb.RemoveItemCommand(server_handle=server_handle, item_handle=item_handle)
        await self._item_command(
            K.MX_COMMAND_KIND_REMOVE_ITEM, "remove_item", msg, "RemoveItem", timeout
        )

    async def advise(
        self, server_handle: int, item_handle: int, *, timeout: Timeout = UNSET
    ) -> None:
        """Advise: start updates (MXAccess always sends one initial data change)."""
        msg = pb.AdviseCommand(server_handle=server_handle, item_handle=item_handle)
        await self._item_command(K.MX_COMMAND_KIND_ADVISE, "advise", msg, "Advise", timeout)

    async def advise_supervisory(
        self, server_handle: int, item_handle: int, *, timeout: Timeout = UNSET
    ) -> None:
        """AdviseSupervisory: advise as the client itself, not as an operator."""
        msg = pb.AdviseSupervisoryCommand(server_handle=server_handle, item_handle=item_handle)
        await self._item_command(
            K.MX_COMMAND_KIND_ADVISE_SUPERVISORY,
            "advise_supervisory",
            msg,
            "AdviseSupervisory",
            timeout,
        )

    async def unadvise(
        self, server_handle: int, item_handle: int, *, timeout: Timeout = UNSET
    ) -> None:
        """UnAdvise: stop updates."""
        msg = pb.UnAdviseCommand(server_handle=server_handle, item_handle=item_handle)
        await self._item_command(K.MX_COMMAND_KIND_UN_ADVISE, "un_advise", msg, "UnAdvise", timeout)

    async def suspend(
        self, server_handle: int, item_handle: int, *, timeout: Timeout = UNSET
    ) -> None:
        """Suspend: pause updates of an advised item."""
        msg = pb.SuspendCommand(server_handle=server_handle, item_handle=item_handle)
        await self._item_command(K.MX_COMMAND_KIND_SUSPEND, "suspend", msg, "Suspend", timeout)

    async def activate(
        self, server_handle: int, item_handle: int, *, timeout: Timeout = UNSET
    ) -> None:
        """Activate: resume updates of a suspended item."""
        msg = pb.ActivateCommand(server_handle=server_handle, item_handle=item_handle)
        await self._item_command(K.MX_COMMAND_KIND_ACTIVATE, "activate", msg, "Activate", timeout)

    # ------------------------------------------------------------------ writes

    async def write(
        self,
        server_handle: int,
        item_handle: int,
        value: Any,
        *,
        type: Any = None,
        user_id: int = 0,
        timeout: Timeout = UNSET,
    ) -> None:
        """Write: returns at once; the outcome arrives as a ``WriteComplete`` event."""
        msg = pb.WriteCommand(
            server_handle=server_handle,
            item_handle=item_handle,
            value=to_mx_value(value, type),
            user_id=user_id,
        )
        await self._invoke(
            K.MX_COMMAND_KIND_WRITE, "write", msg, operation="Write", timeout=timeout
        )

    async def write2(
        self,
        server_handle: int,
        item_handle: int,
        value: Any,
        timestamp: datetime,
        *,
        type: Any = None,
        user_id: int = 0,
        timeout: Timeout = UNSET,
    ) -> None:
        """Write2: a write with a timestamp for the value."""
        msg = pb.Write2Command(
            server_handle=server_handle,
            item_handle=item_handle,
            value=to_mx_value(value, type),
            user_id=user_id,
            timestamp_value=to_mx_value(timestamp, "time"),
        )
        await self._invoke(
            K.MX_COMMAND_KIND_WRITE2, "write2", msg, operation="Write2", timeout=timeout
        )

    async def write_secured(
        self,
        server_handle: int,
        item_handle: int,
        value: Any,
        *,
        current_user_id: int,
        verifier_user_id: int = 0,
        type: Any = None,
        timeout: Timeout = UNSET,
    ) -> None:
        """WriteSecured: for SecuredWrite (same user twice) and VerifiedWrite attributes."""
        msg = pb.WriteSecuredCommand(
            server_handle=server_handle,
            item_handle=item_handle,
            value=to_mx_value(value, type),
            current_user_id=current_user_id,
            verifier_user_id=verifier_user_id,
        )
        await self._invoke(
            K.MX_COMMAND_KIND_WRITE_SECURED,
            "write_secured",
            msg,
            operation="WriteSecured",
            timeout=timeout,
        )

    async def write_secured2(
        self,
        server_handle: int,
        item_handle: int,
        value: Any,
        timestamp: datetime,
        *,
        current_user_id: int,
        verifier_user_id: int = 0,
        type: Any = None,
        timeout: Timeout = UNSET,
    ) -> None:
        """WriteSecured2: a secured write with a timestamp for the value."""
        msg = pb.WriteSecured2Command(
            server_handle=server_handle,
            item_handle=item_handle,
            value=to_mx_value(value, type),
            current_user_id=current_user_id,
            verifier_user_id=verifier_user_id,
            timestamp_value=to_mx_value(timestamp, "time"),
        )
        await self._invoke(
            K.MX_COMMAND_KIND_WRITE_SECURED2,
            "write_secured2",
            msg,
            operation="WriteSecured2",
            timeout=timeout,
        )

    # ------------------------------------------------------------------ users

    async def authenticate_user(
        self,
        server_handle: int,
        user: str,
        password: str,
        *,
        domain: str = "",
        timeout: Timeout = UNSET,
    ) -> int:
        """AuthenticateUser: the user id (0 = failed), valid within this server handle.

        The password is scrubbed from every error message."""
        reply = await self._invoke(
            K.MX_COMMAND_KIND_AUTHENTICATE_USER,
            "authenticate_user",
            pb.AuthenticateUserCommand(
                server_handle=server_handle, user_name=user, password=password, domain=domain
            ),
            operation="AuthenticateUser",
            timeout=timeout,
            secrets=(password,),
        )
        return int(self._member(reply, "authenticate_user", "AuthenticateUser").user_id)

    async def archestra_user_to_id(
        self, server_handle: int, user: str, *, timeout: Timeout = UNSET
    ) -> int:
        """ArchestrAUserToId: the id of an ArchestrA user name."""
        reply = await self._invoke(
            K.MX_COMMAND_KIND_ARCHESTRA_USER_TO_ID,
            "archestra_user_to_id",
            pb.ArchestrAUserToIdCommand(server_handle=server_handle, user_name=user),
            operation="ArchestrAUserToId",
            timeout=timeout,
        )
        return int(self._member(reply, "archestra_user_to_id", "ArchestrAUserToId").user_id)

    # ------------------------------------------------------------------ events

    async def drain_events(self, max_events: int = 0, *, timeout: Timeout = UNSET) -> list[Event]:
        """DrainEvents: the queued events (the pull alternative to ``events()``)."""
        reply = await self._invoke(
            K.MX_COMMAND_KIND_DRAIN_EVENTS,
            "drain_events",
            pb.DrainEventsCommand(max_events=max_events),
            operation="DrainEvents",
            timeout=timeout,
        )
        if reply.WhichOneof("reply") != "drain_events":
            return []
        return [event_from_proto(e) for e in reply.drain_events.events]

    def events(
        self,
        after_worker_sequence: int = 0,
        *,
        batch: bool = False,
        max_batch_delay: float | None = None,
        timeout: Timeout = None,
    ) -> EventStream:
        """The session's typed events, in worker-sequence order.

        ``after_worker_sequence`` resumes after a dropped stream (use the previous stream's
        ``last_worker_sequence``); a ``ReplayGap`` comes first when events were lost.
        ``batch=True`` uses the batching extension and falls back to StreamEvents;
        ``max_batch_delay=0`` asks for every batch at once (no wait to fill it), for a
        client that waits on single events.
        """
        self._check_open()
        if batch:
            raw = self._client.stream_event_batches_raw(
                self.session_id,
                after_worker_sequence,
                max_batch_delay=max_batch_delay,
                timeout=timeout,
            )
        else:
            raw = self._client.stream_events_raw(
                self.session_id, after_worker_sequence, timeout=timeout
            )
        return EventStream(raw, after_worker_sequence)
