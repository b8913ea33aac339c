"""Protobuf wire encoding by hand, for the event hot path.

The wire format is a concatenation of fields, each a tag followed by its value; a
length-delimited field (a message) is tag + varint length + the message's bytes. So an
``MxEventBatch`` is, for every event, the tag of field 1, the event's length and the
event's own serialization: :func:`encode_event_batch` writes exactly those bytes without
building (and deep-copying every event into) an ``MxEventBatch`` message. The result is
byte for byte what ``MxEventBatch(events=events).SerializeToString()`` produces.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from mxgateway.generated import mxaccess_gateway_pb2 as pb

__all__ = ["encode_event_batch", "int32_field", "varint"]

#: Wire type 2 (length-delimited) of MxEventBatch.events (field 1).
_EVENTS_TAG = 0x0A
_MASK64 = (1 << 64) - 1


def varint(value: int) -> bytes:
    """The base-128 varint of ``value``; negative numbers as 64-bit two's complement
    (how protobuf writes a negative int32 or int64)."""
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


#: tag + length prefix of an event inside a batch, by event length (events are short).
_PREFIXES = [bytes((_EVENTS_TAG,)) + varint(n) for n in range(16_384)]


@lru_cache(maxsize=4096)
def _long_prefix(length: int) -> bytes:
    return bytes((_EVENTS_TAG,)) + varint(length)


def encode_event_batch(events: Iterable[pb.MxEvent]) -> bytes:
    """The serialized ``MxEventBatch`` carrying ``events`` (each serialized once)."""
    prefixes = _PREFIXES
    parts: list[bytes] = []
    append = parts.append
    for event in events:
        data = event.SerializeToString()
        size = len(data)
        append(prefixes[size] if size < 16_384 else _long_prefix(size))
        append(data)
    return b"".join(parts)
