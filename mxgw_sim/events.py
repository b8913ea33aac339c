"""Per-session event fan-out: the replay ring, the subscriber queue and DrainEvents.

Every event a session's worker produces goes through one :class:`EventHub`, one at a time
(:meth:`EventHub.publish`) or as the list one worker pass delivered
(:meth:`EventHub.publish_many`: one clock reading and one subscriber wake-up per list).
Events are generated messages or data changes as bytes (:data:`~mxgw_sim.wire.WireEvent`):
streams and DrainEvents turn the latter into messages only where a message is needed. The hub

* stamps ``gateway_receive_timestamp`` and keeps the event in a replay ring (the last
  ``ring_size`` events, none older than ``ring_seconds``);
* hands it to the session's one subscriber (a StreamEvents or StreamEventBatches call), whose
  queue holds at most ``queue_limit`` events: a subscriber that falls further behind is
  disconnected with :class:`QueueOverflow` and the hub's ``on_overflow`` callback runs;
* while no stream is attached, keeps the events in the ring only: they are *pending* until a
  stream or DrainEvents takes them. A stream attached with ``after_worker_sequence = 0``
  starts with the pending events still in the ring (no sentinel); DrainEvents returns them.

Resuming with a non-zero ``after_worker_sequence`` replays from the ring without a gap when
the ring still holds the next event, and otherwise starts with exactly one replay-gap
sentinel (family UNSPECIFIED, no body) followed by everything the ring holds.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence
from itertools import repeat

import grpc

from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgw_sim.wire import (
    AnyEvent,
    WireEvent,
    as_message,
    change_events,
    is_gap,
    sequence_of,
    timestamp_field,
)

#: What the ring and a subscriber hold: generated messages and stamped wire events.
StoredEvent = pb.MxEvent | WireEvent

DEFAULT_RING_SIZE = 1024
DEFAULT_RING_SECONDS = 300.0
DEFAULT_QUEUE_LIMIT = 10_000


class StreamEnded(Exception):
    """Raised inside a subscriber's iterator when the hub ended its stream.

    ``code`` is the gRPC status the stream ends with; ``None`` ends it cleanly (OK).
    """

    def __init__(self, reason: str, code: grpc.StatusCode | None = grpc.StatusCode.UNAVAILABLE):
        self.reason = reason
        self.code = code
        super().__init__(reason)


class QueueOverflow(StreamEnded):
    """The subscriber fell more than ``queue_limit`` events behind and was disconnected."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, grpc.StatusCode.RESOURCE_EXHAUSTED)


class SubscriberExists(Exception):
    """The session already has an attached event stream."""


def _stamp(event: pb.MxEvent, seconds: int, nanos: int) -> None:
    """Set ``gateway_receive_timestamp`` (field by field: far cheaper than ``CopyFrom``)."""
    stamp = event.gateway_receive_timestamp
    stamp.seconds = seconds
    stamp.nanos = nanos


def sentinel(requested_after: int, oldest_available: int) -> pb.MxEvent:
    """The replay-gap sentinel: ``replay_gap`` set, family UNSPECIFIED, no body."""
    event = pb.MxEvent()
    event.replay_gap.requested_after_sequence = requested_after
    event.replay_gap.oldest_available_sequence = oldest_available
    _stamp(event, *divmod(time.time_ns(), 1_000_000_000))
    return event


class Subscription:
    """One attached stream's view of the hub: a FIFO of events waiting to be sent."""

    def __init__(
        self,
        hub: EventHub,
        initial: list[StoredEvent],
        gone: Callable[[], bool] | None = None,
    ) -> None:
        self._hub = hub
        self._gone = gone
        #: The queue: a list read from ``_head`` on (taking a batch is one slice, and the
        #: list is compacted once the read part outgrows the rest).
        self._buffer: list[StoredEvent] = initial
        self._head = 0
        self._wake = asyncio.Event()
        self._ended: StreamEnded | None = None
        if initial:
            self._wake.set()

    @property
    def backlog(self) -> int:
        """Events queued for this subscriber and not yet taken."""
        return len(self._buffer) - self._head

    @property
    def gone(self) -> bool:
        """Whether the client already cancelled the call (its handler may not know yet)."""
        return self._gone is not None and self._gone()

    @property
    def ended(self) -> StreamEnded | None:
        """Why the hub ended this stream, or ``None`` while it is live."""
        return self._ended

    def _push_many(self, events: list[StoredEvent]) -> bool:
        """Queue ``events`` with one wake-up; returns False on overflow.

        On overflow the events that still fit are queued, as one-at-a-time pushes would;
        the stream ends anyway, so none of them is sent.
        """
        buffer = self._buffer
        room = self._hub.queue_limit - (len(buffer) - self._head)
        if room >= len(events):
            buffer.extend(events)
            self._wake.set()
            return True
        if room > 0:
            buffer.extend(events[:room])
        return False

    def end(self, reason: StreamEnded) -> None:
        """End the stream: the next :meth:`next_batch` raises ``reason``."""
        if self._ended is None:
            self._ended = reason
        self._wake.set()

    async def next_batch(self, max_events: int, max_delay: float = 0.0) -> list[StoredEvent]:
        """Wait for at least one event and take up to ``max_events`` of them (as published:
        messages, or wire events, which :func:`~mxgw_sim.wire.as_message` turns into one).

        With ``max_delay`` > 0 a partial batch waits up to that long for more events.
        Raises :class:`StreamEnded` once the hub has ended the stream.
        """
        while True:
            if self._ended is not None:
                raise self._ended
            if self.backlog:
                break
            self._wake.clear()
            await self._wake.wait()
        if max_delay > 0 and self.backlog < max_events:
            deadline = time.monotonic() + max_delay
            while self.backlog < max_events and self._ended is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), remaining)
                except TimeoutError:
                    break
        buffer, head = self._buffer, self._head
        end = head + max_events
        if end >= len(buffer):
            batch = buffer[head:] if head else buffer
            self._buffer, self._head = [], 0
        else:
            batch = buffer[head:end]
            if end > 4096 and end * 2 > len(buffer):
                del buffer[:end]
                end = 0
            self._head = end
        self._hub._delivered(batch)
        return batch

    def detach(self) -> None:
        """Leave the hub (the stream call ended); events stay in the ring."""
        self._hub._detach(self)


class EventHub:
    """The replay ring and the single subscriber slot of one session."""

    def __init__(
        self,
        *,
        ring_size: int = DEFAULT_RING_SIZE,
        ring_seconds: float = DEFAULT_RING_SECONDS,
        queue_limit: int = DEFAULT_QUEUE_LIMIT,
        on_overflow: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ring_size = ring_size
        self.ring_seconds = ring_seconds
        self.queue_limit = queue_limit
        self.on_overflow = on_overflow
        self._clock = clock
        self._ring: deque[tuple[float, StoredEvent]] = deque(maxlen=ring_size)
        self._last_sequence = 0
        self._delivered_upto = 0
        self._subscriber: Subscription | None = None
        self.detached_at: float | None = None
        self.closed = False

    # ------------------------------------------------------------------ state
    @property
    def last_sequence(self) -> int:
        """worker_sequence of the newest event seen."""
        return self._last_sequence

    @property
    def attached(self) -> bool:
        """Whether a stream is attached now."""
        return self._subscriber is not None

    @property
    def pending(self) -> int:
        """Events not yet delivered: the subscriber's backlog, or the undelivered ring events."""
        if self._subscriber is not None:
            return self._subscriber.backlog
        return sum(1 for _, ev in self._ring if sequence_of(ev) > self._delivered_upto)

    @property
    def oldest_sequence(self) -> int:
        """worker_sequence of the oldest event in the ring (last + 1 when empty)."""
        self._trim()
        return sequence_of(self._ring[0][1]) if self._ring else self._last_sequence + 1

    # ---------------------------------------------------------------- publish
    def publish(self, event: AnyEvent) -> None:
        """Take one event from the worker: stamp it, ring it, queue it for the subscriber."""
        self.publish_many([event])

    def publish_many(self, events: Sequence[AnyEvent]) -> None:
        """Take the events of one worker pass (in sequence order) as :meth:`publish` would
        one by one, reading the clocks once and waking the subscriber once."""
        if self.closed or not events:
            return
        now = self._clock()
        seconds, nanos = divmod(time.time_ns(), 1_000_000_000)
        received = timestamp_field(11, seconds, nanos)
        stamped: list[StoredEvent] = []
        last = self._last_sequence
        for event in events:
            if type(event) is tuple:
                if len(event) == 6:  # a numbered change: all its events in one go
                    finished = change_events(event, received)
                    stamped.extend(finished)
                    sequence = finished[-1][0]
                else:
                    sequence = event[0]
                    stamped.append(event)
            else:
                if not event.HasField("gateway_receive_timestamp"):  # type: ignore[union-attr]
                    stamp_message = event.gateway_receive_timestamp  # type: ignore[union-attr]
                    stamp_message.seconds = seconds
                    stamp_message.nanos = nanos
                sequence = event.worker_sequence  # type: ignore[union-attr]
                stamped.append(event)  # type: ignore[arg-type]
            if sequence > last:
                last = sequence
        self._last_sequence = last
        # The ring keeps at most ring_size events (its deque drops the oldest).
        kept = stamped if len(stamped) <= self.ring_size else stamped[-self.ring_size :]
        self._ring.extend(zip(repeat(now), kept))
        self._trim(now)
        sub = self._subscriber
        if sub is not None and not sub._push_many(stamped):
            self._overflow(sub, now)

    def _overflow(self, sub: Subscription, now: float) -> None:
        self._subscriber = None
        self.detached_at = now
        sub.end(
            QueueOverflow(
                f"event queue overflow: the client fell more than {self.queue_limit} events behind"
            )
        )
        if self.on_overflow is not None:
            self.on_overflow()

    def _trim(self, now: float | None = None) -> None:
        now = self._clock() if now is None else now
        ring = self._ring
        horizon = now - self.ring_seconds
        while ring and ring[0][0] < horizon:
            ring.popleft()

    # -------------------------------------------------------------- subscribe
    def attach(self, after_sequence: int, gone: Callable[[], bool] | None = None) -> Subscription:
        """Attach the session's one stream, replaying from ``after_sequence``.

        ``0`` starts with the pending (never delivered) events still in the ring. A non-zero
        value replays every ring event after it, preceded by one sentinel when the ring no
        longer holds ``after_sequence + 1``. Raises :class:`SubscriberExists` when a live
        stream is already attached; one whose client already cancelled (``gone``) is replaced.
        """
        if self._subscriber is not None:
            if not self._subscriber.gone:
                raise SubscriberExists("the session already has an event stream")
            self.end_stream(StreamEnded("replaced by a new stream", grpc.StatusCode.CANCELLED))
        self._trim()
        initial: list[StoredEvent] = []
        if after_sequence == 0:
            start = self._delivered_upto
        else:
            start = after_sequence
            oldest = self.oldest_sequence
            if after_sequence < self._last_sequence and oldest > after_sequence + 1:
                initial.append(sentinel(after_sequence, oldest))
        initial.extend(ev for _, ev in self._ring if sequence_of(ev) > start)
        sub = Subscription(self, initial, gone)
        self._subscriber = sub
        self.detached_at = None
        return sub

    def _detach(self, sub: Subscription) -> None:
        if self._subscriber is sub:
            self._subscriber = None
            self.detached_at = self._clock()

    def _delivered(self, batch: list[StoredEvent]) -> None:
        for event in reversed(batch):
            if not is_gap(event):
                self._delivered_upto = max(self._delivered_upto, sequence_of(event))
                break

    def end_stream(self, reason: StreamEnded) -> bool:
        """End the attached stream, if any; returns whether there was one."""
        sub = self._subscriber
        if sub is None:
            return False
        self._subscriber = None
        self.detached_at = self._clock()
        sub.end(reason)
        return True

    # ------------------------------------------------------------------ drain
    def drain(self, max_events: int) -> list[pb.MxEvent]:
        """DrainEvents: the pending events in order (never a sentinel), at most ``max_events``.

        ``max_events`` <= 0 means all. While a stream is attached its events belong to the
        stream and this returns nothing.
        """
        if self._subscriber is not None:
            return []
        self._trim()
        out = [ev for _, ev in self._ring if sequence_of(ev) > self._delivered_upto]
        if max_events > 0:
            out = out[:max_events]
        if out:
            self._delivered_upto = sequence_of(out[-1])
        return [as_message(ev) for ev in out]

    def close(self, reason: StreamEnded) -> None:
        """The session closed: end the stream and drop the ring."""
        self.end_stream(reason)
        self.closed = True
        self._ring.clear()
