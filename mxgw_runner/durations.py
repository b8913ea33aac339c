"""Duration parsing: ``10s``, ``250ms``, ``2m``, ``1h``, ``1m30s`` or a number of seconds."""

from __future__ import annotations

import math
import re

_UNITS: dict[str, float] = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}

#: The textual form accepted for durations; also used by the JSON schema.
DURATION_PATTERN = r"^\s*(?:\d+(?:\.\d+)?(?:ms|s|m|h)\s*)+$"

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_WHOLE = re.compile(DURATION_PATTERN)


class DurationError(ValueError):
    """A value is not a valid duration."""


def parse_duration(value: object) -> float:
    """Return seconds for a duration string or a non-negative number (seconds).

    Booleans are refused (YAML ``true`` is not a duration), as are negative,
    infinite and NaN values.
    """
    if isinstance(value, bool):
        raise DurationError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        seconds = float(value)
        if math.isnan(seconds) or math.isinf(seconds) or seconds < 0:
            raise DurationError(f"{value!r} is not a duration (needs a finite number >= 0)")
        return seconds
    if isinstance(value, str):
        if not _WHOLE.match(value):
            raise DurationError(
                f"{value!r} is not a duration (write e.g. 10s, 250ms, 2m, 1h or 1m30s)"
            )
        return sum(float(n) * _UNITS[u] for n, u in _PART.findall(value))
    raise DurationError(f"{value!r} is not a duration")


def format_duration(seconds: float) -> str:
    """Short human form used in reports: ``250 ms``, ``12.5 s``, ``2 m 5 s``."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.3g} s" if seconds < 10 else f"{seconds:.1f} s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes:.0f} m {rest:.0f} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours:.0f} h {minutes:.0f} m"
