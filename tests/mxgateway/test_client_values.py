"""Value conversion rules, type names, statuses and quality."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mxgateway import (
    MxDataType,
    MxStatusCategory,
    MxStatusSource,
    Quality,
    SparseArray,
    ValueConversionError,
    ValueType,
    from_mx_value,
    parse_type_name,
    to_mx_value,
    type_names,
    value_type_of,
)

INT32 = st.integers(min_value=-(2**31), max_value=2**31 - 1)


@pytest.mark.parametrize(
    ("value", "type_", "fragment"),
    [
        (math.nan, None, "NaN or infinity"),
        (math.inf, "double", "NaN or infinity"),
        (-math.inf, "float", "NaN or infinity"),
        ("nan", "double", "NaN or infinity"),
        ([1.0, math.nan], None, "element 1"),
        (2**31, None, "32-bit range"),
        (-(2**31) - 1, "int32", "32-bit range"),
        (1e39, "float", "32-bit float range"),
        (1.5, "int32", "not a whole number"),
        ("abc", "int32", "not an integer"),
        ("maybe", "bool", "true/false"),
        (2, "bool", "only 0, 1 and -1"),
        ([], None, "explicit type"),
        ([1, "a"], None, "mixed element types"),
        ({"a": 1}, None, "no MXAccess type for dict"),
        ([1, 2], "int32", "array type"),
        ("2026-13-01", "time", "ISO 8601"),
        (1, "qualifiedstruct", "cannot be written"),
        (None, "int32", "nodata"),
        (SparseArray("int32", 2, {5: 1}), None, "index 5 outside"),
    ],
)
def test_refused_values_name_the_value(value: object, type_: str | None, fragment: str) -> None:
    with pytest.raises(ValueConversionError) as info:
        to_mx_value(value, type_)
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)


def test_nan_and_infinity_decode_when_the_gateway_sends_them() -> None:
    nan = to_mx_value(1.0)
    nan.double_value = math.nan
    assert math.isnan(from_mx_value(nan))
    inf = to_mx_value(1.0, "float")
    inf.float_value = -math.inf
    assert from_mx_value(inf) == -math.inf


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bool", ValueType(MxDataType.BOOLEAN)),
        ("Boolean", ValueType(MxDataType.BOOLEAN)),
        ("int32", ValueType(MxDataType.INTEGER)),
        ("INT32[]", ValueType(MxDataType.INTEGER, True)),
        ("float", ValueType(MxDataType.FLOAT)),
        ("double[]", ValueType(MxDataType.DOUBLE, True)),
        ("string", ValueType(MxDataType.STRING)),
        ("bigstring", ValueType(MxDataType.BIG_STRING)),
        ("big_string", ValueType(MxDataType.BIG_STRING)),
        ("time", ValueType(MxDataType.TIME)),
        ("elapsed", ValueType(MxDataType.ELAPSED_TIME)),
        ("elapsed-time[]", ValueType(MxDataType.ELAPSED_TIME, True)),
        (MxDataType.DOUBLE, ValueType(MxDataType.DOUBLE)),
    ],
)
def test_parse_type_name(name: str | MxDataType, expected: ValueType) -> None:
    parsed = parse_type_name(name)
    assert parsed == expected
    assert parse_type_name(parsed.name) == parsed


def test_unknown_type_name_lists_the_accepted_ones() -> None:
    with pytest.raises(ValueConversionError, match="unknown type name 'int64'") as info:
        parse_type_name("int64")
    for name in type_names():
        assert name in str(info.value)


def test_data_type_numbers_follow_the_contract() -> None:
    assert MxDataType.INTEGER == 2 and MxDataType.INTEGER.wire == 4
    assert MxDataType.from_wire(18) is MxDataType.BIG_STRING
    assert MxDataType.from_wire(999) is MxDataType.UNKNOWN
    assert value_type_of(to_mx_value([1.5])) == ValueType(MxDataType.DOUBLE, True)


def test_explicit_types_parse_text() -> None:
    assert from_mx_value(to_mx_value("true", "bool")) is True
    assert from_mx_value(to_mx_value("0x10", "int32")) == 16
    assert from_mx_value(to_mx_value("[1.5, 2]", "double[]")) == [1.5, 2.0]
    assert from_mx_value(to_mx_value("", "string[]")) == []
    assert from_mx_value(to_mx_value("01:02:03.5", "elapsed")) == timedelta(
        hours=1, minutes=2, seconds=3.5
    )
    assert from_mx_value(to_mx_value("-1.02:00:00", "elapsed")) == -timedelta(days=1, hours=2)


def test_times_are_utc_and_keep_microseconds() -> None:
    local = datetime(2026, 4, 30, 14, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    decoded = from_mx_value(to_mx_value(local))
    assert decoded == local and decoded.tzinfo == UTC and decoded.microsecond == 123456
    naive = from_mx_value(to_mx_value(datetime(2026, 1, 1, 0, 0)))
    assert naive == datetime(2026, 1, 1, tzinfo=UTC)


@given(st.one_of(st.booleans(), INT32, st.text(), st.floats(allow_nan=False, allow_infinity=False)))
def test_scalar_round_trip(value: object) -> None:
    assert from_mx_value(to_mx_value(value)) == value


@given(st.floats(width=32, allow_nan=False, allow_infinity=False))
def test_float32_round_trip(value: float) -> None:
    assert from_mx_value(to_mx_value(value, "float")) == value


@given(st.lists(INT32) | st.lists(st.text()) | st.lists(st.booleans()))
def test_array_round_trip(values: list[object]) -> None:
    kind = "int32[]" if values and isinstance(values[0], int) else "string[]"
    if values and isinstance(values[0], bool):
        kind = "bool[]"
    assert from_mx_value(to_mx_value(values, kind)) == values


@given(
    st.datetimes(
        min_value=datetime(1601, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)
    )
)
def test_time_round_trip(value: datetime) -> None:
    assert from_mx_value(to_mx_value(value)) == value


@given(st.timedeltas(min_value=timedelta(days=-9999), max_value=timedelta(days=9999)))
def test_elapsed_round_trip(value: timedelta) -> None:
    assert from_mx_value(to_mx_value(value)) == value


def test_status_enums_are_named_as_mxaccess() -> None:
    assert MxStatusCategory.OPERATIONAL_ERROR.label == "OperationalError"
    assert MxStatusCategory.OK.label == "Ok"
    assert MxStatusSource.RESPONDING_AUTOMATION_OBJECT.label == "RespondingAutomationObject"
    assert MxStatusCategory.SECURITY_ERROR == 6 and MxStatusCategory.SECURITY_ERROR.wire == 8
    assert MxStatusCategory.from_wire(8) is MxStatusCategory.SECURITY_ERROR
    assert MxStatusSource.from_wire(5) is MxStatusSource.RESPONDING_NMX
    assert MxStatusCategory.from_wire(77) is MxStatusCategory.UNKNOWN


@pytest.mark.parametrize(
    ("quality", "name", "good", "bad"),
    [
        (192, "Good", True, False),
        (216, "Good: local override", True, False),
        (0x100C0, "Good", True, False),  # bit 16 set: classified on the low byte
        (0, "Bad", False, True),
        (24, "Bad: communication failure", False, True),
        (28, "Bad: out of service", False, True),
        (32, "Bad: waiting for initial data", False, True),
        (64, "Uncertain", False, False),
        (89, "Uncertain: sub-normal (low)", False, False),
        (66, "Uncertain (high)", False, False),
    ],
)
def test_quality(quality: int, name: str, good: bool, bad: bool) -> None:
    q = Quality(quality)
    assert q.name == name and str(q) == name
    assert q.is_good is good and q.is_bad is bad
    assert int(q) == quality


def test_quality_parts() -> None:
    q = Quality(24 | 2)
    assert (
        q.substatus == 6 and q.limit.name == "HIGH" and q.substatus_text == "communication failure"
    )
