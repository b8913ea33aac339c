"""Matching observed gateway events against what a scenario expects.

Pure functions and small immutable objects over :class:`ObservedEvent`, the
event shape the engine adapts client events to. Matchers are compiled once per
expectation (regexes included) and then only compare, so scanning a
100,000-event stream costs a few comparisons per event of the item; the human
explanation of a mismatch is built only for the event that came closest.

Rules (see ``docs/scenarios.md``):

* values: numbers compare as numbers (``42 == 42.0``) but a boolean is not a
  number (``true != 1``); a float equals a written decimal when both round to the
  same 32-bit float (Float attributes); ``approx`` with ``tolerance`` (absolute)
  or ``rel`` (relative; default ``rel: 1e-6``); ``between`` (inclusive);
  ``gt/ge/lt/le/ne``; ``in``; ``regex`` (searched in strings); lists element by
  element and by length;
* quality on the low byte: class (good 192, uncertain 64, bad 0), named
  qualities (sub-status, limit bits ignored), a number, or ``{class, substatus, limit}``;
* status: ``ok`` means the first status succeeded with category Ok (no status
  counts as ok); ``{category, detected-by, detail}`` matches when any status has
  all the given parts (names case-insensitive, MXAccess or enum spelling);
* timestamp: ``max-age`` relative to now, ``after: step-start``.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from mxgw_runner.durations import DurationError, parse_duration

EventKind = Literal["data-change", "write-complete", "operation-complete", "buffered-data-change"]
EVENT_KINDS: tuple[str, ...] = (
    "data-change",
    "write-complete",
    "operation-complete",
    "buffered-data-change",
)
_VALUE_KINDS = frozenset({"data-change", "buffered-data-change"})

# --------------------------------------------------------------------------- events


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


@dataclass(frozen=True, slots=True)
class ObservedEvent:
    """An event as the runner records it: the engine adapts client events to this."""

    kind: str
    item: str
    value: Any = None
    quality: int | None = None
    source_timestamp: datetime | None = None
    statuses: tuple[ObservedStatus, ...] = ()
    arrival_monotonic: float = 0.0
    arrival_wall: datetime | None = None
    worker_sequence: int | None = None

    def describe(self) -> str:
        """One line: ``data-change sp value=42.5 quality=good (192) ts=... status=ok``."""
        parts = [self.kind, self.item]
        if self.kind in _VALUE_KINDS:
            parts.append(f"value={format_value(self.value)}")
            if self.quality is not None:
                parts.append(f"quality={quality_name(self.quality)}")
            if self.source_timestamp is not None:
                parts.append(f"ts={_iso(self.source_timestamp)}")
        parts.append(f"status={_status_text(self.statuses)}")
        if self.arrival_wall is not None:
            parts.append(f"arrived={_iso(self.arrival_wall)}")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON form for reports (values made JSON-safe)."""
        out: dict[str, Any] = {"kind": self.kind, "item": self.item}
        if self.kind in _VALUE_KINDS:
            out["value"] = json_value(self.value)
            out["quality"] = self.quality
            out["quality-text"] = quality_name(self.quality) if self.quality is not None else None
            out["source-timestamp"] = _iso(self.source_timestamp) if self.source_timestamp else None
        out["statuses"] = [s.to_dict() for s in self.statuses]
        out["arrival"] = _iso(self.arrival_wall) if self.arrival_wall else None
        out["worker-sequence"] = self.worker_sequence
        return out


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _status_text(statuses: Sequence[ObservedStatus]) -> str:
    if not statuses:
        return "ok"
    return "; ".join(s.describe() for s in statuses)


def json_value(value: Any) -> Any:
    """A value in JSON terms: datetimes as ISO text, durations as seconds, NaN as text."""
    if isinstance(value, datetime):
        return _iso(value)
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
        return _iso(value)
    if isinstance(value, timedelta):
        return f"{value.total_seconds():g}s"
    if isinstance(value, list | tuple):
        shown = ", ".join(format_value(v) for v in value[:8])
        return f"[{shown}{', ...' if len(value) > 8 else ''}]"
    return str(value)


# --------------------------------------------------------------------------- names

_CATEGORY_NAMES = {
    -1: "Unknown",
    0: "Ok",
    1: "Pending",
    2: "Warning",
    3: "CommunicationError",
    4: "ConfigurationError",
    5: "OperationalError",
    6: "SecurityError",
    7: "SoftwareError",
    8: "OtherError",
}
_SOURCE_NAMES = {
    -1: "Unknown",
    0: "RequestingLmx",
    1: "RespondingLmx",
    2: "RequestingNmx",
    3: "RespondingNmx",
    4: "RequestingAutomationObject",
    5: "RespondingAutomationObject",
}
_PREFIXES = ("mxstatuscategory", "mxstatussource")


def normalize_name(name: str | int) -> str:
    """Canonical form for comparing status names: ``OPERATIONAL_ERROR`` → ``operationalerror``."""
    text = "".join(ch for ch in str(name).lower() if ch.isalnum())
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def _category_key(value: str | int) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return normalize_name(_CATEGORY_NAMES.get(value, str(value)))
    return normalize_name(value)


def _source_key(value: str | int) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return normalize_name(_SOURCE_NAMES.get(value, str(value)))
    return normalize_name(value)


_KNOWN_CATEGORIES = {normalize_name(n) for n in _CATEGORY_NAMES.values()}
_KNOWN_SOURCES = {normalize_name(n) for n in _SOURCE_NAMES.values()}

QUALITY_CLASSES: dict[str, int] = {"bad": 0x00, "uncertain": 0x40, "good": 0xC0}
#: Named qualities (low byte without the limit bits), from the OPC DA layout.
NAMED_QUALITIES: dict[str, int] = {
    "local-override": 216,
    "last-usable-value": 68,
    "sensor-not-accurate": 80,
    "engineering-units-exceeded": 84,
    "sub-normal": 88,
    "configuration-error": 4,
    "not-connected": 8,
    "device-failure": 12,
    "sensor-failure": 16,
    "last-known-value": 20,
    "communication-failure": 24,
    "out-of-service": 28,
    "waiting-for-initial-data": 32,
}
_CODE_NAMES = {code: name for name, code in NAMED_QUALITIES.items()}
_LIMITS = {"none": 0, "low": 1, "high": 2, "constant": 3}
_LIMIT_NAMES = {v: k for k, v in _LIMITS.items()}


def quality_class(quality: int) -> str:
    """``good``, ``uncertain``, ``bad`` or ``invalid`` (class bits 10) of a quality."""
    bits = quality & 0xC0
    for name, value in QUALITY_CLASSES.items():
        if bits == value:
            return name
    return "invalid"


def quality_name(quality: int) -> str:
    """Readable quality: ``good (192)``, ``bad: out-of-service (28)``, ``uncertain, limit low``."""
    low = quality & 0xFF
    cls = quality_class(low)
    text = cls
    named = _CODE_NAMES.get(low & 0xFC)
    if named:
        text += f": {named}"
    limit = low & 0x03
    if limit:
        text += f", limit {_LIMIT_NAMES[limit]}"
    return f"{text} ({quality})"


# --------------------------------------------------------------------------- value matchers


@dataclass(frozen=True, slots=True)
class MatchContext:
    """What time-based matchers compare with: the wall clock now and the step's start (UTC)."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    step_start: datetime | None = None


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
    return isinstance(value, int | float) and not isinstance(value, bool)


_F32 = struct.Struct("<f")


def _f32(x: float) -> float | None:
    try:
        return float(_F32.unpack(_F32.pack(x))[0])
    except (OverflowError, struct.error):
        return None


def _closeness(distance: float, scale: float) -> float:
    """Map a distance ≥ 0 to (0, 0.9): the nearer, the higher."""
    if math.isnan(distance):
        return 0.0
    scale = scale if scale > 0 else 1.0
    return 0.9 / (1.0 + distance / scale)


def _to_datetime(value: Any) -> datetime | None:
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
    if isinstance(value, timedelta):
        return value.total_seconds()
    try:
        return parse_duration(value)
    except DurationError:
        return None


def _numeric(value: Any) -> float | None:
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
                other = _to_datetime(expected)
                return other is not None and _to_datetime(value) == other
            if isinstance(value, timedelta):
                return _to_seconds(expected) == value.total_seconds()
            return False
        return bool(value == expected)

    def score(self, value: Any) -> float:
        if self.matches(value):
            return 1.0
        a, b = _numeric(value), _numeric(self.expected)
        if a is not None and b is not None:
            return _closeness(abs(a - b), max(abs(b) * 0.01, 1e-9))
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
class Approx:
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

    def matches(self, value: Any) -> bool:
        v = _numeric(value)
        return v is not None and abs(v - self.target) <= self.allowed

    def score(self, value: Any) -> float:
        if self.matches(value):
            return 1.0
        v = _numeric(value)
        if v is None:
            return 0.0
        return _closeness(abs(v - self.target) - self.allowed, max(self.allowed, 1e-9))

    def explain(self, value: Any) -> str:
        if _numeric(value) is None:
            return f"{format_value(value)} is not a number (expected {self.describe()})"
        return f"{format_value(value)} not within {self.allowed:g} of {self.target:g}"

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
class Compare:
    """``gt``, ``ge``, ``lt`` or ``le`` against a number."""

    op: str
    bound: float

    def matches(self, value: Any) -> bool:
        v = _numeric(value)
        return v is not None and bool(_OPS[self.op][1](v, self.bound))

    def score(self, value: Any) -> float:
        if self.matches(value):
            return 1.0
        v = _numeric(value)
        if v is None:
            return 0.0
        return _closeness(abs(v - self.bound), max(abs(self.bound) * 0.01, 1e-9))

    def explain(self, value: Any) -> str:
        if _numeric(value) is None:
            return f"{format_value(value)} is not a number (expected {self.describe()})"
        return f"{format_value(value)} is not {self.describe()}"

    def describe(self) -> str:
        return f"{_OPS[self.op][0]} {self.bound:g}"


@dataclass(frozen=True, slots=True)
class Between:
    """``{between: [low, high]}``, inclusive."""

    low: float
    high: float

    def matches(self, value: Any) -> bool:
        v = _numeric(value)
        return v is not None and self.low <= v <= self.high

    def score(self, value: Any) -> float:
        if self.matches(value):
            return 1.0
        v = _numeric(value)
        if v is None:
            return 0.0
        distance = self.low - v if v < self.low else v - self.high
        return _closeness(distance, max(self.high - self.low, 1e-9))

    def explain(self, value: Any) -> str:
        if _numeric(value) is None:
            return f"{format_value(value)} is not a number (expected {self.describe()})"
        return f"{format_value(value)} not {self.describe()}"

    def describe(self) -> str:
        return f"between {self.low:g} and {self.high:g}"


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


class MatcherError(ValueError):
    """A matcher specification is invalid (the schema normally catches this first)."""


def _number(spec: Mapping[str, Any], key: str) -> float:
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


# --------------------------------------------------------------------------- quality


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
            if isinstance(limit, str) and limit in _LIMITS:
                value = _LIMITS[limit]
            elif is_number(limit) and 0 <= int(limit) <= 3:
                value = int(limit)
            else:
                raise MatcherError(
                    f"limit must be none, low, high, constant or 0..3, not {limit!r}"
                )
            mask |= 0x03
            expected |= value
            words.append(f"limit {_LIMIT_NAMES[value]}")
        if not words:
            raise MatcherError("an empty quality matcher")
        return QualityMatcher(mask, expected, ", ".join(words))
    raise MatcherError(f"invalid quality {spec!r}")


# --------------------------------------------------------------------------- status


@dataclass(frozen=True, slots=True)
class StatusMatcher:
    """``ok`` or ``{category, detected-by, detail}``."""

    ok: bool
    category: str | None = None
    detected_by: str | None = None
    detail: int | None = None

    def _one(self, status: ObservedStatus) -> bool:
        if self.category is not None and normalize_name(status.category) != self.category:
            return False
        if self.detected_by is not None and normalize_name(status.detected_by) != self.detected_by:
            return False
        return self.detail is None or status.detail == self.detail

    def matches(self, statuses: Sequence[ObservedStatus]) -> bool:
        if self.ok:
            return not statuses or statuses[0].ok
        return any(self._one(s) for s in statuses)

    def explain(self, statuses: Sequence[ObservedStatus]) -> str:
        return f"status {_status_text(statuses)} is not {self.describe()}"

    def describe(self) -> str:
        if self.ok:
            return "ok"
        parts = []
        if self.category is not None:
            parts.append(_CATEGORY_DISPLAY.get(self.category, self.category))
        if self.detected_by is not None:
            parts.append("by " + _SOURCE_DISPLAY.get(self.detected_by, self.detected_by))
        if self.detail is not None:
            parts.append(f"detail {self.detail}")
        return " ".join(parts)


_CATEGORY_DISPLAY = {normalize_name(n): n for n in _CATEGORY_NAMES.values()}
_SOURCE_DISPLAY = {normalize_name(n): n for n in _SOURCE_NAMES.values()}


def compile_status(spec: Any) -> StatusMatcher:
    """Compile ``status:`` / ``expect:`` (``ok`` or a mapping)."""
    if spec == "ok" or spec is True:
        return StatusMatcher(ok=True)
    if isinstance(spec, Mapping):
        category = detected_by = None
        detail = None
        if spec.get("category") is not None:
            category = _category_key(spec["category"])
            if category not in _KNOWN_CATEGORIES:
                raise MatcherError(
                    f"unknown status category {spec['category']!r} "
                    f"(one of {', '.join(_CATEGORY_NAMES.values())})"
                )
        if spec.get("detected-by") is not None:
            detected_by = _source_key(spec["detected-by"])
            if detected_by not in _KNOWN_SOURCES:
                raise MatcherError(
                    f"unknown detected-by {spec['detected-by']!r} "
                    f"(one of {', '.join(_SOURCE_NAMES.values())})"
                )
        if spec.get("detail") is not None:
            if not is_number(spec["detail"]):
                raise MatcherError("detail needs an integer")
            detail = int(spec["detail"])
        if category is None and detected_by is None and detail is None:
            raise MatcherError("an empty status matcher")
        return StatusMatcher(False, category, detected_by, detail)
    raise MatcherError(f"invalid status {spec!r} (ok or {{category, detected-by, detail}})")


# --------------------------------------------------------------------------- timestamp


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
            reasons.append(f"timestamp {_iso(ts)} is {age:.3g}s old (max-age {self.max_age:g}s)")
        if self.after_step_start and ctx.step_start is not None and not ts > ctx.step_start:
            reasons.append(
                f"timestamp {_iso(ts)} is not after the step start {_iso(ctx.step_start)}"
            )
        if self.after is not None and not ts > self.after:
            reasons.append(f"timestamp {_iso(ts)} is not after {_iso(self.after)}")
        return "; ".join(reasons)

    def describe(self) -> str:
        parts = []
        if self.max_age is not None:
            parts.append(f"at most {self.max_age:g}s old")
        if self.after_step_start:
            parts.append("after the step start")
        if self.after is not None:
            parts.append(f"after {_iso(self.after)}")
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
    parsed = _to_datetime(after)
    if parsed is None:
        raise MatcherError(f"after: needs step-start or an ISO 8601 time, not {after!r}")
    return TimestampMatcher(max_age, after=parsed)


# --------------------------------------------------------------------------- expectations


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

        For example ``value 41.7 not within 0.5 of 42.5; quality good ok``.
        """
        parts = []
        if self.value is not None:
            if self.value.matches(event.value):
                parts.append(f"value {format_value(event.value)} ok")
            else:
                parts.append(f"value {self.value.explain(event.value)}")
        if self.quality is not None:
            if self.quality.matches(event.quality):
                parts.append(f"quality {self.quality.describe()} ok")
            else:
                parts.append(self.quality.explain(event.quality))
        if self.status is not None:
            if self.status.matches(event.statuses):
                parts.append(f"status {self.status.describe()} ok")
            else:
                parts.append(self.status.explain(event.statuses))
        if self.timestamp is not None:
            if self.timestamp.matches(event.source_timestamp, ctx):
                parts.append("timestamp ok")
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


@dataclass(frozen=True, slots=True)
class Closest:
    """The candidate event that came closest to matching, and why it did not."""

    index: int
    event: ObservedEvent
    score: float
    explanation: str


ScanStatus = Literal["matched", "pending", "failed"]


@dataclass(frozen=True, slots=True)
class ScanResult:
    """Outcome of scanning recorded events for an expectation.

    ``matched``: the expectation holds (``matches`` lists the consumed events
    with their indexes) and ``cursor`` is just past the last one. ``pending``:
    not yet; more events may still satisfy it. ``failed``: it cannot hold any more
    (``mode: next`` saw a mismatch). ``closest`` is the best non-matching
    candidate, and ``message`` explains a pending/failed result.
    """

    status: ScanStatus
    matches: tuple[tuple[int, ObservedEvent], ...]
    cursor: int
    closest: Closest | None
    candidates: int
    message: str


class Scanner:
    """Incremental scan: feed it the growing event list; it resumes where it stopped.

    Re-scanning from the cursor on every new event would be quadratic over a
    long wait; the scanner keeps its position, matches so far and the best
    candidate, so each event is looked at once.
    """

    def __init__(
        self,
        expectation: EventExpectation,
        start: int,
        ctx: MatchContext | None = None,
    ) -> None:
        self.expectation = expectation
        self.ctx = ctx or MatchContext()
        self.position = max(0, start)
        self.start = self.position
        self._matches: list[tuple[int, ObservedEvent]] = []
        self._best: tuple[float, int, ObservedEvent] | None = None
        self._candidates = 0
        self._failed_at: int | None = None
        self._events: Sequence[ObservedEvent] = ()

    def feed(self, events: Sequence[ObservedEvent], *, now: datetime | None = None) -> ScanResult:
        """Look at events from the current position to the end of ``events``."""
        self._events = events
        if now is not None:
            self.ctx = MatchContext(now=now, step_start=self.ctx.step_start)
        exp = self.expectation
        ctx = self.ctx
        end = len(events)
        i = self.position
        needed = exp.count
        next_mode = exp.mode == "next"
        item = exp.item
        kind = exp.kind
        while i < end and len(self._matches) < needed and self._failed_at is None:
            event = events[i]
            if event.item == item and (kind is None or event.kind == kind):
                self._candidates += 1
                if exp.matches(event, ctx):
                    self._matches.append((i, event))
                else:
                    score = exp.score(event, ctx)
                    if self._best is None or score >= self._best[0]:
                        self._best = (score, i, event)
                    if next_mode:
                        self._failed_at = i
            i += 1
        self.position = i
        return self.result()

    def result(self, *, final: bool = False) -> ScanResult:
        """The result so far; with ``final`` (time is up) a pending result becomes failed."""
        exp = self.expectation
        closest = None
        if self._best is not None:
            score, index, event = self._best
            closest = Closest(index, event, score, exp.explain(event, self.ctx))
        matches = tuple(self._matches)
        if len(matches) >= exp.count:
            return ScanResult("matched", matches, matches[-1][0] + 1, closest, self._candidates, "")
        if self._failed_at is not None:
            failed = self._events[self._failed_at] if self._failed_at < len(self._events) else None
            why = exp.explain(failed, self.ctx) if failed is not None else ""
            message = f"the next {exp.kind or 'event'} of {exp.item} did not match: {why}"
            return ScanResult(
                "failed", matches, self._failed_at + 1, closest, self._candidates, message
            )
        message = self._pending_message()
        status: ScanStatus = "failed" if final else "pending"
        return ScanResult(status, matches, self.start, closest, self._candidates, message)

    def _pending_message(self) -> str:
        exp = self.expectation
        what = exp.kind or "event"
        got = len(self._matches)
        if self._candidates == 0:
            return f"no {what} of {exp.item} arrived"
        prefix = f"{got} of {exp.count} matching {what}s of {exp.item}; " if exp.count > 1 else ""
        if self._best is None:
            return f"{prefix}every {what} matched, but fewer than {exp.count} arrived"
        return (
            f"{prefix}no matching {what} of {exp.item} among {self._candidates}; "
            f"closest: {exp.explain(self._best[2], self.ctx)}"
        )


def scan_start(expectation: EventExpectation, cursor: int, last_write_index: int | None) -> int:
    """Where an expectation starts reading: the item's cursor, or after the last write.

    With ``since: last-write`` events before the last write to the item never count
    (and with no write yet, nothing before the cursor does either).
    """
    if expectation.since_last_write and last_write_index is not None:
        return max(cursor, last_write_index)
    return cursor


def scan(
    events: Sequence[ObservedEvent],
    start: int,
    expectation: EventExpectation,
    ctx: MatchContext | None = None,
    *,
    final: bool = False,
) -> ScanResult:
    """One-shot scan of ``events[start:]`` (see :class:`Scanner` for repeated scans)."""
    scanner = Scanner(expectation, start, ctx)
    scanner.feed(events)
    return scanner.result(final=final)


def timeline(
    events: Sequence[ObservedEvent], item: str, *, limit: int = 10, end: int | None = None
) -> list[ObservedEvent]:
    """The last ``limit`` events of ``item`` before ``end`` (oldest first), scanning backwards."""
    out: list[ObservedEvent] = []
    i = (len(events) if end is None else min(end, len(events))) - 1
    while i >= 0 and len(out) < limit:
        if events[i].item == item:
            out.append(events[i])
        i -= 1
    out.reverse()
    return out
