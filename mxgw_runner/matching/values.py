"""Value matchers: the scenario language's rules for comparing one value.

Numbers compare as numbers (``42 == 42.0``) but a boolean is not a number; a
float equals a written decimal when both round to the same 32-bit float. Each
matcher also scores how close a mismatch came and explains it in a phrase.
Matchers on numbers (``approx``, ``gt``...) are in :mod:`.numbers`; lists and
combinations, and compiling a ``value:`` specification, in :mod:`.value_spec`.
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from mxgw_runner.durations import DurationError, parse_duration
from mxgw_runner.matching.events import format_value


class MatcherError(ValueError):
    """A matcher specification is invalid (the schema normally catches this first)."""


class ValueMatcher(Protocol):
    """A compiled expectation on a value."""

    def matches(self, value: Any) -> bool:
        """True if ``value`` satisfies the expectation."""
        ...

    def score(self, value: Any) -> float:
        """1.0 on a match, else in [0, 1): higher is closer (to pick the closest event)."""
        ...

    def explain(self, value: Any) -> str:
        """Why ``value`` does not match, as a phrase (``41.7 not within 0.5 of 42.5``)."""
        ...

    def describe(self) -> str:
        """The expectation as text (``≈ 42.5 ± 0.5``)."""
        ...


def is_number(value: Any) -> bool:
    """An int or float that is not a bool."""
    cls = value.__class__
    if cls is int or cls is float:  # the common case, without the slower isinstance
        return True
    return cls is not bool and isinstance(value, int | float)


_F32 = struct.Struct("<f")


def _f32(x: float) -> float | None:
    """``x`` rounded to a 32-bit float, or None when it does not fit."""
    try:
        return float(_F32.unpack(_F32.pack(x))[0])
    except (OverflowError, struct.error):
        return None


def closeness(distance: float, scale: float) -> float:
    """Map a distance ≥ 0 to (0, 0.9): the nearer, the higher."""
    if math.isnan(distance):
        return 0.0
    scale = scale if scale > 0 else 1.0
    return 0.9 / (1.0 + distance / scale)


def to_datetime(value: Any) -> datetime | None:
    """A datetime or ISO 8601 text as an aware datetime (naive as UTC); None otherwise."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _to_seconds(value: Any) -> float | None:
    """A duration (timedelta or text like ``5s``) as seconds; None when it is not one."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    try:
        return parse_duration(value)
    except DurationError:
        return None


def numeric(value: Any) -> float | None:
    """A number (or a duration, as seconds) as a float; None for anything else."""
    if is_number(value):
        return float(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    return None


@dataclass(frozen=True, slots=True)
class Equals:
    """Plain equality with the scenario language's number rules."""

    expected: Any

    def matches(self, value: Any) -> bool:
        expected = self.expected
        cls = value.__class__
        if cls is expected.__class__ and cls is not float:
            # Same type (not float, whose 32-bit rule follows): the rules below come to ==.
            return bool(value == expected)
        if is_number(expected):
            if is_number(value):
                if value == expected:
                    return True
                if isinstance(value, float) and isinstance(expected, float):
                    if math.isnan(value) and math.isnan(expected):
                        return True
                    narrowed = _f32(value)
                    return narrowed is not None and narrowed == _f32(expected)
                return False
            if isinstance(value, timedelta):
                return value.total_seconds() == float(expected)
            return False
        if isinstance(expected, bool):
            return isinstance(value, bool) and value == expected
        if expected is None:
            return value is None
        if isinstance(expected, str):
            if isinstance(value, str):
                return value == expected
            if isinstance(value, datetime):
                other = to_datetime(expected)
                return other is not None and to_datetime(value) == other
            if isinstance(value, timedelta):
                return _to_seconds(expected) == value.total_seconds()
            return False
        return bool(value == expected)

    def score(self, value: Any) -> float:
        if self.matches(value):
            return 1.0
        a, b = numeric(value), numeric(self.expected)
        if a is not None and b is not None:
            return closeness(abs(a - b), max(abs(b) * 0.01, 1e-9))
        return 0.0

    def explain(self, value: Any) -> str:
        if is_number(self.expected) and isinstance(value, bool):
            return (
                f"{format_value(value)} is a boolean, not the number {format_value(self.expected)}"
            )
        if isinstance(self.expected, bool) and is_number(value):
            return f"{format_value(value)} is a number, not {format_value(self.expected)}"
        return f"{format_value(value)} is not {format_value(self.expected)}"

    def describe(self) -> str:
        return format_value(self.expected)


@dataclass(frozen=True, slots=True)
class Not:
    """``{ne: x}``: anything but a value."""

    inner: Equals

    def matches(self, value: Any) -> bool:
        return not self.inner.matches(value)

    def score(self, value: Any) -> float:
        return 1.0 if self.matches(value) else 0.0

    def explain(self, value: Any) -> str:
        return f"{format_value(value)} equals {self.inner.describe()}"

    def describe(self) -> str:
        return f"not {self.inner.describe()}"


@dataclass(frozen=True, slots=True)
class Regex:
    """``{regex: ...}``: searched in string values (compiled once)."""

    pattern: re.Pattern[str]

    def matches(self, value: Any) -> bool:
        return isinstance(value, str) and self.pattern.search(value) is not None

    def score(self, value: Any) -> float:
        return 1.0 if self.matches(value) else 0.0

    def explain(self, value: Any) -> str:
        if not isinstance(value, str):
            return f"{format_value(value)} is not text (expected {self.describe()})"
        return f"{format_value(value)} does not match {self.describe()}"

    def describe(self) -> str:
        return f"/{self.pattern.pattern}/"
