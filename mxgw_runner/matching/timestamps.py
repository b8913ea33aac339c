"""Timestamp matchers: ``max-age`` relative to now and ``after: step-start`` or a time.

Both compare with a :class:`MatchContext`, which the engine fills with the wall
clock and the step's start so a scan judges every event against the same now.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mxgw_runner.durations import DurationError, parse_duration
from mxgw_runner.matching.events import iso_text
from mxgw_runner.matching.values import MatcherError, to_datetime


@dataclass(frozen=True, slots=True)
class MatchContext:
    """What time-based matchers compare with: the wall clock now and the step's start (UTC)."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    step_start: datetime | None = None


@dataclass(frozen=True, slots=True)
class TimestampMatcher:
    """``{max-age: 5s}`` relative to now and/or ``{after: step-start | ISO time}``."""

    max_age: float | None = None
    after_step_start: bool = False
    after: datetime | None = None

    def matches(self, ts: datetime | None, ctx: MatchContext) -> bool:
        if ts is None:
            return False
        ts = ts if ts.tzinfo else ts.replace(tzinfo=UTC)
        if self.max_age is not None and (ctx.now - ts).total_seconds() > self.max_age:
            return False
        if self.after_step_start and ctx.step_start is not None and not ts > ctx.step_start:
            return False
        return not (self.after is not None and not ts > self.after)

    def explain(self, ts: datetime | None, ctx: MatchContext) -> str:
        if ts is None:
            return "no timestamp"
        ts = ts if ts.tzinfo else ts.replace(tzinfo=UTC)
        reasons = []
        age = (ctx.now - ts).total_seconds()
        if self.max_age is not None and age > self.max_age:
            reasons.append(
                f"timestamp {iso_text(ts)} is {age:.3g}s old (max-age {self.max_age:g}s)"
            )
        if self.after_step_start and ctx.step_start is not None and not ts > ctx.step_start:
            reasons.append(
                f"timestamp {iso_text(ts)} is not after the step start {iso_text(ctx.step_start)}"
            )
        if self.after is not None and not ts > self.after:
            reasons.append(f"timestamp {iso_text(ts)} is not after {iso_text(self.after)}")
        return "; ".join(reasons)

    def describe(self) -> str:
        parts = []
        if self.max_age is not None:
            parts.append(f"at most {self.max_age:g}s old")
        if self.after_step_start:
            parts.append("after the step start")
        if self.after is not None:
            parts.append(f"after {iso_text(self.after)}")
        return " and ".join(parts)


def compile_timestamp(spec: Mapping[str, Any]) -> TimestampMatcher:
    """Compile ``timestamp:``."""
    max_age = None
    if "max-age" in spec:
        try:
            max_age = parse_duration(spec["max-age"])
        except DurationError as exc:
            raise MatcherError(str(exc)) from None
    after = spec.get("after")
    if after is None:
        return TimestampMatcher(max_age)
    if after == "step-start":
        return TimestampMatcher(max_age, after_step_start=True)
    parsed = to_datetime(after)
    if parsed is None:
        raise MatcherError(f"after: needs step-start or an ISO 8601 time, not {after!r}")
    return TimestampMatcher(max_age, after=parsed)
