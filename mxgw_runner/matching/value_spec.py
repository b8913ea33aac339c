"""Compiling a ``value:`` specification, and the matchers that combine others.

A plain value becomes :class:`~.values.Equals`, a list an :class:`ArrayOf`
(element by element, same length), and a matcher mapping one matcher per key,
all of which must hold (:class:`AllOf`). Regexes are compiled here, once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mxgw_runner.matching.events import format_value
from mxgw_runner.matching.numbers import Approx, Between, Compare
from mxgw_runner.matching.values import (
    Equals,
    MatcherError,
    Not,
    Regex,
    ValueMatcher,
    is_number,
)


@dataclass(frozen=True, slots=True)
class OneOf:
    """``{in: [a, b, c]}``."""

    options: tuple[ValueMatcher, ...]

    def matches(self, value: Any) -> bool:
        return any(o.matches(value) for o in self.options)

    def score(self, value: Any) -> float:
        return max((o.score(value) for o in self.options), default=0.0)

    def explain(self, value: Any) -> str:
        return f"{format_value(value)} is not {self.describe()}"

    def describe(self) -> str:
        return "one of [" + ", ".join(o.describe() for o in self.options) + "]"


@dataclass(frozen=True, slots=True)
class AllOf:
    """Several keys of one matcher object: all must hold."""

    parts: tuple[ValueMatcher, ...]

    def matches(self, value: Any) -> bool:
        return all(p.matches(value) for p in self.parts)

    def score(self, value: Any) -> float:
        return min((p.score(value) for p in self.parts), default=1.0)

    def explain(self, value: Any) -> str:
        return "; ".join(p.explain(value) for p in self.parts if not p.matches(value))

    def describe(self) -> str:
        return " and ".join(p.describe() for p in self.parts)


@dataclass(frozen=True, slots=True)
class ArrayOf:
    """A list: same length, each element matching in order."""

    elements: tuple[ValueMatcher, ...]

    def matches(self, value: Any) -> bool:
        if not isinstance(value, list | tuple) or len(value) != len(self.elements):
            return False
        return all(m.matches(v) for m, v in zip(self.elements, value, strict=True))

    def score(self, value: Any) -> float:
        if self.matches(value):
            return 1.0
        if not isinstance(value, list | tuple) or not self.elements:
            return 0.0
        pairs = list(zip(self.elements, value, strict=False))
        total = sum(m.score(v) for m, v in pairs) / max(len(self.elements), len(value))
        return 0.9 * total

    def explain(self, value: Any) -> str:
        if not isinstance(value, list | tuple):
            return f"{format_value(value)} is not a list (expected {len(self.elements)} elements)"
        if len(value) != len(self.elements):
            return f"{format_value(value)} has {len(value)} elements, expected {len(self.elements)}"
        wrong = [
            f"[{i}] {m.explain(v)}"
            for i, (m, v) in enumerate(zip(self.elements, value, strict=True))
            if not m.matches(v)
        ]
        return "; ".join(wrong[:5]) + ("; ..." if len(wrong) > 5 else "")

    def describe(self) -> str:
        return "[" + ", ".join(m.describe() for m in self.elements) + "]"


def _number(spec: Mapping[str, Any], key: str) -> float:
    """``spec[key]`` as a float, or a :class:`MatcherError` naming the key."""
    value = spec[key]
    if not is_number(value):
        raise MatcherError(f"{key} needs a number, not {format_value(value)}")
    return float(value)


def compile_value(spec: Any) -> ValueMatcher:
    """Compile a ``value:`` specification (plain value, matcher mapping or list)."""
    if isinstance(spec, Mapping):
        parts: list[ValueMatcher] = []
        unknown = set(spec) - {
            "approx",
            "tolerance",
            "rel",
            "between",
            "gt",
            "ge",
            "lt",
            "le",
            "ne",
            "in",
            "regex",
        }
        if unknown:
            raise MatcherError(f"unknown value matcher key(s): {', '.join(sorted(unknown))}")
        if "approx" in spec:
            parts.append(
                Approx(
                    _number(spec, "approx"),
                    _number(spec, "tolerance") if "tolerance" in spec else None,
                    _number(spec, "rel") if "rel" in spec else None,
                )
            )
        elif "tolerance" in spec or "rel" in spec:
            raise MatcherError("tolerance and rel need approx")
        if "between" in spec:
            bounds = spec["between"]
            if not (
                isinstance(bounds, list | tuple)
                and len(bounds) == 2
                and all(is_number(b) for b in bounds)
            ):
                raise MatcherError("between needs [low, high]")
            low, high = float(bounds[0]), float(bounds[1])
            parts.append(Between(min(low, high), max(low, high)))
        for op in ("gt", "ge", "lt", "le"):
            if op in spec:
                parts.append(Compare(op, _number(spec, op)))
        if "ne" in spec:
            parts.append(Not(Equals(spec["ne"])))
        if "in" in spec:
            options = spec["in"]
            if not isinstance(options, list | tuple) or not options:
                raise MatcherError("in needs a non-empty list")
            parts.append(OneOf(tuple(compile_value(o) for o in options)))
        if "regex" in spec:
            try:
                parts.append(Regex(re.compile(str(spec["regex"]))))
            except re.error as exc:
                raise MatcherError(f"invalid regex {spec['regex']!r}: {exc}") from None
        if not parts:
            raise MatcherError("an empty value matcher")
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))
    if isinstance(spec, list | tuple):
        return ArrayOf(tuple(compile_value(e) for e in spec))
    return Equals(spec)
