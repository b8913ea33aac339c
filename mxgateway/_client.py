"""``GatewayClient``: the connection to one gateway, and the raw RPCs."""

# timeout= is the gRPC deadline passed to the call, not an asyncio timeout.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import grpc

from mxgateway._auth import bearer_metadata, warn_if_key_in_clear
from mxgateway._channel import ChannelFactory, create_channel
from mxgateway._errors import (
    ClientClosedError,
    GatewayUnavailableError,
    raise_for_reply,
    raise_rpc_error,
)
from mxgateway._events import ActiveAlarm, AlarmSnapshotComplete, AlarmTransition
from mxgateway._options import UNSET, ClientOptions, InvalidOptionsError, Unset
from mxgateway._streams import CallStream
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway.generated import mxaccess_gateway_pb2_grpc as pb_grpc
from mxgateway.generated import mxgw_extensions_pb2 as ext
from mxgateway.generated import mxgw_extensions_pb2_grpc as ext_grpc

if TYPE_CHECKING:
    from mxgateway._session import Session

__all__ = ["AlarmFeedItem", "GatewayClient", "Timeout"]

Timeout = float | None | Unset
"""A per-call timeout in seconds; ``None`` = no deadline; ``UNSET`` = the client default."""

AlarmFeedItem = ActiveAlarm | AlarmSnapshotComplete | AlarmTransition

R = TypeVar("R")

#: How long a new event stream retries ALREADY_EXISTS after this client cancelled the
#: session's previous one (the cancel reaches the gateway a moment after the client lets go).
STREAM_HANDOVER_SECONDS = 2.0

_CONNECT_DEFAULTS: dict[str, Any] = {
    "endpoint": "localhost:5000",
    "api_key": None,
    "plaintext": False,
    "ca_file": None,
    "server_name_override": None,
    "timeout": 30.0,
    "connect_timeout": 10.0,
    "wait_for_ready": True,
}


class GatewayClient:
    """An open connection to an MXAccess Gateway.

    Make one with ``await GatewayClient.connect(...)`` and use it as an async context manager
    (or call ``close()``). Every method takes ``timeout=`` in seconds; not given, the
    client's default applies; ``None`` means no deadline. gRPC status errors are raised as
    ``GatewayRpcError`` subclasses; MXAccess refusals are data in ``invoke_raw``'s reply.
    """

    def __init__(self, channel: grpc.aio.Channel, options: ClientOptions) -> None:
        """Wrap an existing channel; prefer ``connect``, which also waits for readiness."""
        self._channel = channel
        self._options = options
        self._metadata = bearer_metadata(options.api_key)
        self._secrets: tuple[str | None, ...] = (options.api_key,)
        self._stub: Any = pb_grpc.MxAccessGatewayStub(channel)
        self._ext_stub: Any = ext_grpc.MxGatewayExtensionsStub(channel)
        self._closed = False
        # session id -> when this client last cancelled a live event stream of it
        self._stream_cancelled: dict[str, float] = {}
        self._batches_supported = True
        self._correlation_prefix = f"py-{os.urandom(4).hex()}-"
        self._correlation_counter = itertools.count(1)

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    async def connect(
        cls,
        endpoint: str = "localhost:5000",
        api_key: str | None = None,
        plaintext: bool = False,
        ca_file: str | None = None,
        server_name_override: str | None = None,
        timeout: float | None = 30.0,
        connect_timeout: float = 10.0,
        wait_for_ready: bool = True,
        options: ClientOptions | None = None,
        channel_factory: ChannelFactory | None = None,
    ) -> GatewayClient:
        """Open a channel and wait (up to ``connect_timeout`` s) until it is ready.

        Pass either the keyword settings or a complete ``options``, not both. Raises
        ``GatewayUnavailableError`` naming the endpoint when the gateway cannot be reached
        in time (wrong address, gateway down, TLS handshake refused).
        """
        given = {
            "endpoint": endpoint,
            "api_key": api_key,
            "plaintext": plaintext,
            "ca_file": ca_file,
            "server_name_override": server_name_override,
            "timeout": timeout,
            "connect_timeout": connect_timeout,
            "wait_for_ready": wait_for_ready,
        }
        if options is None:
            options = ClientOptions(
                endpoint=endpoint,
                api_key=api_key,
                plaintext=plaintext,
                ca_file=ca_file,
                server_name_override=server_name_override,
                default_timeout=timeout,
                connect_timeout=connect_timeout,
                wait_for_ready=wait_for_ready,
            )
        else:
            clashing = sorted(k for k, v in given.items() if v != _CONNECT_DEFAULTS[k])
            if clashing:
                raise InvalidOptionsError(
                    f"pass either options= or keyword settings, not both ({', '.join(clashing)})"
                )
        warn_if_key_in_clear(options.endpoint, options.api_key, options.plaintext)
        channel = (channel_factory or create_channel)(options)
        client = cls(channel, options)
        try:
            await asyncio.wait_for(channel.channel_ready(), options.connect_timeout)
        except TimeoutError:
            state = channel.get_state(try_to_connect=False)
            await channel.close(None)
            raise GatewayUnavailableError(
                grpc.StatusCode.UNAVAILABLE,
                f"cannot reach the gateway at {options.endpoint} within "
                f"{options.connect_timeout:g} s (channel {state.name}); check the address, that "
                "the gateway runs, and the TLS settings (plaintext, ca_file, "
                "server_name_override)",
                method="connect",
            ) from None
        except BaseException:
            await channel.close(None)
            raise
        return client

    @property
    def options(self) -> ClientOptions:
        """The settings this client was made with (the key redacted in its repr)."""
        return self._options

    @property
    def endpoint(self) -> str:
        """The gateway address."""
        return self._options.endpoint

    @property
    def closed(self) -> bool:
        """True once ``close()`` was called."""
        return self._closed

    async def close(self) -> None:
        """Close the channel, cancelling calls in flight. Safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        await self._channel.close(None)

    async def __aenter__(self) -> GatewayClient:
        self._check_open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<GatewayClient {self._options.endpoint} {state}>"

    # ------------------------------------------------------------------ plumbing

    def _check_open(self) -> None:
        if self._closed:
            raise ClientClosedError(f"the client for {self._options.endpoint} is closed")

    def _timeout(self, timeout: Timeout) -> float | None:
        return self._options.default_timeout if isinstance(timeout, Unset) else timeout

    def next_correlation_id(self) -> str:
        """A correlation id unique within this client."""
        return f"{self._correlation_prefix}{next(self._correlation_counter)}"

    async def _unary(
        self,
        method: str,
        call: Callable[..., Awaitable[R]],
        request: Any,
        timeout: Timeout,
        secrets: tuple[str | None, ...] = (),
    ) -> R:
        self._check_open()
        try:
            return await call(
                request,
                timeout=self._timeout(timeout),
                metadata=self._metadata,
                wait_for_ready=self._options.wait_for_ready,
            )
        except grpc.aio.AioRpcError as exc:
            if self._closed:
                raise ClientClosedError(f"the client was closed during {method}") from None
            raise_rpc_error(exc, method=method, secrets=self._secrets + secrets)
            raise  # unreachable
        except asyncio.CancelledError:
            # close() cancels calls in flight; only a cancelled *task* propagates as is.
            if self._closed and not _task_cancelling():
                raise ClientClosedError(f"the client was closed during {method}") from None
            raise

    def _stream(self, call: Callable[..., Any], request: Any, timeout: Timeout) -> Any:
        return call(
            request,
            timeout=None if timeout is UNSET else timeout,
            metadata=self._metadata,
            wait_for_ready=self._options.wait_for_ready,
        )

    # ------------------------------------------------------------------ sessions

    async def open_session(
        self, client_session_name: str = "", *, timeout: Timeout = UNSET, **extra: Any
    ) -> Session:
        """Open a gateway session; ``extra`` sets other ``OpenSessionRequest`` fields."""
        from mxgateway._session import Session

        try:
            request = pb.OpenSessionRequest(client_session_name=client_session_name, **extra)
        except (ValueError, TypeError) as exc:
            raise InvalidOptionsError(f"open_session: {exc}") from None
        reply = await self.open_session_raw(request, timeout=timeout)
        raise_for_reply(reply, operation="OpenSession", secrets=self._secrets)
        return Session(self, reply)

    async def open_session_raw(
        self, request: pb.OpenSessionRequest, *, timeout: Timeout = UNSET
    ) -> pb.OpenSessionReply:
        """OpenSession as is: the reply is returned whatever its protocol status."""
        return await self._unary("OpenSession", self._stub.OpenSession, request, timeout)

    async def close_session_raw(
        self, request: pb.CloseSessionRequest, *, timeout: Timeout = UNSET
    ) -> pb.CloseSessionReply:
        """CloseSession as is (idempotent on the gateway)."""
        return await self._unary("CloseSession", self._stub.CloseSession, request, timeout)

    async def invoke_raw(
        self,
        request: pb.MxCommandRequest,
        *,
        timeout: Timeout = UNSET,
        secrets: tuple[str | None, ...] = (),
    ) -> pb.MxCommandReply:
        """Invoke as is: never raises on an MXAccess failure (that is data in the reply);
        raises ``GatewayRpcError`` subclasses for gRPC errors. ``secrets`` are scrubbed
        from error text (e.g. a password in the request)."""
        return await self._unary("Invoke", self._stub.Invoke, request, timeout, secrets)

    def _handover(self, session_id: str, busy_retry: float | None) -> dict[str, Any]:
        """CallStream arguments for the stream hand-over: the retry window, and noting when
        this stream is cancelled so the session's next stream knows to wait for it."""
        if busy_retry is None:
            cancelled = self._stream_cancelled.get(session_id)
            now = time.monotonic()
            busy_retry = 0.0 if cancelled is None else cancelled + STREAM_HANDOVER_SECONDS - now

        def on_cancel() -> None:
            self._stream_cancelled[session_id] = time.monotonic()
            if len(self._stream_cancelled) > 1024:
                horizon = time.monotonic() - STREAM_HANDOVER_SECONDS
                for key, when in list(self._stream_cancelled.items()):
                    if when < horizon:
                        del self._stream_cancelled[key]

        return {"busy_retry": max(0.0, busy_retry), "on_cancel": on_cancel}

    def stream_events_raw(
        self,
        session_id: str,
        after_worker_sequence: int = 0,
        *,
        timeout: Timeout = None,
        busy_retry: float | None = None,
    ) -> CallStream[pb.MxEvent]:
        """The session's raw ``MxEvent`` stream (StreamEvents), one event per item.

        Iterate it with ``async for``; leaving the loop, ``aclose()`` or cancelling the task
        cancels the call. A cancel reaches the gateway a moment after the client lets go, so
        a stream opened within ``STREAM_HANDOVER_SECONDS`` of this client cancelling the
        session's previous one retries ALREADY_EXISTS until then; ``busy_retry`` (seconds)
        overrides that window.
        """
        self._check_open()
        request = pb.StreamEventsRequest(
            session_id=session_id, after_worker_sequence=after_worker_sequence
        )
        return CallStream(
            lambda: self._stream(self._stub.StreamEvents, request, timeout),
            _single,
            method="StreamEvents",
            secrets=self._secrets,
            is_closed=lambda: self._closed,
            **self._handover(session_id, busy_retry),
        )

    def stream_event_batches_raw(
        self,
        session_id: str,
        after_worker_sequence: int = 0,
        *,
        max_batch_size: int = 0,
        max_batch_delay: float | None = None,
        timeout: Timeout = None,
        busy_retry: float | None = None,
    ) -> CallStream[pb.MxEvent]:
        """Raw events through the batching extension, falling back to StreamEvents when the
        gateway answers UNIMPLEMENTED (and remembering that for this client).

        ``max_batch_delay`` (seconds) is how long the gateway may hold a partial batch for
        more events: None leaves its default (throughput), 0 sends what is pending at once
        (latency: a client waiting on one event gets it without delay).
        """
        self._check_open()
        if max_batch_delay is not None and not 0 <= max_batch_delay < float("inf"):
            raise ValueError(f"max_batch_delay must be 0 or more seconds, got {max_batch_delay}")
        if not self._batches_supported:
            return self.stream_events_raw(
                session_id, after_worker_sequence, timeout=timeout, busy_retry=busy_retry
            )
        batch_request = ext.StreamEventBatchesRequest(
            session_id=session_id,
            after_worker_sequence=after_worker_sequence,
            max_batch_size=max_batch_size,
        )
        if max_batch_delay is not None:
            batch_request.max_batch_delay.FromTimedelta(timedelta(seconds=max_batch_delay))
        plain_request = pb.StreamEventsRequest(
            session_id=session_id, after_worker_sequence=after_worker_sequence
        )

        def no_batches() -> None:
            self._batches_supported = False

        return CallStream(
            lambda: self._stream(self._ext_stub.StreamEventBatches, batch_request, timeout),
            _batch,
            method="StreamEventBatches",
            secrets=self._secrets,
            fallback=(
                lambda: self._stream(self._stub.StreamEvents, plain_request, timeout),
                _single,
                "StreamEvents",
            ),
            on_fallback=no_batches,
            **self._handover(session_id, busy_retry),
            is_closed=lambda: self._closed,
        )

    # ------------------------------------------------------------------ alarms

    def stream_alarms(
        self, alarm_filter_prefix: str = "", *, timeout: Timeout = None
    ) -> CallStream[AlarmFeedItem]:
        """The alarm feed: an ``ActiveAlarm`` per active alarm, one ``AlarmSnapshotComplete``,
        then an ``AlarmTransition`` per change. Needs no session."""
        self._check_open()
        request = pb.StreamAlarmsRequest(
            client_correlation_id=self.next_correlation_id(),
            alarm_filter_prefix=alarm_filter_prefix,
        )
        return CallStream(
            lambda: self._stream(self._stub.StreamAlarms, request, timeout),
            _alarm_feed_item,
            method="StreamAlarms",
            secrets=self._secrets,
            is_closed=lambda: self._closed,
        )

    async def query_active_alarms(
        self, alarm_filter_prefix: str = "", *, session_id: str = "", timeout: Timeout = UNSET
    ) -> list[ActiveAlarm]:
        """The alarms active now (optionally those whose reference starts with a prefix)."""
        self._check_open()
        request = pb.QueryActiveAlarmsRequest(
            session_id=session_id,
            client_correlation_id=self.next_correlation_id(),
            alarm_filter_prefix=alarm_filter_prefix,
        )
        deadline = self._timeout(timeout)
        stream: CallStream[ActiveAlarm] = CallStream(
            lambda: self._stream(self._stub.QueryActiveAlarms, request, deadline),
            lambda msg: (ActiveAlarm(msg),),
            method="QueryActiveAlarms",
            secrets=self._secrets,
            is_closed=lambda: self._closed,
        )
        async with stream:
            return [alarm async for alarm in stream]

    async def acknowledge_alarm(
        self,
        alarm_full_reference: str,
        *,
        comment: str = "",
        operator_user: str = "",
        timeout: Timeout = UNSET,
    ) -> pb.AcknowledgeAlarmReply:
        """Acknowledge an alarm; raises the typed command error when the reply is not OK."""
        request = pb.AcknowledgeAlarmRequest(
            client_correlation_id=self.next_correlation_id(),
            alarm_full_reference=alarm_full_reference,
            comment=comment,
            operator_user=operator_user,
        )
        reply: pb.AcknowledgeAlarmReply = await self._unary(
            "AcknowledgeAlarm", self._stub.AcknowledgeAlarm, request, timeout
        )
        raise_for_reply(reply, operation="AcknowledgeAlarm", secrets=self._secrets)
        return reply


def _task_cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _single(message: pb.MxEvent) -> tuple[pb.MxEvent]:
    return (message,)


def _batch(message: ext.MxEventBatch) -> Any:
    return message.events


def _alarm_feed_item(message: pb.AlarmFeedMessage) -> tuple[AlarmFeedItem, ...]:
    which = message.WhichOneof("message")
    if which == "active_alarm":
        return (ActiveAlarm(message.active_alarm),)
    if which == "snapshot_complete":
        done = message.snapshot_complete
        return (AlarmSnapshotComplete(done.active_alarm_count, done),)
    if which == "transition":
        return (AlarmTransition.from_transition(message.transition),)
    return ()
