"""MXAccess status records (MXSTATUS_PROXY) as Python values.

The wire enums are the MXAccess numbers shifted by two (so that 0 can be UNSPECIFIED); the
Python enums here use the MXAccess numbers themselves, named as MXAccess names them, so code
reads like the MXAccess documentation and the raw COM numbers stay comparable.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable
from dataclasses import dataclass

from mxgateway.generated import mxaccess_gateway_pb2 as pb

__all__ = ["MxStatus", "MxStatusCategory", "MxStatusSource"]

# Wire enum value = MXAccess number + 2 (0 is UNSPECIFIED).
_WIRE_OFFSET = 2


@functools.cache
def _label(name: str) -> str:
    # Cached: events ask for labels once per status, and the names are few.
    return "".join(part.capitalize() for part in name.split("_"))


class MxStatusCategory(enum.IntEnum):
    """MXAccess status category (``MxStatusCategory``); values are the MXAccess numbers."""

    UNSPECIFIED = -2
    UNKNOWN = -1
    OK = 0
    PENDING = 1
    WARNING = 2
    COMMUNICATION_ERROR = 3
    CONFIGURATION_ERROR = 4
    OPERATIONAL_ERROR = 5
    SECURITY_ERROR = 6
    SOFTWARE_ERROR = 7
    OTHER_ERROR = 8

    @property
    def label(self) -> str:
        """The MXAccess spelling, e.g. ``"OperationalError"``."""
        return "Ok" if self is MxStatusCategory.OK else _label(self.name)

    @property
    def is_error(self) -> bool:
        """True for the categories that mean the operation failed."""
        return self.value >= MxStatusCategory.COMMUNICATION_ERROR

    @property
    def wire(self) -> int:
        """The ``mxaccess_gateway.v1.MxStatusCategory`` number."""
        return self.value + _WIRE_OFFSET

    @classmethod
    def from_wire(cls, number: int) -> MxStatusCategory:
        """Map a wire enum number; unknown future numbers become ``UNKNOWN``."""
        # A dict lookup: this runs for every status of every event.
        return _CATEGORY_BY_WIRE.get(number, MxStatusCategory.UNKNOWN)

    @classmethod
    def from_raw(cls, number: int) -> MxStatusCategory:
        """Map a raw MXAccess category number."""
        try:
            return cls(number)
        except ValueError:
            return cls.UNKNOWN


class MxStatusSource(enum.IntEnum):
    """Which MXAccess component detected a status (``detectedBy``); MXAccess numbers."""

    UNSPECIFIED = -2
    UNKNOWN = -1
    REQUESTING_LMX = 0
    RESPONDING_LMX = 1
    REQUESTING_NMX = 2
    RESPONDING_NMX = 3
    REQUESTING_AUTOMATION_OBJECT = 4
    RESPONDING_AUTOMATION_OBJECT = 5

    @property
    def label(self) -> str:
        """The MXAccess spelling, e.g. ``"RespondingAutomationObject"``."""
        return _label(self.name)

    @property
    def wire(self) -> int:
        """The ``mxaccess_gateway.v1.MxStatusSource`` number."""
        return self.value + _WIRE_OFFSET

    @classmethod
    def from_wire(cls, number: int) -> MxStatusSource:
        """Map a wire enum number; unknown future numbers become ``UNKNOWN``."""
        return _SOURCE_BY_WIRE.get(number, MxStatusSource.UNKNOWN)

    @classmethod
    def from_raw(cls, number: int) -> MxStatusSource:
        """Map a raw MXAccess detected-by number."""
        try:
            return cls(number)
        except ValueError:
            return cls.UNKNOWN


_CATEGORY_BY_WIRE = {member.value + _WIRE_OFFSET: member for member in MxStatusCategory}
_SOURCE_BY_WIRE = {member.value + _WIRE_OFFSET: member for member in MxStatusSource}


@dataclass(frozen=True, slots=True)
class MxStatus:
    """One MXAccess status: the mapped enums plus the raw COM numbers, as data."""

    success: int
    category: MxStatusCategory
    detected_by: MxStatusSource
    detail: int = 0
    raw_category: int = 0
    raw_detected_by: int = 0
    diagnostic_text: str = ""

    @property
    def ok(self) -> bool:
        """MXAccess success flag (non-zero means success) and not an error category."""
        return self.success != 0 and not self.category.is_error

    @property
    def failed(self) -> bool:
        """True when this status reports a failure."""
        return not self.ok

    @classmethod
    def from_proto(cls, msg: pb.MxStatusProxy) -> MxStatus:
        """Build from an ``MxStatusProxy`` message.

        Every event carries statuses and nearly all are the same few, so equal ones share
        one (immutable) instance: building a frozen dataclass costs more than the lookup.
        """
        key = (
            msg.success,
            msg.category,
            msg.detected_by,
            msg.detail,
            msg.raw_category,
            msg.raw_detected_by,
            msg.diagnostic_text,
        )
        status = _STATUS_CACHE.get(key) if cls is MxStatus else None
        if status is None:
            status = cls(
                success=key[0],
                category=MxStatusCategory.from_wire(key[1]),
                detected_by=MxStatusSource.from_wire(key[2]),
                detail=key[3],
                raw_category=key[4],
                raw_detected_by=key[5],
                diagnostic_text=key[6],
            )
            if cls is MxStatus:
                if len(_STATUS_CACHE) >= _STATUS_CACHE_SIZE:
                    _STATUS_CACHE.clear()
                _STATUS_CACHE[key] = status
        return status

    @classmethod
    def ok_status(cls, detected_by: MxStatusSource = MxStatusSource.RESPONDING_LMX) -> MxStatus:
        """The status MXAccess reports for a plain success (success -1, category Ok)."""
        return cls(
            success=-1,
            category=MxStatusCategory.OK,
            detected_by=detected_by,
            raw_category=int(MxStatusCategory.OK),
            raw_detected_by=int(detected_by),
        )

    def to_proto(self) -> pb.MxStatusProxy:
        """Build the ``MxStatusProxy`` message (used by servers and fixtures)."""
        return pb.MxStatusProxy(
            success=self.success,
            category=self.category.wire,  # type: ignore[arg-type]
            detected_by=self.detected_by.wire,  # type: ignore[arg-type]
            detail=self.detail,
            raw_category=self.raw_category,
            raw_detected_by=self.raw_detected_by,
            diagnostic_text=self.diagnostic_text,
        )

    def describe(self) -> str:
        """One line for messages: ``SecurityError detected by RespondingLmx, detail 321``."""
        text = f"{self.category.label} detected by {self.detected_by.label}, detail {self.detail}"
        if self.diagnostic_text:
            text += f" ({self.diagnostic_text})"
        return text


_STATUS_CACHE_SIZE = 1024
_STATUS_CACHE: dict[tuple[int, int, int, int, int, int, str], MxStatus] = {}


def statuses_from_proto(messages: Iterable[pb.MxStatusProxy]) -> list[MxStatus]:
    """Convert a repeated ``MxStatusProxy`` field."""
    return [MxStatus.from_proto(m) for m in messages]


def first_failure(statuses: Iterable[MxStatus]) -> MxStatus | None:
    """The first status that reports a failure, or None."""
    for status in statuses:
        if status.failed:
            return status
    return None
