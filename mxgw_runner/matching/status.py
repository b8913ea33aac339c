"""Status matchers: ``ok``, or ``{category, detected-by, detail}`` on any status.

Category and source names compare case-insensitively in MXAccess or enum
spelling (``OperationalError``, ``MX_STATUS_CATEGORY_OPERATIONAL_ERROR``) or by
number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mxgw_runner.matching.events import ObservedStatus, status_text
from mxgw_runner.matching.names import CATEGORY_NAMES, SOURCE_NAMES, normalize_name
from mxgw_runner.matching.values import MatcherError, is_number

_CATEGORY_DISPLAY = {normalize_name(n): n for n in CATEGORY_NAMES.values()}
_SOURCE_DISPLAY = {normalize_name(n): n for n in SOURCE_NAMES.values()}


def _name_key(spec: Mapping[str, Any], key: str, names: Mapping[int, str], what: str) -> str | None:
    """``spec[key]`` (a name or a number of ``names``) in canonical form; None when absent.

    An unknown name is a :class:`MatcherError` that lists the known ones.
    """
    given = spec.get(key)
    if given is None:
        return None
    if isinstance(given, int) and not isinstance(given, bool):
        name = normalize_name(names.get(given, str(given)))
    else:
        name = normalize_name(given)
    if name not in {normalize_name(n) for n in names.values()}:
        raise MatcherError(f"unknown {what} {given!r} (one of {', '.join(names.values())})")
    return name


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
        return f"status {status_text(statuses)} is not {self.describe()}"

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


_OK = StatusMatcher(ok=True)
"""Matchers are immutable: every ``ok`` shares one."""


def compile_status(spec: Any) -> StatusMatcher:
    """Compile ``status:`` / ``expect:`` (``ok`` or a mapping)."""
    if spec == "ok" or spec is True:
        return _OK
    if isinstance(spec, Mapping):
        category = _name_key(spec, "category", CATEGORY_NAMES, "status category")
        detected_by = _name_key(spec, "detected-by", SOURCE_NAMES, "detected-by")
        detail = None
        if spec.get("detail") is not None:
            if not is_number(spec["detail"]):
                raise MatcherError("detail needs an integer")
            detail = int(spec["detail"])
        if category is None and detected_by is None and detail is None:
            raise MatcherError("an empty status matcher")
        return StatusMatcher(False, category, detected_by, detail)
    raise MatcherError(f"invalid status {spec!r} (ok or {{category, detected-by, detail}})")
