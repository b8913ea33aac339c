"""``EventStream``: a session's typed events, one at a time or a list per received message."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from mxgateway._events import Event, ReplayGap, event_from_proto, events_from_protos
from mxgateway._streams import CallStream
from mxgateway.generated import mxaccess_gateway_pb2 as pb

if TYPE_CHECKING:
    pass

__all__ = ["EventStream"]


class EventStream(CallStream[Event]):
    """Typed events of a session; ``last_worker_sequence`` is the resume point after a drop.

    Each received message's events are converted in one loop when the first of them is
    asked for; the rest are then handed out without awaiting anything.
    """

    def __init__(self, raw: CallStream[pb.MxEvent], after_worker_sequence: int) -> None:
        self._raw = raw
        self._typed: deque[Event] = deque()
        self._after = after_worker_sequence
        self._last: Event | None = None

    @property
    def method(self) -> str:
        """The RPC in use (StreamEventBatches or StreamEvents)."""
        return self._raw.method

    @property
    def last_worker_sequence(self) -> int:
        """The worker sequence of the last event handed out (the replay gap aside)."""
        last = self._last
        return self._after if last is None else last.worker_sequence

    async def __anext__(self) -> Event:
        typed = self._typed
        if not typed:
            await self._receive()
        event = typed.popleft()
        if event.__class__ is not ReplayGap:
            self._last = event
        return event

    async def _receive(self) -> None:
        typed = self._typed
        while not typed:
            typed.extend(events_from_protos(await self._raw.next_message()))

    def batches(self) -> AsyncIterator[list[Event]]:
        """The same events a list per received message (events already buffered come first
        as one list): the throughput path, one ``async for`` step per message, not per event.

        Iterating it and iterating the stream share one position: ``last_worker_sequence``
        counts every event handed out either way. Over StreamEvents (the fallback) each
        list holds one event.
        """
        return _Batches(self)

    async def next_batch(self) -> list[Event]:
        """The events not yet handed out, at least one: those already buffered, or else the
        next non-empty received message's. Ends with ``StopAsyncIteration``."""
        typed = self._typed
        if typed:
            out = list(typed)
            typed.clear()
        else:
            next_message = self._raw.next_message
            out = events_from_protos(await next_message())
            while not out:
                out = events_from_protos(await next_message())
        last = out[-1]
        if last.__class__ is not ReplayGap:
            self._last = last
        else:
            for event in reversed(out):
                if event.__class__ is not ReplayGap:
                    self._last = event
                    break
        return out

    async def next_raw_batch(self) -> Sequence[pb.MxEvent]:
        """Like ``next_batch`` but the raw ``MxEvent`` messages (the received message's own
        repeated field, not copied), no typed event made: for a consumer that dispatches on
        the message itself, as the scenario runner's recorder does. Shares the stream's
        position like ``next_batch``."""
        typed = self._typed
        out: Sequence[pb.MxEvent]
        if typed:
            out = [event.raw for event in typed]
            typed.clear()
        else:
            next_message = self._raw.next_message
            out = await next_message()  # type: ignore[assignment]
            while not len(out):
                out = await next_message()  # type: ignore[assignment]
        for index in range(len(out) - 1, -1, -1):
            event = event_from_proto(out[index])
            if event.__class__ is not ReplayGap:
                self._last = event
                break
        return out

    def received(self) -> list[Event]:
        """The events already received and not yet handed out, without waiting (empty when
        none): a consumer that drains them after each ``__anext__`` handles a whole message
        per step of its ``async for``."""
        if not self._typed:
            return []
        out = list(self._typed)
        self._typed.clear()
        for event in reversed(out):
            if event.__class__ is not ReplayGap:
                self._last = event
                break
        return out

    def cancel(self) -> None:
        """Cancel the underlying call now."""
        self._raw.cancel()

    def __del__(self) -> None:
        raw = getattr(self, "_raw", None)
        if raw is not None:
            raw.cancel()


class _Batches:
    """``EventStream.batches()``: an async iterator of lists, one per received message."""

    __slots__ = ("_next",)

    def __init__(self, stream: EventStream) -> None:
        self._next = stream.next_batch

    def __aiter__(self) -> _Batches:
        return self

    def __anext__(self) -> Coroutine[Any, Any, list[Event]]:
        return self._next()
