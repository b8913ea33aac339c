"""Protobuf wire encoding by hand, for the event hot path.

The wire format is a concatenation of fields, each a tag followed by its value; a
length-delimited field (a message) is tag + varint length + the message's bytes, and the
generated classes write fields in field-number order. So an ``MxEventBatch`` is, for every
event, the tag of field 1, the event's length and the event's own serialization:
:func:`encode_event_batch` writes exactly those bytes without building (and deep-copying
every event into) an ``MxEventBatch`` message. The result is byte for byte what
``MxEventBatch(events=events).SerializeToString()`` produces.

A data change is kept as bytes from the moment it is made (:data:`NumberedEvent`, then
:data:`WireEvent`): the parts of the event shared by every item advising the changed
attribute are serialized once, and each item's event is those parts joined with its
handles, its worker_sequence and the two stamps, in field-number order, so again exactly
what the generated classes would write.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from mxgateway.generated import mxaccess_gateway_pb2 as pb

__all__ = [
    "SEQUENCE_FIELDS",
    "AnyEvent",
    "NumberedEvent",
    "WireEvent",
    "as_message",
    "encode_event_batch",
    "int32_field",
    "is_gap",
    "sequence_field",
    "sequence_of",
    "stamp_wire",
    "timestamp_field",
    "varint",
    "wire_bytes",
]

#: Wire type 2 (length-delimited) of MxEventBatch.events (field 1).
_EVENTS_TAG = 0x0A
_MASK64 = (1 << 64) - 1
_SMALL = [bytes((n,)) for n in range(128)]


def varint(value: int) -> bytes:
    """The base-128 varint of ``value``; negative numbers as 64-bit two's complement
    (how protobuf writes a negative int32 or int64)."""
    if 0 <= value < 0x80:
        return _SMALL[value]
    if 0 < value < 0x10000000:  # the common sizes, without a loop
        if value < 0x4000:
            return bytes((value & 0x7F | 0x80, value >> 7))
        if value < 0x200000:
            return bytes((value & 0x7F | 0x80, value >> 7 & 0x7F | 0x80, value >> 14))
        return bytes(
            (value & 0x7F | 0x80, value >> 7 & 0x7F | 0x80, value >> 14 & 0x7F | 0x80, value >> 21)
        )
    value &= _MASK64
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def int32_field(number: int, value: int) -> bytes:
    """Field ``number`` of type int32 holding ``value`` (nothing for 0, as proto3 writes)."""
    if value == 0:
        return b""
    return varint(number << 3) + varint(value)


def timestamp_field(number: int, seconds: int, nanos: int) -> bytes:
    """Field ``number`` holding a ``google.protobuf.Timestamp`` (present even when zero)."""
    body = b""
    if seconds:
        body += b"\x08" + varint(seconds)
    if nanos:
        body += b"\x10" + varint(nanos)
    return varint(number << 3 | 2) + varint(len(body)) + body


#: A data change numbered by the pump: (worker_sequence, fields 1-7 (family to statuses,
#: handles included), field 9 (the worker timestamp), the fields after 11 (the body)).
NumberedEvent = tuple[int, bytes, bytes, bytes]
#: A data change the hub has stamped: (worker_sequence, the whole event's bytes).
WireEvent = tuple[int, bytes]
#: What flows from a worker to a stream: generated messages, or data changes as bytes
#: (plain tuples: cheaper to make than any object, one per event).
AnyEvent = pb.MxEvent | NumberedEvent | WireEvent


def sequence_field(sequence: int) -> bytes:
    """MxEvent field 8 (worker_sequence) on the wire."""
    if 0 <= sequence < _SHORT_SEQUENCES:
        return SEQUENCE_FIELDS[sequence]
    return b"\x40" + varint(sequence)


_SHORT_SEQUENCES = 1 << 14
#: Field 8 for the sequences with a varint of one or two bytes, made once.
SEQUENCE_FIELDS = [b"\x40" + varint(n) for n in range(_SHORT_SEQUENCES)]


def stamp_wire(event: NumberedEvent, received: bytes) -> WireEvent:
    """The hub's part: ``event`` completed with ``received`` (field 11 on the wire)."""
    sequence, head, stamp, tail = event
    return (sequence, b"".join((head, b"\x40", varint(sequence), stamp, received, tail)))


def wire_bytes(event: NumberedEvent | WireEvent) -> bytes:
    """The serialized event (a numbered one without its receive timestamp)."""
    if len(event) == 2:
        return event[1]
    sequence, head, stamp, tail = event
    return b"".join((head, sequence_field(sequence), stamp, tail))


def sequence_of(event: AnyEvent) -> int:
    """The worker_sequence of any event."""
    if type(event) is tuple:
        return int(event[0])
    return int(event.worker_sequence)  # type: ignore[union-attr]


def is_gap(event: AnyEvent) -> bool:
    """Whether ``event`` is the replay-gap sentinel (never a wire event)."""
    return type(event) is not tuple and event.HasField("replay_gap")  # type: ignore[union-attr]


def as_message(event: AnyEvent) -> pb.MxEvent:
    """``event`` as a generated message (a new one for a wire event)."""
    if type(event) is tuple:
        return pb.MxEvent.FromString(wire_bytes(event))
    return event  # type: ignore[return-value]


#: tag + length prefix of an event inside a batch, by event length (events are short).
_PREFIXES = [bytes((_EVENTS_TAG,)) + varint(n) for n in range(16_384)]


@lru_cache(maxsize=4096)
def _long_prefix(length: int) -> bytes:
    return bytes((_EVENTS_TAG,)) + varint(length)


def encode_event_batch(events: Iterable[AnyEvent]) -> bytes:
    """The serialized ``MxEventBatch`` carrying ``events`` (messages serialized once, wire
    events as they are)."""
    prefixes = _PREFIXES
    parts: list[bytes] = []
    append = parts.append
    for event in events:
        if type(event) is tuple:
            data = event[1] if len(event) == 2 else wire_bytes(event)
        else:
            data = event.SerializeToString()  # type: ignore[union-attr]
        size = len(data)
        append(prefixes[size] if size < 16_384 else _long_prefix(size))
        append(data)
    return b"".join(parts)
