"""Ordered event delivery: worker sequence numbers, worker timestamps and event latency.

Events are queued in the order the worker produces them and handed on by one task, which
numbers them 1, 2, 3... as it delivers, so sequences stay contiguous and increasing even
when a latency fault delays delivery. The task takes every event that is due in one pass:
one wake-up, one clock reading and one worker timestamp for the whole pass, and the pass's
events go to the batch sink as one list (or to the single-event sink one by one).

Data changes come as :class:`~mxgw_sim.wire.WireEvent` (bytes); the batch sink gets them
as they are, the single-event sink as generated messages.
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
from mxgw_sim.wire import AnyEvent, WireEvent, timestamp_field, varint

__all__ = ["BatchSink", "EventPump", "EventSink"]

EventSink = Callable[[pb.MxEvent], None]
BatchSink = Callable[[list[AnyEvent]], None]
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
        self._queue: deque[tuple[float, list[AnyEvent]]] = deque()
        self._queued = 0
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self.latency = 0.0
        self.sequence = 0
        self.closed = False

    def put(self, event: AnyEvent) -> None:
        """Queue an event for delivery."""
        self.put_many([event])

    def put_many(self, events: list[AnyEvent]) -> None:
        """Queue several events (in order) for delivery; the pump takes over the list."""
        if self.closed or not events:
            return
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="mx-events")
        latency = self.latency
        due = time.monotonic() + latency if latency > 0 else 0.0
        queue = self._queue
        if queue and due == 0.0 and queue[-1][0] == 0.0:
            queue[-1][1].extend(events)
        else:
            queue.append((due, events))
        self._queued += len(events)
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
            batch = queue.popleft()[1]
            while queue and queue[0][0] <= now:
                batch.extend(queue.popleft()[1])
            self._queued -= len(batch)
            self._number(batch)
            self._deliver(batch)

    def _number(self, batch: list[AnyEvent]) -> None:
        """Give each event its worker_sequence and this pass's worker timestamp."""
        when = self._runtime.now()
        seconds = math.floor(when)
        nanos = min(round((when - seconds) * 1e9), 999_999_999)
        wire = timestamp_field(9, seconds, nanos)
        sequence = self.sequence
        for event in batch:
            sequence += 1
            event.worker_sequence = sequence
            if type(event) is WireEvent:
                # field 8 (the sequence) and field 9 (the worker stamp), in that order
                if 0x4000 <= sequence < 0x200000:  # inline: the common size of a varint
                    low, middle = sequence & 0x7F | 0x80, sequence >> 7 & 0x7F | 0x80
                    event.stamp = bytes((0x40, low, middle, sequence >> 14)) + wire
                else:
                    event.stamp = b"\x40" + varint(sequence) + wire
            else:
                stamp = event.worker_timestamp  # type: ignore[union-attr]
                stamp.seconds = seconds
                stamp.nanos = nanos
        self.sequence = sequence

    def _deliver(self, batch: list[AnyEvent]) -> None:
        sink = self._batch_sink() if self._batch_sink is not None else None
        if sink is not None:
            try:
                sink(batch)
            except Exception:  # a failing sink must not stop delivery
                _log.exception(
                    "event sink failed on events %d..%d",
                    batch[0].worker_sequence,
                    batch[-1].worker_sequence,
                )
            return
        for event in batch:
            try:
                self._sink(event.message() if type(event) is WireEvent else event)  # type: ignore[arg-type]
            except Exception:  # a failing sink must not stop delivery
                _log.exception("event sink failed on event %d", event.worker_sequence)

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
