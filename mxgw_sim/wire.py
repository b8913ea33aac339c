"""Protobuf wire encoding by hand, for the event hot path.

The wire format is a concatenation of fields, each a tag followed by its value; a
length-delimited field (a message) is tag + varint length + the message's bytes, and the
generated classes write fields in field-number order. So an ``MxEventBatch`` is, for every
event, the tag of field 1, the event's length and the event's own serialization:
:func:`encode_event_batch` writes exactly those bytes without building (and deep-copying
every event into) an ``MxEventBatch`` message. The result is byte for byte what
``MxEventBatch(events=events).SerializeToString()`` produces.

A data change is kept as bytes from the moment it is made (one :data:`NumberedChange` per
attribute change, then a :data:`WireEvent` per event): the parts of the event shared by
every item advising the changed attribute are serialized once, and each item's event is
those parts joined with its handles, its worker_sequence and the two stamps, in
field-number order, so again exactly what the generated classes would write.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from itertools import repeat
from operator import itemgetter

from mxgateway.generated import mxaccess_gateway_pb2 as pb

__all__ = [
    "SEQUENCE_FIELDS",
    "AnyEvent",
    "NumberedChange",
    "WireEvent",
    "as_message",
    "change_events",
    "change_messages",
    "encode_event_batch",
    "int32_field",
    "is_gap",
    "messages",
    "sequence_field",
    "sequence_of",
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


#: The data changes of one attribute change, numbered by the pump: (the first event's
#: worker_sequence, the fields before the handles (the family), each event's handle fields
#: (2 and 3), the fields after them up to 7 (value to statuses), field 9 (the worker
#: timestamp, one for the pass), the fields after 11 (the body)). Only the handles differ
#: between the events: one tuple per change, and the hub writes each event in one join.
NumberedChange = tuple[int, bytes, list[bytes], bytes, bytes, bytes]
#: A data change the hub has stamped: (worker_sequence, the whole event's bytes).
WireEvent = tuple[int, bytes]
#: What flows from a worker to a stream: generated messages, or data changes as bytes
#: (plain tuples: cheaper to make than any object).
AnyEvent = pb.MxEvent | NumberedChange | WireEvent


def sequence_field(sequence: int) -> bytes:
    """MxEvent field 8 (worker_sequence) on the wire."""
    if 0 <= sequence < _SHORT_SEQUENCES:
        return SEQUENCE_FIELDS[sequence]
    return b"\x40" + varint(sequence)


_SHORT_SEQUENCES = 1 << 14
#: Field 8 for the sequences with a varint of one or two bytes, made once.
SEQUENCE_FIELDS = [b"\x40" + varint(n) for n in range(_SHORT_SEQUENCES)]
#: Field 8's tag and the first two bytes of the varint of a sequence of 2**14 or more, by
#: the sequence's low 14 bits (the rest of the varint is ``varint(sequence >> 14)``).
_LONG_SEQUENCE_HEADS = [
    bytes((0x40, n & 0x7F | 0x80, n >> 7 & 0x7F | 0x80)) for n in range(_SHORT_SEQUENCES)
]


def change_events(change: NumberedChange, received: bytes) -> list[WireEvent]:
    """The hub's part: each event of ``change`` completed with its worker_sequence and
    ``received`` (field 11), in field-number order.

    The loops run in C (``map``/``zip`` over slices of the prepared sequence fields): each
    run of sequences sharing the varint's upper part is one join per event and no bytecode.
    """
    first, before, handles, after_handles, stamp, tail = change
    suffix = stamp + received + tail
    count = len(handles)
    join = b"".join
    pre, mid = repeat(before), repeat(after_handles)
    if first + count <= _SHORT_SEQUENCES:  # the common case before 16,384 events
        fields = SEQUENCE_FIELDS[first : first + count]
        texts = map(join, zip(pre, handles, mid, fields, repeat(suffix)))
        return list(zip(range(first, first + count), texts, strict=True))
    out: list[WireEvent] = []
    done = 0
    while done < count:
        sequence = first + done
        if sequence < _SHORT_SEQUENCES:
            run = min(count - done, _SHORT_SEQUENCES - sequence)
            fields = SEQUENCE_FIELDS[sequence : sequence + run]
            after = suffix
        else:
            low = sequence & (_SHORT_SEQUENCES - 1)
            run = min(count - done, _SHORT_SEQUENCES - low)
            fields = _LONG_SEQUENCE_HEADS[low : low + run]
            after = varint(sequence >> 14) + suffix
        texts = map(join, zip(pre, handles[done : done + run], mid, fields, repeat(after)))
        out.extend(zip(range(sequence, sequence + run), texts, strict=True))
        done += run
    return out


def change_messages(change: NumberedChange) -> list[pb.MxEvent]:
    """The events of ``change`` as generated messages (no receive timestamp yet)."""
    return [pb.MxEvent.FromString(data) for _, data in change_events(change, b"")]


def wire_bytes(event: WireEvent) -> bytes:
    """The serialized event."""
    return event[1]


def sequence_of(event: AnyEvent) -> int:
    """The worker_sequence of any event; of a numbered change, its last event's."""
    if type(event) is tuple:
        if len(event) == 2:
            return int(event[0])
        return int(event[0]) + len(event[2]) - 1
    return int(event.worker_sequence)  # type: ignore[union-attr]


def is_gap(event: AnyEvent) -> bool:
    """Whether ``event`` is the replay-gap sentinel (never a wire event)."""
    return type(event) is not tuple and event.HasField("replay_gap")  # type: ignore[union-attr]


def as_message(event: pb.MxEvent | WireEvent) -> pb.MxEvent:
    """``event`` as a generated message (a new one for a wire event)."""
    if type(event) is tuple:
        return pb.MxEvent.FromString(event[1])
    return event  # type: ignore[return-value]


def messages(events: Iterable[AnyEvent]) -> Iterator[pb.MxEvent]:
    """``events`` as generated messages, one per event (a numbered change gives several)."""
    for event in events:
        if type(event) is tuple and len(event) == 6:
            yield from change_messages(event)
        else:
            yield as_message(event)  # type: ignore[arg-type]


#: tag + length prefix of an event inside a batch, by event length (events are short).
_PREFIXES = [bytes((_EVENTS_TAG,)) + varint(n) for n in range(16_384)]


@lru_cache(maxsize=4096)
def _long_prefix(length: int) -> bytes:
    return bytes((_EVENTS_TAG,)) + varint(length)


_SECOND = itemgetter(1)


def encode_event_batch(events: Sequence[pb.MxEvent | WireEvent]) -> bytes:
    """The serialized ``MxEventBatch`` carrying ``events`` (messages serialized once, wire
    events as they are).

    A batch of wire events only (the usual case) is framed in C: the events' bytes, their
    lengths and length prefixes are taken with ``map``, and one join writes the batch.
    """
    try:
        texts = list(map(_SECOND, events))  # type: ignore[arg-type]  # a message: TypeError
        parts = texts * 2  # prefix, event, prefix, event...: no tuple per event
        parts[1::2] = texts
        parts[0::2] = map(_PREFIXES.__getitem__, map(len, texts))  # a long event: IndexError
        return b"".join(parts)
    except (TypeError, IndexError):
        pass
    pieces: list[bytes] = []
    append = pieces.append
    for event in events:
        data = event[1] if type(event) is tuple else event.SerializeToString()  # type: ignore[union-attr]
        size = len(data)
        append(_PREFIXES[size] if size < 16_384 else _long_prefix(size))
        append(data)
    return b"".join(pieces)
