"""Every MXAccess data type through the worker: initial value, write, data change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from galaxysupport import Harness

from mxgateway import MxDataType, MxStatus, from_mx_value, to_mx_value
from mxgateway.generated import mxaccess_gateway_pb2 as pb

WHEN = datetime(2026, 7, 1, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("reference", "data_type", "initial", "written", "type_name"),
    [
        ("Types.Bool", MxDataType.BOOLEAN, True, False, None),
        ("Types.Int", MxDataType.INTEGER, 42, -7, None),
        ("Types.Float", MxDataType.FLOAT, 1.5, 2.25, "float"),
        ("Types.Double", MxDataType.DOUBLE, 3.25, -0.5, None),
        ("Types.String", MxDataType.STRING, "hello", "world", None),
        ("Types.Time", MxDataType.TIME, datetime(2026, 4, 30, 12, tzinfo=UTC), WHEN, None),
        ("Types.Elapsed", MxDataType.ELAPSED_TIME, timedelta(0, 90), timedelta(0, 300), None),
        ("Types.Reference", MxDataType.REFERENCE_TYPE, "Pump101.Speed.PV", "Tank01.Level.PV", None),
        ("Types.Status", MxDataType.STATUS_TYPE, 0, 3, None),
        ("Types.DataType", MxDataType.DATA_TYPE_ENUM, 4, 5, None),
        ("Types.Classification", MxDataType.SECURITY_CLASSIFICATION_ENUM, 1, 2, None),
        ("Types.Quality", MxDataType.DATA_QUALITY_TYPE, 192, 24, None),
        ("Types.QEnum", MxDataType.QUALIFIED_ENUM, 2, 3, None),
        ("Types.QStruct", MxDataType.QUALIFIED_STRUCT, "{}", '{"a": 1}', None),
        ("Types.IString", MxDataType.INTERNATIONALIZED_STRING, "Grüße", "Hallo", None),
        ("Types.BigString", MxDataType.BIG_STRING, "a long text", "x" * 5000, None),
        ("Types.IntArray[]", MxDataType.INTEGER, [1, 2, 3, 4, 5], [5, 4, 3, 2, 1], None),
        ("Types.DoubleArray[]", MxDataType.DOUBLE, [0.5, 1.5, 2.5], [1.0, 2.0, 3.0], None),
        ("Types.BoolArray[]", MxDataType.BOOLEAN, [True, False, True, False], [False] * 4, None),
        ("Types.StringArray[]", MxDataType.STRING, ["a", "b", "c"], ["x", "y", "z"], None),
        (
            "Types.TimeArray[]",
            MxDataType.TIME,
            [datetime(1970, 1, 1, tzinfo=UTC)] * 2,
            [WHEN, WHEN],
            None,
        ),
    ],
)
async def test_each_type_round_trips(
    reference: str, data_type: MxDataType, initial: Any, written: Any, type_name: str | None
) -> None:
    h = Harness()
    await h.register()
    item = await h.subscribe(reference)
    (first,) = h.of(item)
    assert MxDataType.from_wire(first.value.data_type) is data_type
    assert first.value.raw_data_type == int(data_type)
    assert from_mx_value(first.value) == initial
    status = await h.write_outcome(item, to_mx_value(written, type_name))
    assert MxStatus.from_proto(status).ok, status
    assert from_mx_value(h.of(item)[-1].value) == written


async def test_arrays_travel_as_typed_arrays() -> None:
    h = Harness()
    await h.register()
    item = await h.subscribe("Types.DoubleArray[]")
    array = h.of(item)[0].value.array_value
    assert array.element_data_type == pb.MX_DATA_TYPE_DOUBLE
    assert list(array.dimensions) == [3]
    assert array.WhichOneof("values") == "double_values"
