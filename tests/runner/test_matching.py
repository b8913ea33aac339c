"""Matchers: the scenario language's comparison rules and the closest-event explanation."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mxgw_runner.matching import (
    EventExpectation,
    MatchContext,
    MatcherError,
    ObservedEvent,
    ObservedStatus,
    Scanner,
    compile_quality,
    compile_status,
    compile_timestamp,
    compile_value,
    quality_name,
    scan,
    scan_start,
    timeline,
)

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def dc(item: str, value: Any, quality: int = 192, **kw: Any) -> ObservedEvent:
    return ObservedEvent("data-change", item, value, quality, kw.pop("ts", T0), **kw)


@pytest.mark.parametrize(
    ("spec", "value", "ok"),
    [
        (42, 42.0, True),
        (42.0, 42, True),
        (42, 42.5, False),
        (True, 1, False),  # a boolean is not a number
        (1, True, False),
        (True, True, True),
        (0.1, 0.10000000149011612, True),  # same 32-bit float (Float attribute)
        (0.1, 0.1000001, False),
        ("RUN", "RUN", True),
        ("RUN", "run", False),
        (None, None, True),
        (None, 0, False),
        ([1, 2, 3], [1.0, 2, 3], True),
        ([1, 2, 3], [1, 2], False),
        ([1, 2], (1, 2), True),
        ({"approx": 42.5, "tolerance": 0.5}, 42.0, True),
        ({"approx": 42.5, "tolerance": 0.5}, 41.9, False),
        ({"approx": 100, "rel": 0.01}, 101, True),
        ({"approx": 100, "rel": 0.01}, 101.5, False),
        ({"approx": 1.0}, 1.0000001, True),  # default rel 1e-6
        ({"approx": 1}, True, False),
        ({"between": [1, 5]}, 1, True),
        ({"between": [1, 5]}, 5.0, True),
        ({"between": [1, 5]}, 5.01, False),
        ({"gt": 3}, 3, False),
        ({"ge": 3}, 3, True),
        ({"lt": 3, "gt": 1}, 2, True),
        ({"lt": 3, "gt": 1}, 3, False),
        ({"le": 3}, "2", False),
        ({"ne": 0}, 0.0, False),
        ({"ne": 0}, 1, True),
        ({"in": [1, "a", True]}, 1.0, True),
        ({"in": [1, "a"]}, True, False),
        ({"regex": "^Pump\\d+$"}, "Pump101", True),
        ({"regex": "Pump"}, "xPumpx", True),  # searched, not anchored
        ({"regex": "1"}, 1, False),
        ([{"gt": 0}, {"regex": "a"}], [1, "abc"], True),
        ([{"gt": 0}, {"regex": "a"}], [0, "abc"], False),
        ("1.5s", timedelta(seconds=1.5), True),
        ("2026-01-01T12:00:00Z", T0, True),
        ("2026-01-01T12:00:01Z", T0, False),
    ],
)
def test_value_rules(spec: Any, value: Any, ok: bool) -> None:
    matcher = compile_value(spec)
    assert matcher.matches(value) is ok
    assert (matcher.score(value) == 1.0) is ok


def test_value_explanations_say_why() -> None:
    assert compile_value({"approx": 42.5, "tolerance": 0.5}).explain(41.7) == (
        "41.7 not within 0.5 of 42.5"
    )
    assert compile_value(1).explain(True) == "true is a boolean, not the number 1"
    assert compile_value([1, 2]).explain([1]) == "[1] has 1 elements, expected 2"
    assert compile_value([1, 2]).explain([1, 3]) == "[1] 3 is not 2"
    assert compile_value({"regex": "^A"}).explain("B") == "'B' does not match /^A/"


def test_invalid_specs_raise_matcher_error() -> None:
    for spec in ({"tolerance": 1}, {"between": [1]}, {"regex": "("}, {"bogus": 1}, {"in": []}):
        with pytest.raises(MatcherError):
            compile_value(spec)


@pytest.mark.parametrize(
    ("spec", "quality", "ok"),
    [
        ("good", 192, True),
        ("good", 192 | 0x10000, True),  # bit 16 ignored
        ("good", 216, True),  # local override is still class good
        ("good", 64, False),
        ("uncertain", 68, True),
        ("bad", 0, True),
        ("bad", 28, True),
        ("bad", 0x80, False),  # class bits 10 are not bad
        ("out-of-service", 28, True),
        ("out-of-service", 29, True),  # limit bits ignored
        ("out-of-service", 24, False),
        ("communication-failure", 24, True),
        (192, 192 | 0x10000, True),
        (192, 193, False),
        ({"class": "bad", "substatus": "out-of-service"}, 28, True),
        ({"class": "bad", "substatus": 7}, 28, True),
        ({"class": "uncertain", "limit": "low"}, 65, True),
        ({"class": "uncertain", "limit": "low"}, 66, False),
        ({"limit": "constant"}, 195, True),
    ],
)
def test_quality_rules(spec: Any, quality: int, ok: bool) -> None:
    assert compile_quality(spec).matches(quality) is ok


def test_quality_names() -> None:
    assert quality_name(192) == "good (192)"
    assert quality_name(28) == "bad: out-of-service (28)"
    assert quality_name(65) == "uncertain, limit low (65)"


@pytest.mark.parametrize(
    ("spec", "statuses", "ok"),
    [
        ("ok", (), True),
        ("ok", (ObservedStatus(-1, "Ok", "RespondingLmx", 0),), True),
        ("ok", (ObservedStatus(0, "Ok", "RespondingLmx", 0),), False),  # success flag 0
        ("ok", (ObservedStatus(-1, "Pending"),), False),
        (
            {"category": "OperationalError", "detected-by": "RespondingAutomationObject"},
            (ObservedStatus(0, "OperationalError", "RespondingAutomationObject", 3),),
            True,
        ),
        (
            {"category": "operational-error", "detail": 3},
            (ObservedStatus(0, "OPERATIONAL_ERROR", "RespondingAutomationObject", 3),),
            True,
        ),
        ({"category": 5}, (ObservedStatus(0, "OperationalError"),), True),
        (
            {"category": "MX_STATUS_CATEGORY_SECURITY_ERROR"},
            (ObservedStatus(0, "OperationalError"), ObservedStatus(0, "SecurityError")),
            True,  # any status may match
        ),
        ({"category": "SecurityError", "detail": 1}, (ObservedStatus(0, "SecurityError"),), False),
    ],
)
def test_status_rules(spec: Any, statuses: tuple[ObservedStatus, ...], ok: bool) -> None:
    assert compile_status(spec).matches(statuses) is ok


def test_unknown_status_names_are_refused() -> None:
    with pytest.raises(MatcherError, match="unknown status category"):
        compile_status({"category": "OperationalEror"})


def test_timestamp_rules() -> None:
    ctx = MatchContext(now=T0 + timedelta(seconds=10), step_start=T0 + timedelta(seconds=5))
    fresh = compile_timestamp({"max-age": "5s"})
    assert fresh.matches(T0 + timedelta(seconds=6), ctx)
    assert not fresh.matches(T0, ctx)
    assert "10s old" in fresh.explain(T0, ctx)
    after = compile_timestamp({"after": "step-start"})
    assert after.matches(T0 + timedelta(seconds=6), ctx)
    assert not after.matches(T0 + timedelta(seconds=5), ctx)
    assert not after.matches(None, ctx)


def expectation(**params: Any) -> EventExpectation:
    return EventExpectation.from_params({"item": "pv", **params})


def test_eventually_skips_non_matching_and_moves_the_cursor() -> None:
    events = [dc("pv", 1.0), dc("sp", 42.5), dc("pv", 42.4), dc("pv", 42.5)]
    exp = expectation(**{"data-change": {"value": {"approx": 42.5, "tolerance": 0.2}}})
    result = scan(events, 0, exp)
    assert result.status == "matched"
    assert [i for i, _ in result.matches] == [2]
    assert result.cursor == 3
    again = scan(events, result.cursor, exp)
    assert again.status == "matched" and again.cursor == 4


def test_next_mode_fails_on_the_first_mismatch() -> None:
    events = [dc("sp", 0), dc("pv", 1.0), dc("pv", 42.5)]
    exp = expectation(mode="next", **{"data-change": {"value": 42.5}})
    result = scan(events, 0, exp)
    assert result.status == "failed"
    assert "the next data-change of pv did not match: value 1.0 is not 42.5" in result.message


def test_count_needs_n_matches() -> None:
    events = [dc("pv", 1), dc("pv", 2), dc("pv", 3)]
    exp = expectation(count=3, **{"data-change": {"value": {"gt": 1}}})
    result = scan(events, 0, exp)
    assert result.status == "pending"
    assert result.message.startswith("2 of 3 matching data-changes of pv")
    assert scan(events, 0, exp, final=True).status == "failed"
    assert scan([*events, dc("pv", 4)], 0, exp).status == "matched"


def test_failure_reports_the_closest_event_with_an_explanation() -> None:
    events = [
        dc("pv", 10.0),
        dc("pv", 41.7),
        dc("pv", 42.0, quality=0),
        dc("other", 42.5),
    ]
    exp = expectation(
        **{"data-change": {"value": {"approx": 42.5, "tolerance": 0.5}, "quality": "good"}}
    )
    result = scan(events, 0, exp, final=True)
    assert result.status == "failed"
    assert result.closest is not None
    assert result.closest.index == 1
    assert result.closest.explanation == (
        "value 41.7 not within 0.5 of 42.5; quality good as expected"
    )
    assert result.candidates == 3


def test_nothing_arrived_message() -> None:
    exp = expectation(**{"write-complete": {"status": "ok"}})
    result = scan([dc("pv", 1)], 0, exp, final=True)
    assert result.message == "no write-complete of pv arrived"
    assert result.closest is None


def test_write_complete_status() -> None:
    refused = ObservedEvent(
        "write-complete",
        "sp",
        statuses=(ObservedStatus(0, "OperationalError", "RespondingAutomationObject", 0),),
    )
    exp = EventExpectation.from_params(
        {"item": "sp", "write-complete": {"status": {"category": "OperationalError"}}}
    )
    assert scan([refused], 0, exp).status == "matched"
    ok = EventExpectation.from_params({"item": "sp", "write-complete": {"status": "ok"}})
    result = scan([refused], 0, ok, final=True)
    assert result.closest is not None
    assert "OperationalError by RespondingAutomationObject" in result.closest.explanation


def test_incremental_scanner_looks_at_each_event_once() -> None:
    exp = expectation(**{"data-change": {"value": 3}})
    scanner = Scanner(exp, 0)
    events: list[ObservedEvent] = [dc("pv", 1)]
    assert scanner.feed(events).status == "pending"
    events.append(dc("pv", 2))
    assert scanner.feed(events).status == "pending"
    assert scanner.position == 2
    events.append(dc("pv", 3))
    result = scanner.feed(events)
    assert result.status == "matched" and result.cursor == 3


def test_scanning_100k_events_is_fast() -> None:
    events = [dc("pv" if i % 2 else "sp", float(i)) for i in range(100_000)]
    exp = expectation(
        **{"data-change": {"value": {"regex": "never"}, "quality": "good", "status": "ok"}}
    )
    started = time.perf_counter()
    result = scan(events, 0, exp, final=True)
    elapsed = time.perf_counter() - started
    assert result.status == "failed" and result.candidates == 50_000
    assert elapsed < 2.0, elapsed


def test_timeline_returns_the_last_events_of_the_item() -> None:
    events = [dc("pv" if i % 3 == 0 else "sp", i) for i in range(30)]
    last = timeline(events, "pv", limit=3)
    assert [e.value for e in last] == [21, 24, 27]


def test_event_description_and_dict() -> None:
    event = dc("pv", 41.7, arrival_wall=T0, worker_sequence=7)
    assert event.describe() == (
        "data-change pv value=41.7 quality=good (192) ts=2026-01-01T12:00:00.000Z status=ok "
        "arrived=2026-01-01T12:00:00.000Z"
    )
    assert event.to_dict()["worker-sequence"] == 7


def test_since_last_write_starts_after_the_write() -> None:
    events = [dc("pv", 42.5), dc("pv", 1.0), dc("pv", 42.5)]
    exp = expectation(since="last-write", **{"data-change": {"value": 42.5}})
    start = scan_start(exp, 0, 1)
    assert start == 1
    assert [i for i, _ in scan(events, start, exp).matches] == [2]
    assert scan_start(expectation(**{"data-change": {}}), 0, 1) == 0
