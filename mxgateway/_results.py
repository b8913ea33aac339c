"""Typed results of session commands; each keeps the raw protobuf message as ``.raw``."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from mxgateway._quality import Quality
from mxgateway._status import MxStatus, statuses_from_proto
from mxgateway._values import from_mx_value
from mxgateway.generated import mxaccess_gateway_pb2 as pb

__all__ = ["BulkReadResult", "BulkWriteResult", "SessionState", "SubscribeResult", "WriteEntry"]


class SessionState(enum.IntEnum):
    """Lifecycle of a gateway session (values are the wire numbers)."""

    UNSPECIFIED = 0
    OPENING = 1
    READY = 2
    FAULTED = 3
    CLOSING = 4
    CLOSED = 5

    @classmethod
    def from_wire(cls, number: int) -> SessionState:
        """Map a wire number; unknown numbers become UNSPECIFIED."""
        try:
            return cls(number)
        except ValueError:
            return cls.UNSPECIFIED


@dataclass(frozen=True, slots=True)
class SubscribeResult:
    """One entry of a bulk add/advise/subscribe/unsubscribe reply, in input order."""

    server_handle: int
    tag_address: str
    item_handle: int
    was_successful: bool
    error_message: str
    raw: pb.SubscribeResult

    @classmethod
    def from_proto(cls, msg: pb.SubscribeResult) -> SubscribeResult:
        """Build from the raw message."""
        return cls(
            msg.server_handle,
            msg.tag_address,
            msg.item_handle,
            msg.was_successful,
            msg.error_message,
            msg,
        )


@dataclass(frozen=True, slots=True)
class BulkWriteResult:
    """One entry of a bulk write reply, in input order."""

    item_handle: int
    was_successful: bool
    error_message: str
    hresult: int
    statuses: list[MxStatus]
    raw: pb.BulkWriteResult

    @classmethod
    def from_proto(cls, msg: pb.BulkWriteResult) -> BulkWriteResult:
        """Build from the raw message."""
        return cls(
            msg.item_handle,
            msg.was_successful,
            msg.error_message,
            msg.hresult,
            statuses_from_proto(msg.statuses),
            msg,
        )


@dataclass(frozen=True, slots=True)
class BulkReadResult:
    """The current value of one item from ``read_bulk``."""

    tag_address: str
    item_handle: int
    was_successful: bool
    was_cached: bool
    value: Any
    quality: Quality
    timestamp: datetime | None
    statuses: list[MxStatus]
    error_message: str
    raw: pb.BulkReadResult

    @classmethod
    def from_proto(cls, msg: pb.BulkReadResult) -> BulkReadResult:
        """Build from the raw message (the value is decoded with ``from_mx_value``)."""
        ts = msg.timestamp
        when = (
            datetime(1970, 1, 1, tzinfo=UTC)
            + timedelta(seconds=ts.seconds, microseconds=ts.nanos // 1000)
            if msg.HasField("timestamp")
            else None
        )
        return cls(
            msg.tag_address,
            msg.item_handle,
            msg.was_successful,
            msg.was_cached,
            from_mx_value(msg.value),
            Quality(msg.quality),
            when,
            statuses_from_proto(msg.statuses),
            msg.error_message,
            msg,
        )


@dataclass(frozen=True, slots=True)
class WriteEntry:
    """One write of a bulk write: the item, the value (``type=`` as in ``to_mx_value``), and
    what the variant needs: ``user_id`` (write), ``timestamp`` (the *2 variants),
    ``current_user_id`` / ``verifier_user_id`` (the secured variants)."""

    item_handle: int
    value: Any
    type: Any = None
    user_id: int = 0
    timestamp: datetime | None = None
    current_user_id: int = 0
    verifier_user_id: int = 0
