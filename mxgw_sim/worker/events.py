"""Ordered event delivery: worker sequence numbers, worker timestamps and event latency.

Events are queued in the order the worker produces them and handed to the sink by one task,
which numbers them 1, 2, 3... as it delivers, so sequences stay contiguous and increasing
even when a latency fault delays delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgw_sim.galaxy.live import utc_timestamp
from mxgw_sim.galaxy.runtime import GalaxyRuntime

__all__ = ["EventPump", "EventSink"]

EventSink = Callable[[pb.MxEvent], None]
_log = logging.getLogger(__name__)


class EventPump:
    """Delivers queued events to a sink in order, each after the configured latency."""

    def __init__(self, sink: EventSink, runtime: GalaxyRuntime) -> None:
        self._sink = sink
        self._runtime = runtime
        self._queue: asyncio.Queue[tuple[float, pb.MxEvent]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.latency = 0.0
        self.sequence = 0
        self.closed = False

    def put(self, event: pb.MxEvent) -> None:
        """Queue an event for delivery."""
        if self.closed:
            return
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="mx-events")
        self._queue.put_nowait((time.monotonic() + self.latency, event))

    async def _run(self) -> None:
        while True:
            due, event = await self._queue.get()
            try:
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                self.sequence += 1
                event.worker_sequence = self.sequence
                event.worker_timestamp.CopyFrom(utc_timestamp(self._runtime.now()))
                try:
                    self._sink(event)
                except Exception:  # a failing sink must not stop delivery
                    _log.exception("event sink failed on event %d", self.sequence)
            finally:
                self._queue.task_done()

    def pending(self) -> int:
        """Events queued but not delivered yet."""
        return self._queue.qsize()

    async def drain(self) -> None:
        """Wait until every queued event has been delivered."""
        await self._queue.join()

    async def close(self) -> None:
        """Stop delivering; queued events are dropped."""
        self.closed = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
