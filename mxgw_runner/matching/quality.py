"""Quality matchers: a class, a named quality, a number or ``{class, substatus, limit}``.

Only the low byte (the OPC DA layout) is compared, through a mask, so a named
quality ignores the limit bits and a class ignores the sub-status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mxgw_runner.matching.names import (
    LIMIT_NAMES,
    LIMITS,
    NAMED_QUALITIES,
    QUALITY_CLASSES,
    quality_class,
    quality_name,
)
from mxgw_runner.matching.values import MatcherError, is_number


@dataclass(frozen=True, slots=True)
class QualityMatcher:
    """A compiled quality expectation; compares the low byte (bit 16 and up ignored)."""

    mask: int
    expected: int
    text: str

    def matches(self, quality: int | None) -> bool:
        return quality is not None and (quality & self.mask) == self.expected

    def explain(self, quality: int | None) -> str:
        if quality is None:
            return f"no quality (expected {self.text})"
        return f"quality {quality_name(quality)} is not {self.text}"

    def describe(self) -> str:
        return self.text


def compile_quality(spec: Any) -> QualityMatcher:
    """Compile ``quality:``: a class, a named quality, a number or ``{class, substatus, limit}``."""
    if isinstance(spec, str):
        name = spec.lower()
        if name in QUALITY_CLASSES:
            return QualityMatcher(0xC0, QUALITY_CLASSES[name], name)
        if name in NAMED_QUALITIES:
            code = NAMED_QUALITIES[name]
            return QualityMatcher(0xFC, code, f"{quality_class(code)}: {name}")
        raise MatcherError(f"unknown quality {spec!r}")
    if is_number(spec) and float(spec).is_integer():
        number = int(spec)
        if number > 0xFF:
            return QualityMatcher(0xFFFFFFFF, number, str(number))
        return QualityMatcher(0xFF, number, f"{number} ({quality_name(number).split(' (')[0]})")
    if isinstance(spec, Mapping):
        mask = expected = 0
        words: list[str] = []
        cls = spec.get("class")
        if cls is not None:
            if str(cls).lower() not in QUALITY_CLASSES:
                raise MatcherError(f"unknown quality class {cls!r}")
            mask |= 0xC0
            expected |= QUALITY_CLASSES[str(cls).lower()]
            words.append(str(cls).lower())
        sub = spec.get("substatus")
        if sub is not None:
            if isinstance(sub, str):
                if sub == "non-specific":
                    code = 0
                elif sub in NAMED_QUALITIES:
                    code = (NAMED_QUALITIES[sub] >> 2) & 0x0F
                else:
                    raise MatcherError(f"unknown quality sub-status {sub!r}")
            elif is_number(sub) and 0 <= int(sub) <= 15:
                code = int(sub)
            else:
                raise MatcherError(f"sub-status must be 0..15 or a name, not {sub!r}")
            mask |= 0x3C
            expected |= code << 2
            words.append(f"sub-status {sub}")
        limit = spec.get("limit")
        if limit is not None:
            if isinstance(limit, str) and limit in LIMITS:
                value = LIMITS[limit]
            elif is_number(limit) and 0 <= int(limit) <= 3:
                value = int(limit)
            else:
                raise MatcherError(
                    f"limit must be none, low, high, constant or 0..3, not {limit!r}"
                )
            mask |= 0x03
            expected |= value
            words.append(f"limit {LIMIT_NAMES[value]}")
        if not words:
            raise MatcherError("an empty quality matcher")
        return QualityMatcher(mask, expected, ", ".join(words))
    raise MatcherError(f"invalid quality {spec!r}")
