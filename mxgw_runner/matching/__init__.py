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

The package keeps one idea a module: :mod:`.events` (the observed-event model),
:mod:`.names` (status and quality names), :mod:`.values`, :mod:`.numbers` and
:mod:`.value_spec` (value matchers), :mod:`.quality`, :mod:`.status`,
:mod:`.timestamps`, :mod:`.expectation`, :mod:`.scanner` (scanning and the
closest event) and :mod:`.timeline`. Everything public is re-exported here.
"""

from __future__ import annotations

from mxgw_runner.matching.events import (
    EVENT_KINDS,
    EventKind,
    ObservedEvent,
    ObservedStatus,
    format_value,
    json_value,
)
from mxgw_runner.matching.expectation import EventExpectation
from mxgw_runner.matching.names import (
    NAMED_QUALITIES,
    QUALITY_CLASSES,
    normalize_name,
    quality_class,
    quality_name,
)
from mxgw_runner.matching.numbers import Approx, Between, Compare
from mxgw_runner.matching.quality import QualityMatcher, compile_quality
from mxgw_runner.matching.scanner import (
    Closest,
    Scanner,
    ScanResult,
    ScanStatus,
    scan,
    scan_start,
)
from mxgw_runner.matching.status import StatusMatcher, compile_status
from mxgw_runner.matching.timeline import timeline
from mxgw_runner.matching.timestamps import MatchContext, TimestampMatcher, compile_timestamp
from mxgw_runner.matching.value_spec import AllOf, ArrayOf, OneOf, compile_value
from mxgw_runner.matching.values import (
    Equals,
    MatcherError,
    Not,
    Regex,
    ValueMatcher,
    is_number,
)

__all__ = [
    "EVENT_KINDS",
    "NAMED_QUALITIES",
    "QUALITY_CLASSES",
    "AllOf",
    "Approx",
    "ArrayOf",
    "Between",
    "Closest",
    "Compare",
    "Equals",
    "EventExpectation",
    "EventKind",
    "MatchContext",
    "MatcherError",
    "Not",
    "ObservedEvent",
    "ObservedStatus",
    "OneOf",
    "QualityMatcher",
    "Regex",
    "ScanResult",
    "ScanStatus",
    "Scanner",
    "StatusMatcher",
    "TimestampMatcher",
    "ValueMatcher",
    "compile_quality",
    "compile_status",
    "compile_timestamp",
    "compile_value",
    "format_value",
    "is_number",
    "json_value",
    "normalize_name",
    "quality_class",
    "quality_name",
    "scan",
    "scan_start",
    "timeline",
]
