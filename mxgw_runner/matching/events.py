"""The observed-event model: events as the runner records them, and how they read.

The engine adapts client events to :class:`ObservedEvent`; matchers, reports
and timelines only ever see this shape. Values are shown with
:func:`format_value` and written to JSON with :func:`json_value`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from mxgw_runner.matching.names import normalize_name, quality_name

EventKind = Literal["data-change", "write-complete", "operation-complete", "buffered-data-change"]
EVENT_KINDS: tuple[str, ...] = (
    "data-change",
    "write-complete",
    "operation-complete",
    "buffered-data-change",
)
_VALUE_KINDS = frozenset({"data-change", "buffered-data-change"})


@dataclass(frozen=True, slots=True)
class ObservedStatus:
    """One MXAccess status (MXSTATUS_PROXY) of an event; names as in MXACCESS.md."""

    success: int
    category: str = "Ok"
    detected_by: str = "Unknown"
    detail: int = 0

    @property
    def ok(self) -> bool:
        """True when the call succeeded: success flag set and category Ok."""
        return self.success != 0 and normalize_name(self.category) == "ok"

    def describe(self) -> str:
        """``ok`` or ``OperationalError by RespondingAutomationObject, detail 3``."""
        if self.ok:
            return "ok"
        text = f"{self.category} by {self.detected_by}, detail {self.detail}"
        return text if self.success == 0 else f"{text} (success {self.success})"

    def to_dict(self) -> dict[str, Any]:
        """JSON form for reports."""
        return {
            "success": self.success,
            "category": self.category,
            "detected-by": self.detected_by,
            "detail": self.detail,
        }


_FIELDS = (
    "kind",
    "item",
    "value",
    "quality",
    "source_timestamp",
    "statuses",
    "arrival_monotonic",
    "arrival_wall",
    "worker_sequence",
)


class ObservedEvent:
    """An event as the runner records it: the engine adapts client events to this.

    Read-only; equal to another observed event with equal fields. The recorder's subclass
    reads value, quality, source timestamp and statuses from the client event on access, so
    recording an event costs no decoding.
    """

    __slots__ = (
        "_arrival_monotonic",
        "_arrival_wall",
        "_item",
        "_kind",
        "_quality",
        "_source_timestamp",
        "_statuses",
        "_value",
        "_worker_sequence",
    )

    def __init__(
        self,
        kind: str,
        item: str,
        value: Any = None,
        quality: int | None = None,
        source_timestamp: datetime | None = None,
        statuses: tuple[ObservedStatus, ...] = (),
        arrival_monotonic: float = 0.0,
        arrival_wall: datetime | None = None,
        worker_sequence: int | None = None,
    ) -> None:
        self._kind = kind
        self._item = item
        self._value = value
        self._quality = quality
        self._source_timestamp = source_timestamp
        self._statuses = statuses
        self._arrival_monotonic = arrival_monotonic
        self._arrival_wall = arrival_wall
        self._worker_sequence = worker_sequence

    @property
    def kind(self) -> str:
        """``data-change``, ``write-complete``, ``operation-complete`` or
        ``buffered-data-change``."""
        return self._kind

    @property
    def item(self) -> str:
        """The item's alias in the scenario (``#<server>.<item>`` for an unknown handle)."""
        return self._item

    @property
    def value(self) -> Any:
        """The decoded value (None for events without one, or one that would not decode)."""
        return self._value

    @property
    def quality(self) -> int | None:
        """The OPC DA quality (None for events without one)."""
        return self._quality

    @property
    def source_timestamp(self) -> datetime | None:
        """The source timestamp (UTC), if the event carries one."""
        return self._source_timestamp

    @property
    def statuses(self) -> tuple[ObservedStatus, ...]:
        """The event's MXAccess statuses."""
        return self._statuses

    @property
    def arrival_monotonic(self) -> float:
        """When the runner received the event (``time.monotonic``)."""
        return self._arrival_monotonic

    @property
    def arrival_wall(self) -> datetime | None:
        """When the runner received the event (UTC wall clock)."""
        return self._arrival_wall

    @property
    def worker_sequence(self) -> int | None:
        """The gateway worker's sequence number of the event."""
        return self._worker_sequence

    def replace(self, **changes: Any) -> ObservedEvent:
        """A copy with the given fields changed (e.g. a masked value for a report)."""
        fields = {name: getattr(self, name) for name in _FIELDS}
        unknown = set(changes) - fields.keys()
        if unknown:
            raise TypeError(f"ObservedEvent has no field {', '.join(sorted(unknown))}")
        fields.update(changes)
        return ObservedEvent(**fields)

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _FIELDS)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ObservedEvent):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in _FIELDS)
        return f"ObservedEvent({shown})"

    def describe(self) -> str:
        """One line: ``data-change sp value=42.5 quality=good (192) ts=... status=ok``."""
        parts = [self.kind, self.item]
        if self.kind in _VALUE_KINDS:
            parts.append(f"value={format_value(self.value)}")
            if self.quality is not None:
                parts.append(f"quality={quality_name(self.quality)}")
            if self.source_timestamp is not None:
                parts.append(f"ts={iso_text(self.source_timestamp)}")
        parts.append(f"status={status_text(self.statuses)}")
        if self.arrival_wall is not None:
            parts.append(f"arrived={iso_text(self.arrival_wall)}")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON form for reports (values made JSON-safe)."""
        out: dict[str, Any] = {"kind": self.kind, "item": self.item}
        if self.kind in _VALUE_KINDS:
            out["value"] = json_value(self.value)
            out["quality"] = self.quality
            out["quality-text"] = quality_name(self.quality) if self.quality is not None else None
            out["source-timestamp"] = (
                iso_text(self.source_timestamp) if self.source_timestamp else None
            )
        out["statuses"] = [s.to_dict() for s in self.statuses]
        out["arrival"] = iso_text(self.arrival_wall) if self.arrival_wall else None
        out["worker-sequence"] = self.worker_sequence
        return out


def iso_text(value: datetime) -> str:
    """A time as UTC ISO 8601 with milliseconds and a ``Z`` (naive times count as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def status_text(statuses: Sequence[ObservedStatus]) -> str:
    """An event's statuses as text; no status at all reads as ``ok``."""
    if not statuses:
        return "ok"
    return "; ".join(s.describe() for s in statuses)


def json_value(value: Any) -> Any:
    """A value in JSON terms: datetimes as ISO text, durations as seconds, NaN as text."""
    if isinstance(value, datetime):
        return iso_text(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def format_value(value: Any) -> str:
    """A value as shown in explanations: strings quoted, floats short, lists bracketed."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 80 else repr(value[:77] + "...")
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    if isinstance(value, datetime):
        return iso_text(value)
    if isinstance(value, timedelta):
        return f"{value.total_seconds():g}s"
    if isinstance(value, list | tuple):
        shown = ", ".join(format_value(v) for v in value[:8])
        return f"[{shown}{', ...' if len(value) > 8 else ''}]"
    return str(value)
