"""The event recorder: every event of a session, in order, from the moment it opens.

``open-session`` starts the recorder before any other step, so no event can be
missed. A background task reads the session's stream, records each client event
as a :class:`RecordedEvent` (an :class:`~mxgw_runner.matching.ObservedEvent` over the
raw message, whose item alias is resolved from the handles on arrival, and whose value,
quality, timestamp and statuses are read from the message only when asked) and wakes
every waiting expectation once per received message. If the stream
drops while the session is alive it is reopened with ``after_worker_sequence``
set to the last sequence seen, so nothing is lost or duplicated; a replay gap
is recorded as a position in the log, and any expectation whose window spans it
fails with "events lost".
"""

# Timeouts here are budgets handed to gRPC calls and recorder waits, not asyncio timeouts.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mxgw_runner.matching import ObservedEvent, ObservedStatus

#: Reconnect attempts of a dropped event stream before the session counts as lost.
RECONNECT_ATTEMPTS = 5
#: First back-off between reconnects (doubles each time).
RECONNECT_BACKOFF = 0.1

_KINDS = {
    "DataChange": "data-change",
    "WriteComplete": "write-complete",
    "OperationComplete": "operation-complete",
    "BufferedDataChange": "buffered-data-change",
}


class EventStreamLost(Exception):
    """The session's event stream could not be kept open (gateway gone, session faulted)."""


@dataclass(frozen=True, slots=True)
class Gap:
    """Events were lost between two recorded events: ``index`` is where the log resumes."""

    index: int
    lost: int
    requested_after: int
    oldest_available: int

    def describe(self) -> str:
        """``events lost: 12 events after worker sequence 40``."""
        return (
            f"events lost: {self.lost} event(s) after worker sequence {self.requested_after} "
            "were dropped by the gateway before the stream resumed"
        )


_OBSERVED_STATUSES: dict[tuple[Any, ...], tuple[ObservedStatus, ...]] = {}
_VALUE_KINDS = frozenset({"data-change", "buffered-data-change"})
_new = object.__new__


def observed_statuses(event: Any) -> tuple[ObservedStatus, ...]:
    """A client event's statuses as the runner's (shared: equal statuses, one tuple)."""
    client_statuses = tuple(event.statuses)
    statuses = _OBSERVED_STATUSES.get(client_statuses)
    if statuses is None:
        statuses = tuple(
            ObservedStatus(s.success, s.category.label, s.detected_by.label, s.detail)
            for s in client_statuses
        )
        if len(_OBSERVED_STATUSES) > 1024:
            _OBSERVED_STATUSES.clear()
        _OBSERVED_STATUSES[client_statuses] = statuses
    return statuses


_client_events: Any = None


def _events_module() -> Any:
    """``mxgateway._events``, imported on first use (importing this module stays cheap)."""
    global _client_events
    if _client_events is None:
        from mxgateway import _events

        _client_events = _events
    return _client_events


def _decode_first(value: Any) -> Any:
    global _decode
    from mxgateway._values import from_mx_value

    _decode = from_mx_value
    return from_mx_value(value)


_decode: Callable[[Any], Any] = _decode_first
_SCALAR_FIELDS = frozenset(
    {"bool_value", "int32_value", "int64_value", "float_value", "double_value", "string_value"}
)
"""The client's ``from_mx_value`` (bound on first use)."""


class RecordedEvent(ObservedEvent):
    """An observed event over the raw ``MxEvent`` it came in: statuses are read from it when
    first asked (recording decodes nothing). Events without a value: write and operation
    completes."""

    __slots__ = ("_messages", "_position")
    _messages: Any
    _position: int

    @property
    def _raw(self) -> Any:
        """The ``MxEvent``: kept as its received batch and position, so a recorded event
        holds no message object of its own (one object per event fewer for the collector)."""
        return self._messages[self._position]

    def _client_event(self) -> Any:
        """The client's typed event for the message (made on each call)."""
        return _events_module().event_from_proto(self._raw)

    @property
    def value(self) -> Any:
        return None

    @property
    def quality(self) -> int | None:
        return None

    @property
    def source_timestamp(self) -> datetime | None:
        return None

    @property
    def statuses(self) -> tuple[ObservedStatus, ...]:
        try:
            return self._statuses
        except AttributeError:
            self._statuses = observed_statuses(self._client_event())
            return self._statuses


class RecordedValueEvent(RecordedEvent):
    """A recorded data change (or buffered one): value, quality and source timestamp are
    read from the message on each access (the value decoded then, as the client does)."""

    __slots__ = ()

    @property
    def value(self) -> Any:
        value = self._raw.value
        try:
            # A scalar is the field itself (what ``from_mx_value`` returns for it), read
            # here without its call: the scan reads every candidate's value.
            which = value.WhichOneof("kind")
            if which in _SCALAR_FIELDS and not value.is_null:
                return getattr(value, which)
            return _decode(value)
        except Exception:  # an undecodable value is still an event worth showing
            return None

    @property
    def quality(self) -> int | None:
        return int(self._raw.quality)

    @property
    def source_timestamp(self) -> datetime | None:
        ts: datetime | None = self._client_event().timestamp
        return ts


_RECORDED: dict[str, tuple[str, type[RecordedEvent]]] = {
    "DataChange": ("data-change", RecordedValueEvent),
    "WriteComplete": ("write-complete", RecordedEvent),
    "OperationComplete": ("operation-complete", RecordedEvent),
    "BufferedDataChange": ("buffered-data-change", RecordedValueEvent),
}

_BY_BODY: dict[str, tuple[str, type[RecordedEvent]] | None] = {
    "on_data_change": _RECORDED["DataChange"],
    "on_write_complete": _RECORDED["WriteComplete"],
    "operation_complete": _RECORDED["OperationComplete"],
    "on_buffered_data_change": _RECORDED["BufferedDataChange"],
    "on_alarm_transition": None,
}
"""What a message's body records as (the client types by body the same way); a message
without a known body goes through the client's typing (replay gap, family only)."""

_UNKNOWN: Any = object()


def observe(event: Any, item: str, *, now_wall: datetime, now_mono: float) -> ObservedEvent | None:
    """Adapt a typed ``mxgateway`` event to the runner's :class:`ObservedEvent` (None: not kept).

    Nothing is decoded here: the result reads value, quality, timestamp and statuses from the
    client event when they are asked for.
    """
    kind = _KINDS.get(type(event).__name__)
    if kind is None:
        return None
    recorded = _new(RecordedValueEvent if kind in _VALUE_KINDS else RecordedEvent)
    recorded._kind = kind
    recorded._item = item
    recorded._arrival_monotonic = now_mono
    recorded._arrival_wall = now_wall
    recorded._worker_sequence = event.worker_sequence
    recorded._messages = (event.raw,)
    recorded._position = 0
    return recorded


def _one_at_a_time(stream: Any) -> Callable[[], Awaitable[Sequence[Any]]]:
    """``next_raw_batch`` for a stream of single typed events (one message a list)."""
    anext_event = stream.__aiter__().__anext__

    async def next_batch() -> Sequence[Any]:
        return ((await anext_event()).raw,)

    return next_batch


class Recorder:
    """The session's event log with per-item cursors (satisfies ``steptypes.EventRecorder``)."""

    def __init__(
        self,
        open_stream: Callable[[int], Any],
        alias_of: Callable[[int, int], str],
        *,
        is_fatal: Callable[[BaseException], bool] = lambda exc: False,
        describe_error: Callable[[BaseException], str] = str,
    ) -> None:
        self._open_stream = open_stream
        self._alias_of = alias_of
        self._is_fatal = is_fatal
        self._describe_error = describe_error
        self._events: list[ObservedEvent] = []
        self.gaps: list[Gap] = []
        self._cursors: dict[str, int] = {}
        self._last_write: dict[str, int] = {}
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stream: Any = None
        self._stopping = False
        self.last_sequence = 0
        #: Streams reopened after a drop that went on to deliver events.
        self.reconnects = 0
        self.lost: str | None = None
        self._connected = asyncio.Event()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Open the stream now and keep reading it in a background task."""
        self._stream = self._open_stream(0)
        self._task = asyncio.get_running_loop().create_task(self._pump(), name="mxgw-recorder")

    async def stop(self) -> None:
        """Stop reading (before the session closes); cancels the gRPC stream."""
        self._stopping = True
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.cancel()
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._changed.set()

    @property
    def running(self) -> bool:
        """True while the background reader runs."""
        return self._task is not None and not self._task.done()

    # ------------------------------------------------------------------ reading

    async def _pump(self) -> None:
        failures = 0
        try:
            while not self._stopping:
                error: Exception | None = None
                reopened = self._stream is None
                try:
                    if self._stream is None:
                        self._stream = self._open_stream(self.last_sequence)
                    stream = self._stream
                    # A typed stream hands over a received message's events as one list.
                    next_batch = getattr(stream, "next_raw_batch", None)
                    if next_batch is None:
                        next_batch = _one_at_a_time(stream)
                    while True:
                        try:
                            batch = await next_batch()
                        except StopAsyncIteration:
                            break
                        if reopened:
                            # A stream reopened after a drop that delivers: resumed.
                            self.reconnects += 1
                            reopened = False
                        failures = 0
                        self._take_all(batch)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    error = exc
                finally:
                    if self._stream is not None:
                        self._stream.cancel()
                        self._stream = None
                if self._stopping:
                    return
                failures += 1
                if error is not None and self._is_fatal(error):
                    self._fail(self._describe_error(error))
                    return
                if failures > RECONNECT_ATTEMPTS:
                    reason = "the gateway keeps ending the event stream"
                    self._fail(self._describe_error(error) if error is not None else reason)
                    return
                if error is not None:
                    await asyncio.sleep(RECONNECT_BACKOFF * 2 ** (failures - 1))
                # else: the gateway ended the stream while the session is open: resume now.
        finally:
            if self._stream is not None:
                self._stream.cancel()
                self._stream = None

    def _take_all(self, raws: Sequence[Any]) -> None:
        """Record messages received together: one clock reading and one wake-up for all, the
        alias looked up again only when the handles change, nothing decoded."""
        now_mono = time.monotonic()
        now_wall = datetime.now(UTC)
        append = self._events.append
        alias_of = self._alias_of
        by_body = _BY_BODY.get
        unknown = _UNKNOWN
        last = self.last_sequence
        server = item = -1
        alias = ""
        taken = False
        # Messages of a batch mostly share a body: ask for the last one first (``HasField``
        # costs half a ``WhichOneof``).
        body = "on_data_change"
        body_as: Any = _BY_BODY[body]
        position = -1
        for raw in raws:
            position += 1
            if raw.HasField(body):
                recorded_as = body_as
            else:
                which = raw.WhichOneof("body")
                recorded_as = by_body(which, unknown)
                if recorded_as is not unknown:
                    body, body_as = which, recorded_as
            if recorded_as is unknown:
                typed = _events_module().event_from_proto(raw)
                name = typed.__class__.__name__
                if name == "ReplayGap":
                    self.last_sequence = last
                    self._gap(typed)
                    continue
                recorded_as = _RECORDED.get(name)
            sequence = raw.worker_sequence
            if sequence:
                if sequence <= last:
                    continue  # already recorded before a reconnect
                last = sequence
            if recorded_as is None:
                continue
            if raw.server_handle != server or raw.item_handle != item:
                server, item = raw.server_handle, raw.item_handle
                alias = alias_of(server, item)
            kind, cls = recorded_as
            recorded = _new(cls)
            recorded._kind = kind
            recorded._item = alias
            recorded._arrival_monotonic = now_mono
            recorded._arrival_wall = now_wall
            recorded._worker_sequence = sequence
            recorded._messages = raws
            recorded._position = position
            append(recorded)
            taken = True
        self.last_sequence = last
        if taken:
            self._changed.set()

    def _gap(self, event: Any) -> None:
        self.gaps.append(
            Gap(
                len(self._events),
                int(event.lost),
                int(event.requested_after_sequence),
                int(event.oldest_available_sequence),
            )
        )
        self._changed.set()

    def _fail(self, message: str) -> None:
        self.lost = f"event stream lost: {message}"
        self._changed.set()

    # ------------------------------------------------------------------ the EventRecorder protocol

    @property
    def events(self) -> Sequence[ObservedEvent]:
        """Every recorded event of the session so far, in arrival order."""
        return self._events

    def cursor(self, item: str) -> int:
        """Where the next ``expect-event`` of ``item`` starts (its advise, if none moved it)."""
        return self._cursors.get(item, 0)

    def set_cursor(self, item: str, index: int) -> None:
        """Move ``item``'s cursor (only ever forward)."""
        self._cursors[item] = max(index, self._cursors.get(item, 0))

    def reset_cursor(self, item: str, index: int) -> None:
        """Put ``item``'s cursor at ``index`` (at advise: events before it are not the item's)."""
        self._cursors[item] = index

    def mark_write(self, item: str) -> int:
        """Note that a write to ``item`` is about to be sent; returns the index it starts at."""
        index = len(self._events)
        self._last_write[item] = index
        return index

    def last_write_index(self, item: str) -> int | None:
        """Index of the first event recorded after the last write to ``item`` (None: no write)."""
        return self._last_write.get(item)

    def gap_between(self, start: int, end: int) -> Gap | None:
        """The first replay gap that lies in the window ``[start, end]`` of the log, if any.

        A gap at ``start`` means events after the cursor were lost; at ``end``, that
        they were lost while the window was being watched: either way an
        expectation over the window cannot be trusted.
        """
        for gap in self.gaps:
            if start <= gap.index <= end:
                return gap
        return None

    async def wait_for_events(self, count: int, timeout: float) -> bool:
        """Wait until more than ``count`` events are recorded or ``timeout`` s pass; True if so.

        Returns early (False) when the stream is lost or a gap is recorded, so the
        caller can report it instead of waiting out the timeout.
        """
        deadline = time.monotonic() + timeout
        gaps = len(self.gaps)
        while len(self._events) <= count:
            if self.lost is not None or len(self.gaps) != gaps:
                return False
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._changed.clear()
            try:
                # asyncio.timeout, not wait_for: no task per wait on this hot path.
                async with asyncio.timeout(remaining):
                    await self._changed.wait()
            except TimeoutError:
                return len(self._events) > count
        return True
