"""The expectation model: what ``expect-event`` (or ``expect-no-event``) waits for.

An :class:`EventExpectation` bundles the compiled matchers for one item and
event kind, with the mode (``eventually`` or ``next``), the count and whether
only events since the last write count.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from mxgw_runner.matching.events import EVENT_KINDS, ObservedEvent, format_value
from mxgw_runner.matching.quality import QualityMatcher, compile_quality
from mxgw_runner.matching.status import StatusMatcher, compile_status
from mxgw_runner.matching.timestamps import MatchContext, TimestampMatcher, compile_timestamp
from mxgw_runner.matching.value_spec import compile_value
from mxgw_runner.matching.values import Equals, MatcherError, ValueMatcher, is_number


@dataclass(frozen=True, slots=True)
class EventExpectation:
    """What ``expect-event`` (or ``expect-no-event``) waits for on one item."""

    item: str
    kind: str | None = "data-change"
    value: ValueMatcher | None = None
    quality: QualityMatcher | None = None
    status: StatusMatcher | None = None
    timestamp: TimestampMatcher | None = None
    mode: Literal["eventually", "next"] = "eventually"
    count: int = 1
    since_last_write: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> EventExpectation:
        """Build from resolved ``expect-event``/``expect-no-event`` params.

        No kind key means any event kind (``expect-no-event`` only: the schema
        requires one for ``expect-event``).
        """
        kinds = [k for k in EVENT_KINDS if k in params]
        if len(kinds) > 1:
            raise MatcherError("only one of " + ", ".join(EVENT_KINDS))
        kind = kinds[0] if kinds else None
        body = (params.get(kind) if kind else None) or {}
        mode = params.get("mode", "eventually")
        if mode not in ("eventually", "next"):
            raise MatcherError(f"mode must be eventually or next, not {mode!r}")
        count = params.get("count", 1)
        if not is_number(count) or int(count) < 1:
            raise MatcherError("count needs a whole number >= 1")
        return cls(
            item=str(params["item"]),
            kind=kind,
            value=compile_value(body["value"]) if "value" in body else None,
            quality=compile_quality(body["quality"]) if "quality" in body else None,
            status=compile_status(body["status"]) if "status" in body else None,
            timestamp=compile_timestamp(body["timestamp"]) if "timestamp" in body else None,
            mode=mode,
            count=int(count),
            since_last_write=params.get("since") == "last-write",
        )

    def applies_to(self, event: ObservedEvent) -> bool:
        """True if the event is of this item and kind (a candidate at all)."""
        return event.item == self.item and (self.kind is None or event.kind == self.kind)

    def matches(self, event: ObservedEvent, ctx: MatchContext) -> bool:
        """True if a candidate event satisfies every given matcher."""
        if self.value is not None and not self.value.matches(event.value):
            return False
        if self.quality is not None and not self.quality.matches(event.quality):
            return False
        if self.status is not None and not self.status.matches(event.statuses):
            return False
        return self.timestamp is None or self.timestamp.matches(event.source_timestamp, ctx)

    def predicate(self) -> Callable[[ObservedEvent, MatchContext], bool]:
        """:meth:`matches` specialised to the matchers given: the scanner's per-event test
        (an expectation on the value alone, the common case, costs one call)."""
        if self.quality is None and self.status is None and self.timestamp is None:
            if self.value is None:
                return _always
            value_matches = self.value.matches
            expected = getattr(self.value, "expected", None)
            if isinstance(self.value, Equals) and expected.__class__ in _PLAIN_EQUALITY:
                # Equals on a value of the expected's own class comes to ``==``.
                cls = expected.__class__

                def equals(event: ObservedEvent, ctx: MatchContext) -> bool:
                    value = event.value
                    if value.__class__ is cls:
                        return bool(value == expected)
                    return value_matches(value)

                return equals
            return lambda event, ctx: value_matches(event.value)
        return self.matches

    def score(self, event: ObservedEvent, ctx: MatchContext) -> float:
        """How close a candidate came: the mean over the given matchers, 1.0 on a match."""
        scores = []
        if self.value is not None:
            scores.append(self.value.score(event.value))
        if self.quality is not None:
            scores.append(1.0 if self.quality.matches(event.quality) else 0.0)
        if self.status is not None:
            scores.append(1.0 if self.status.matches(event.statuses) else 0.0)
        if self.timestamp is not None:
            scores.append(1.0 if self.timestamp.matches(event.source_timestamp, ctx) else 0.0)
        return sum(scores) / len(scores) if scores else 1.0

    def explain(self, event: ObservedEvent, ctx: MatchContext) -> str:
        """Each part of the event against the expectation.

        For example ``value 41.7 not within 0.5 of 42.5; quality good as expected``.
        """
        parts = []
        if self.value is not None:
            if self.value.matches(event.value):
                parts.append(f"value {format_value(event.value)} as expected")
            else:
                parts.append(f"value {self.value.explain(event.value)}")
        if self.quality is not None:
            if self.quality.matches(event.quality):
                parts.append(f"quality {self.quality.describe()} as expected")
            else:
                parts.append(self.quality.explain(event.quality))
        if self.status is not None:
            if self.status.matches(event.statuses):
                parts.append(f"status {self.status.describe()} as expected")
            else:
                parts.append(self.status.explain(event.statuses))
        if self.timestamp is not None:
            if self.timestamp.matches(event.source_timestamp, ctx):
                parts.append("timestamp as expected")
            else:
                parts.append(self.timestamp.explain(event.source_timestamp, ctx))
        return "; ".join(parts) if parts else "matches"

    def describe(self) -> str:
        """The expectation as text for reports."""
        what = self.kind or "any event"
        parts = []
        if self.value is not None:
            parts.append(f"value {self.value.describe()}")
        if self.quality is not None:
            parts.append(f"quality {self.quality.describe()}")
        if self.status is not None:
            parts.append(f"status {self.status.describe()}")
        if self.timestamp is not None:
            parts.append(f"timestamp {self.timestamp.describe()}")
        text = f"{what} of {self.item}"
        if parts:
            text += " with " + ", ".join(parts)
        if self.count > 1:
            text = f"{self.count} × {text}"
        if self.mode == "next":
            text = f"next {text}"
        if self.since_last_write:
            text += " since the last write"
        return text


_PLAIN_EQUALITY = frozenset({int, str, bool})
"""Classes whose same-class ``Equals`` is plain ``==`` (float follows its 32-bit rule)."""


def _always(event: ObservedEvent, ctx: MatchContext) -> bool:
    return True
