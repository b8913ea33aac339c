"""Coercion of written values to an attribute's type, the way MXAccess (COM VARIANTs) does.

A double written to an integer attribute is rounded (half to even, like
``VariantChangeType``); text that spells a number works; a boolean becomes -1/0 (VARIANT_TRUE
is -1). What cannot be converted raises :class:`CoercionError`, which the worker reports as a
write completion with category SoftwareError.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from mxgateway import MxDataType, ValueType, from_mx_value, to_mx_value
from mxgateway._values import parse_utc_datetime
from mxgateway.generated import mxaccess_gateway_pb2 as pb

__all__ = [
    "INTEGER_TYPES",
    "MAX_ARRAY_ELEMENTS",
    "STRING_TYPES",
    "CoercionError",
    "coerce",
    "coerce_scalar",
    "default_of",
    "encode",
]

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
FLOAT32_MAX = 3.4028234663852886e38
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: Types carried as 32-bit integers.
INTEGER_TYPES = frozenset(
    {
        MxDataType.INTEGER,
        MxDataType.STATUS_TYPE,
        MxDataType.DATA_TYPE_ENUM,
        MxDataType.SECURITY_CLASSIFICATION_ENUM,
        MxDataType.DATA_QUALITY_TYPE,
        MxDataType.QUALIFIED_ENUM,
    }
)
#: Types carried as text.
STRING_TYPES = frozenset(
    {
        MxDataType.STRING,
        MxDataType.BIG_STRING,
        MxDataType.INTERNATIONALIZED_STRING,
        MxDataType.REFERENCE_TYPE,
        MxDataType.QUALIFIED_STRUCT,
    }
)


#: Most elements a sparse array write may expand to (our choice; the contract sets none).
MAX_ARRAY_ELEMENTS = 1_000_000


class CoercionError(ValueError):
    """A value cannot be converted to the attribute's type."""


def default_of(data_type: MxDataType) -> Any:
    """The value an element of this type takes when nothing else is known."""
    if data_type is MxDataType.BOOLEAN:
        return False
    if data_type in INTEGER_TYPES:
        return 0
    if data_type in (MxDataType.FLOAT, MxDataType.DOUBLE):
        return 0.0
    if data_type is MxDataType.TIME:
        return EPOCH
    if data_type is MxDataType.ELAPSED_TIME:
        return timedelta(0)
    return ""


def _fail(value: Any, data_type: MxDataType, why: str) -> CoercionError:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return CoercionError(f"cannot convert {text} to {data_type.type_name}: {why}")


def _number(value: Any, data_type: MxDataType) -> float | int:
    if isinstance(value, bool):
        return -1 if value else 0
    if isinstance(value, int | float):
        return value
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text, 10)
        except ValueError:
            pass
        try:
            return float(text)
        except ValueError:
            raise _fail(value, data_type, "not a number") from None
    raise _fail(value, data_type, f"a {type(value).__name__} is not a number")


def coerce_scalar(value: Any, data_type: MxDataType) -> Any:
    """Convert one scalar to the Python form of ``data_type`` (raises CoercionError)."""
    if value is None:
        raise _fail(value, data_type, "an empty value cannot be written")
    if data_type is MxDataType.BOOLEAN:
        if isinstance(value, str):
            key = value.strip().lower()
            if key in ("true", "on", "yes"):
                return True
            if key in ("false", "off", "no"):
                return False
        number = _number(value, data_type)
        if isinstance(number, float) and not math.isfinite(number):
            raise _fail(value, data_type, "not a finite number")
        return number != 0
    if data_type in INTEGER_TYPES:
        number = _number(value, data_type)
        if isinstance(number, float):
            if not math.isfinite(number):
                raise _fail(value, data_type, "not a finite number")
            number = round(number)  # half to even, like VariantChangeType
        if not INT32_MIN <= number <= INT32_MAX:
            raise _fail(value, data_type, "outside the 32-bit integer range")
        return int(number)
    if data_type in (MxDataType.FLOAT, MxDataType.DOUBLE):
        real = float(_number(value, data_type))
        if not math.isfinite(real):
            raise _fail(value, data_type, "MXAccess does not accept NaN or infinity")
        if data_type is MxDataType.FLOAT and abs(real) > FLOAT32_MAX:
            raise _fail(value, data_type, "outside the 32-bit float range")
        return real
    if data_type in STRING_TYPES:
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "True" if value else "False"
        if isinstance(value, int | float):
            return repr(value) if isinstance(value, float) else str(value)
        if isinstance(value, datetime):
            return value.isoformat()
        raise _fail(value, data_type, f"a {type(value).__name__} has no text form")
    if data_type is MxDataType.TIME:
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, str):
            try:
                return parse_utc_datetime(value)
            except ValueError:
                raise _fail(value, data_type, "not an ISO 8601 date and time") from None
        raise _fail(value, data_type, f"a {type(value).__name__} is not a time")
    if data_type is MxDataType.ELAPSED_TIME:
        if isinstance(value, timedelta):
            return value
        if isinstance(value, str) and ":" in value:
            try:
                return from_mx_value(to_mx_value(value, "elapsed"))
            except ValueError:
                raise _fail(value, data_type, "expected [-][D.]HH:MM:SS[.fff]") from None
        number = _number(value, data_type)
        if isinstance(value, bool) or not math.isfinite(float(number)):
            raise _fail(value, data_type, "not a number of seconds")
        return timedelta(seconds=float(number))
    raise _fail(value, data_type, "this type cannot be written")


def coerce(value: Any, data_type: MxDataType, is_array: bool) -> Any:
    """Convert a scalar, or a list for an array attribute (element by element)."""
    if not is_array:
        if isinstance(value, list):
            raise _fail(value, data_type, "an array cannot be written to a scalar")
        return coerce_scalar(value, data_type)
    if not isinstance(value, list):
        raise _fail(value, data_type, "a scalar cannot be written to a whole array")
    out = []
    for index, item in enumerate(value):
        try:
            out.append(coerce_scalar(item, data_type))
        except CoercionError as exc:
            raise CoercionError(f"element {index + 1}: {exc}") from None
    return out


def encode(value: Any, data_type: MxDataType, is_array: bool) -> pb.MxValue:
    """The ``MxValue`` MXAccess would deliver for an already-coerced value."""
    if value is None:
        return empty_value()
    if data_type is MxDataType.QUALIFIED_STRUCT:
        return _encode_struct(value, is_array)
    return to_mx_value(value, ValueType(data_type, is_array))


def _encode_struct(value: Any, is_array: bool) -> pb.MxValue:
    # The client library has no Python form for qualified structs; they travel as text.
    wire = MxDataType.QUALIFIED_STRUCT.wire
    raw = int(MxDataType.QUALIFIED_STRUCT)
    if not is_array:
        return pb.MxValue(
            data_type=wire,  # type: ignore[arg-type]
            raw_data_type=raw,
            variant_type="VT_BSTR",
            string_value=str(value),
        )
    msg = pb.MxValue(
        data_type=wire,  # type: ignore[arg-type]
        raw_data_type=raw,
        variant_type="VT_ARRAY|VT_BSTR",
    )
    msg.array_value.element_data_type = wire  # type: ignore[assignment]
    msg.array_value.variant_type = "VT_ARRAY|VT_BSTR"
    msg.array_value.dimensions.append(len(value))
    msg.array_value.string_values.values.extend(str(v) for v in value)
    return msg


def empty_value() -> pb.MxValue:
    """The VT_EMPTY value (no data)."""
    return pb.MxValue(
        data_type=MxDataType.NO_DATA.wire,  # type: ignore[arg-type]
        raw_data_type=int(MxDataType.NO_DATA),
        variant_type="VT_EMPTY",
        is_null=True,
    )


def decode_written(value: pb.MxValue) -> Any:
    """The Python value of a written ``MxValue``; sparse arrays are expanded here.

    Raises :class:`CoercionError` for a value that has no meaning (e.g. a malformed array).
    """
    if value.WhichOneof("kind") == "sparse_array_value":
        sparse = value.sparse_array_value
        if sparse.total_length > MAX_ARRAY_ELEMENTS:
            # A 20-byte request must not make the simulator build a 4-billion-element list.
            raise CoercionError(
                f"sparse array of {sparse.total_length} elements; "
                f"at most {MAX_ARRAY_ELEMENTS} are accepted"
            )
        element_type = MxDataType.from_wire(sparse.element_data_type)
        items: list[Any] = [default_of(element_type)] * sparse.total_length
        for element in sparse.elements:
            if element.index >= sparse.total_length:
                raise CoercionError(f"sparse index {element.index} beyond {sparse.total_length}")
            items[element.index] = from_mx_value(element.value)
        return items
    try:
        return from_mx_value(value)
    except (ValueError, KeyError) as exc:
        raise CoercionError(f"unreadable value: {exc}") from None
