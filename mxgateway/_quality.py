"""OPC DA style quality as MXAccess reports it.

MXAccess puts the OPC DA quality in the low byte (bit 16 is sometimes set too), so every
classification here looks at ``quality & 0xFF``: bits 7-6 the class, 5-2 the sub-status,
1-0 the limit.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Quality", "QualityClass", "QualityLimit"]


class QualityClass(enum.IntEnum):
    """Bits 7-6 of the quality byte."""

    BAD = 0
    UNCERTAIN = 64
    GOOD = 192
    # 128 is not assigned by OPC DA; MXAccess should never send it.
    INVALID = 128

    @property
    def label(self) -> str:
        """Capitalised name, e.g. ``"Uncertain"``."""
        return self.name.capitalize()


class QualityLimit(enum.IntEnum):
    """Bits 1-0 of the quality byte."""

    NONE = 0
    LOW = 1
    HIGH = 2
    CONSTANT = 3


# Sub-status texts keyed by the low byte without the limit bits.
_SUBSTATUS: dict[int, str] = {
    0: "non-specific",
    4: "configuration error",
    8: "not connected",
    12: "device failure",
    16: "sensor failure",
    20: "last known value",
    24: "communication failure",
    28: "out of service",
    32: "waiting for initial data",
    64: "non-specific",
    68: "last usable value",
    80: "sensor not accurate",
    84: "engineering units exceeded",
    88: "sub-normal",
    192: "non-specific",
    216: "local override",
}


@dataclass(frozen=True, slots=True)
class Quality:
    """A quality word with helpers: ``Quality(24).name == "Bad: communication failure"``."""

    value: int

    @property
    def low_byte(self) -> int:
        """The OPC DA part (``value & 0xFF``)."""
        return self.value & 0xFF

    @property
    def quality_class(self) -> QualityClass:
        """Good, Uncertain or Bad."""
        return QualityClass(self.low_byte & 0xC0)

    @property
    def is_good(self) -> bool:
        """True when the class is Good."""
        return self.quality_class is QualityClass.GOOD

    @property
    def is_uncertain(self) -> bool:
        """True when the class is Uncertain."""
        return self.quality_class is QualityClass.UNCERTAIN

    @property
    def is_bad(self) -> bool:
        """True when the class is Bad (or the unassigned class 128)."""
        return self.quality_class in (QualityClass.BAD, QualityClass.INVALID)

    @property
    def substatus(self) -> int:
        """Bits 5-2, shifted down (0-15)."""
        return (self.low_byte >> 2) & 0x0F

    @property
    def limit(self) -> QualityLimit:
        """Bits 1-0: none, low, high or constant."""
        return QualityLimit(self.low_byte & 0x03)

    @property
    def substatus_text(self) -> str:
        """The sub-status in words, e.g. ``"communication failure"``."""
        key = self.low_byte & 0xFC
        return _SUBSTATUS.get(key, f"sub-status {self.substatus}")

    @property
    def name(self) -> str:
        """E.g. ``"Good"``, ``"Bad: communication failure"``, ``"Uncertain: sub-normal (low)"``."""
        text = self.quality_class.label
        if (self.low_byte & 0xFC) not in (0, 64, 192):
            text += f": {self.substatus_text}"
        if self.limit is not QualityLimit.NONE:
            text += f" ({self.limit.name.lower()})"
        return text

    def __int__(self) -> int:
        return self.value

    def __str__(self) -> str:
        return self.name
