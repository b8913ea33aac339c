"""Durations: strings with units or seconds as numbers."""

from __future__ import annotations

import pytest

from mxgw_runner.durations import DurationError, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("10s", 10.0),
        ("250ms", 0.25),
        ("2m", 120.0),
        ("1h", 3600.0),
        ("1m30s", 90.0),
        ("1.5s", 1.5),
        (" 5s ", 5.0),
        (0, 0.0),
        (2.5, 2.5),
    ],
)
def test_parse(text: object, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "bad", ["soon", "10", "10 s x", "-1s", "1d", "", True, -1, float("nan"), None]
)
def test_refused(bad: object) -> None:
    with pytest.raises(DurationError):
        parse_duration(bad)


def test_format() -> None:
    assert format_duration(0.25) == "250 ms"
    assert format_duration(12.5) == "12.5 s"
    assert format_duration(125) == "2 m 5 s"
