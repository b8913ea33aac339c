"""Matchers on numbers: ``approx``, ``gt/ge/lt/le`` and ``between``.

They share one shape: the value must be a number (or a duration, as seconds),
a mismatch scores by its distance from what was allowed, and a value that is
not a number at all is explained as such. :class:`NumberMatcher` holds that
shape once; each matcher only says when a number holds and how far off it is.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from mxgw_runner.matching.events import format_value
from mxgw_runner.matching.values import closeness, numeric


class NumberMatcher(ABC):
    """The common part of the matchers that compare a number with a bound."""

    __slots__ = ()

    @abstractmethod
    def holds(self, number: float) -> bool:
        """True if the number satisfies the expectation."""

    @abstractmethod
    def distance(self, number: float) -> tuple[float, float]:
        """How far a failing number is from passing, and the scale that distance is read on."""

    @abstractmethod
    def miss(self) -> str:
        """The phrase after a failing number (``not within 0.5 of 42.5``)."""

    @abstractmethod
    def describe(self) -> str:
        """The expectation as text (``≈ 42.5 ± 0.5``)."""

    def matches(self, value: Any) -> bool:
        """True if ``value`` is a number that satisfies the expectation."""
        v = numeric(value)
        return v is not None and self.holds(v)

    def score(self, value: Any) -> float:
        """1.0 on a match, 0.0 for a non-number, else closer to 0.9 the nearer it is."""
        v = numeric(value)
        if v is None:
            return 0.0
        if self.holds(v):
            return 1.0
        return closeness(*self.distance(v))

    def explain(self, value: Any) -> str:
        """Why ``value`` does not match, as a phrase."""
        if numeric(value) is None:
            return f"{format_value(value)} is not a number (expected {self.describe()})"
        return f"{format_value(value)} {self.miss()}"


@dataclass(frozen=True, slots=True)
class Approx(NumberMatcher):
    """``{approx: x, tolerance: t}`` (absolute) or ``{approx: x, rel: r}`` (relative)."""

    target: float
    tolerance: float | None = None
    rel: float | None = None

    @property
    def allowed(self) -> float:
        """The allowed absolute difference."""
        if self.tolerance is not None:
            return abs(self.tolerance)
        rel = 1e-6 if self.rel is None else abs(self.rel)
        return rel * abs(self.target)

    def holds(self, number: float) -> bool:
        return abs(number - self.target) <= self.allowed

    def distance(self, number: float) -> tuple[float, float]:
        return abs(number - self.target) - self.allowed, max(self.allowed, 1e-9)

    def miss(self) -> str:
        return f"not within {self.allowed:g} of {self.target:g}"

    def describe(self) -> str:
        if self.rel is not None and self.tolerance is None:
            return f"≈ {self.target:g} (rel {self.rel:g})"
        return f"≈ {self.target:g} ± {self.allowed:g}"


_OPS: dict[str, tuple[str, Any]] = {
    "gt": (">", lambda a, b: a > b),
    "ge": (">=", lambda a, b: a >= b),
    "lt": ("<", lambda a, b: a < b),
    "le": ("<=", lambda a, b: a <= b),
}


@dataclass(frozen=True, slots=True)
class Compare(NumberMatcher):
    """``gt``, ``ge``, ``lt`` or ``le`` against a number."""

    op: str
    bound: float

    def holds(self, number: float) -> bool:
        return bool(_OPS[self.op][1](number, self.bound))

    def distance(self, number: float) -> tuple[float, float]:
        return abs(number - self.bound), max(abs(self.bound) * 0.01, 1e-9)

    def miss(self) -> str:
        return f"is not {self.describe()}"

    def describe(self) -> str:
        return f"{_OPS[self.op][0]} {self.bound:g}"


@dataclass(frozen=True, slots=True)
class Between(NumberMatcher):
    """``{between: [low, high]}``, inclusive."""

    low: float
    high: float

    def holds(self, number: float) -> bool:
        return self.low <= number <= self.high

    def distance(self, number: float) -> tuple[float, float]:
        gap = self.low - number if number < self.low else number - self.high
        return gap, max(self.high - self.low, 1e-9)

    def miss(self) -> str:
        return f"not {self.describe()}"

    def describe(self) -> str:
        return f"between {self.low:g} and {self.high:g}"
