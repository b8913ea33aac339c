"""Ordered event delivery: worker sequence numbers, worker timestamps and event latency.

Events are queued in the order the worker produces them and handed on by one task, which
numbers them 1, 2, 3... as it delivers, so sequences stay contiguous and increasing even
when a latency fault delays delivery. The task takes every event that is due in one pass:
one wake-up, one clock reading and one worker timestamp for the whole pass, and the pass's
events go to the batch sink as one list (or to the single-event sink one by one).

Data changes come as bytes (:meth:`EventPump.put_change`) and leave as one
:data:`~mxgw_sim.wire.NumberedChange` per attribute change (its first sequence number, not a
tuple per event); the batch sink gets them as they are, the single-event sink as generated
messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Callable

from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgw_sim.galaxy.runtime import GalaxyRuntime
from mxgw_sim.wire import AnyEvent, messages, sequence_of, timestamp_field

__all__ = ["BatchSink", "EventPump", "EventSink"]

EventSink = Callable[[pb.MxEvent], None]
BatchSink = Callable[[list[AnyEvent]], None]
#: What the queue holds: messages, or one attribute change's data changes as bytes.
Chunk = list[pb.MxEvent] | tuple[bytes, list[bytes], bytes, bytes]
_log = logging.getLogger(__name__)


class EventPump:
    """Delivers queued events in order, each after the configured latency.

    ``batch_sink``, when given, returns the sink for a whole pass (or None to use ``sink``
    per event); it is asked on every pass, so the receiver may be attached later.
    """

    def __init__(
        self,
        sink: EventSink,
        runtime: GalaxyRuntime,
        batch_sink: Callable[[], BatchSink | None] | None = None,
    ) -> None:
        self._sink = sink
        self._batch_sink = batch_sink
        self._runtime = runtime
        #: (due time on the monotonic clock, or 0.0 for "now"; events), oldest first.
        self._queue: deque[tuple[float, Chunk]] = deque()
        self._queued = 0
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self.latency = 0.0
        self.sequence = 0
        self.closed = False

    def put(self, event: pb.MxEvent) -> None:
        """Queue an event for delivery."""
        self._queue_chunk([event], 1)

    def put_many(self, events: list[pb.MxEvent]) -> None:
        """Queue several events (in order) for delivery; the pump takes over the list."""
        self._queue_chunk(events, len(events))

    def put_change(self, before: bytes, handles: list[bytes], after: bytes, tail: bytes) -> None:
        """Queue the data changes of one attribute change as bytes: event ``n`` is
        ``before + handles[n] + after`` (fields 1-7), then its sequence and stamps, then the
        shared ``tail`` (the fields after 11). The pump takes over the list."""
        self._queue_chunk((before, handles, after, tail), len(handles))

    def _queue_chunk(self, chunk: Chunk, count: int) -> None:
        if self.closed or not count:
            return
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="mx-events")
        latency = self.latency
        due = time.monotonic() + latency if latency > 0 else 0.0
        self._queue.append((due, chunk))
        self._queued += count
        if not self._wake.is_set():
            self._wake.set()
            self._idle.clear()

    async def _run(self) -> None:
        queue = self._queue
        while True:
            if not queue:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            due = queue[0][0]
            if due > 0:
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                    continue
            now = time.monotonic()
            chunks = [queue.popleft()[1]]
            while queue and queue[0][0] <= now:
                chunks.append(queue.popleft()[1])
            before = self.sequence
            batch = self._number(chunks)
            self._queued -= self.sequence - before
            self._deliver(batch)

    def _number(self, chunks: list[Chunk]) -> list[AnyEvent]:
        """The chunks' events in order, each with its worker_sequence and this pass's
        worker timestamp (a data change chunk as one numbered change)."""
        when = self._runtime.now()
        seconds = math.floor(when)
        nanos = min(round((when - seconds) * 1e9), 999_999_999)
        wire = timestamp_field(9, seconds, nanos)
        sequence = self.sequence
        batch: list[AnyEvent] = []
        append = batch.append
        for chunk in chunks:
            if isinstance(chunk, list):
                for event in chunk:
                    sequence += 1
                    event.worker_sequence = sequence
                    stamp = event.worker_timestamp
                    stamp.seconds = seconds
                    stamp.nanos = nanos
                    append(event)
            else:
                before, handles, after, tail = chunk
                append((sequence + 1, before, handles, after, wire, tail))
                sequence += len(handles)
        self.sequence = sequence
        return batch

    def _deliver(self, batch: list[AnyEvent]) -> None:
        sink = self._batch_sink() if self._batch_sink is not None else None
        if sink is not None:
            try:
                sink(batch)
            except Exception:  # a failing sink must not stop delivery
                _log.exception("event sink failed on events up to %d", sequence_of(batch[-1]))
            return
        for event in messages(batch):
            try:
                self._sink(event)
            except Exception:  # a failing sink must not stop delivery
                _log.exception("event sink failed on event %d", sequence_of(event))

    def pending(self) -> int:
        """Events queued but not delivered yet."""
        return self._queued

    async def drain(self) -> None:
        """Wait until every queued event has been delivered."""
        while (self._queue or not self._idle.is_set()) and not self.closed:
            await self._idle.wait()

    async def close(self) -> None:
        """Stop delivering; queued events are dropped."""
        self.closed = True
        self._idle.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
