"""Python values to ``MxValue`` and back.

``to_mx_value`` infers the MXAccess type from the Python value (bool, int -> int32, float ->
double, str, datetime -> time, timedelta -> elapsed, lists -> arrays) unless ``type=`` names
it; with a type, strings are parsed too (so CLI and YAML text can be passed through). NaN and
infinity are refused for writes, as MXAccess refuses them; ``from_mx_value`` decodes them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from mxgateway._errors import ValueConversionError
from mxgateway._types import MxDataType, ValueType, parse_type_name
from mxgateway.generated import mxaccess_gateway_pb2 as pb

__all__ = ["SparseArray", "from_mx_value", "to_mx_value", "value_type_of"]

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
FLOAT32_MAX = 3.4028234663852886e38
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SparseArray:
    """A partial array write: ``elements`` (index -> value) in an array of ``total_length``.

    The gateway expands it to a full array; elements not listed are reset to the element
    type's default (false, 0, "", the Unix epoch), not kept.
    """

    element_type: MxDataType | str
    total_length: int
    elements: Mapping[int, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Normalise a name like "int32" so equal arrays compare equal.
        if not isinstance(self.element_type, MxDataType):
            vt = parse_type_name(self.element_type)
            if vt.array:
                raise _fail(self.element_type, vt, "a sparse array's element type is a scalar")
            object.__setattr__(self, "element_type", vt.data_type)


# data type -> (oneof field for a scalar, VARIANT tag, array list field)
_LAYOUT: dict[MxDataType, tuple[str, str, str]] = {
    MxDataType.BOOLEAN: ("bool_value", "VT_BOOL", "bool_values"),
    MxDataType.INTEGER: ("int32_value", "VT_I4", "int32_values"),
    MxDataType.FLOAT: ("float_value", "VT_R4", "float_values"),
    MxDataType.DOUBLE: ("double_value", "VT_R8", "double_values"),
    MxDataType.STRING: ("string_value", "VT_BSTR", "string_values"),
    MxDataType.BIG_STRING: ("string_value", "VT_BSTR", "string_values"),
    MxDataType.INTERNATIONALIZED_STRING: ("string_value", "VT_BSTR", "string_values"),
    MxDataType.REFERENCE_TYPE: ("string_value", "VT_BSTR", "string_values"),
    MxDataType.TIME: ("timestamp_value", "VT_DATE", "timestamp_values"),
    MxDataType.ELAPSED_TIME: ("duration_value", "VT_I8", "duration_values"),
    MxDataType.STATUS_TYPE: ("int32_value", "VT_I4", "int32_values"),
    MxDataType.DATA_TYPE_ENUM: ("int32_value", "VT_I4", "int32_values"),
    MxDataType.SECURITY_CLASSIFICATION_ENUM: ("int32_value", "VT_I4", "int32_values"),
    MxDataType.DATA_QUALITY_TYPE: ("int32_value", "VT_I4", "int32_values"),
    MxDataType.QUALIFIED_ENUM: ("int32_value", "VT_I4", "int32_values"),
}

_TRUE = {"true", "1", "yes", "on", "-1"}
_FALSE = {"false", "0", "no", "off"}
_ELAPSED_RE = re.compile(r"^(-)?(?:(\d+)[.d ])?(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")


def _fail(value: Any, vtype: ValueType | str, why: str) -> ValueConversionError:
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return ValueConversionError(f"cannot convert {text} to {vtype}: {why}")


# --------------------------------------------------------------------------- scalars


def _to_bool(value: Any, vt: ValueType) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if value in (0, 1, -1):
            return value != 0
        raise _fail(value, vt, "only 0, 1 and -1 are booleans")
    if isinstance(value, str):
        key = value.strip().lower()
        if key in _TRUE:
            return True
        if key in _FALSE:
            return False
        raise _fail(value, vt, "expected true/false, 1/0, yes/no or on/off")
    raise _fail(value, vt, f"a {type(value).__name__} is not a boolean")


def _to_int32(value: Any, vt: ValueType) -> int:
    if isinstance(value, bool):
        number = int(value)
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise _fail(value, vt, "not a whole number")
        number = int(value)
    elif isinstance(value, str):
        try:
            number = int(value.strip(), 0)
        except ValueError:
            raise _fail(value, vt, "not an integer") from None
    else:
        raise _fail(value, vt, f"a {type(value).__name__} is not an integer")
    if not INT32_MIN <= number <= INT32_MAX:
        raise _fail(value, vt, f"outside the 32-bit range {INT32_MIN}..{INT32_MAX}")
    return number


def _to_real(value: Any, vt: ValueType, limit: float | None) -> float:
    if isinstance(value, bool):
        raise _fail(value, vt, "a boolean is not a number")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise _fail(value, vt, "not a number") from None
    else:
        raise _fail(value, vt, f"a {type(value).__name__} is not a number")
    if not math.isfinite(number):
        raise _fail(value, vt, "MXAccess does not accept NaN or infinity")
    if limit is not None and abs(number) > limit:
        raise _fail(value, vt, "outside the 32-bit float range")
    return number


def _to_str(value: Any, vt: ValueType) -> str:
    if isinstance(value, str):
        return value
    raise _fail(value, vt, f"a {type(value).__name__} is not a string")


def parse_utc_datetime(text: str) -> datetime:
    """An ISO 8601 date and time (``Z`` accepted); without an offset it is taken as UTC.

    Raises ``ValueError`` for text that is not one."""
    text = text.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _to_datetime(value: Any, vt: ValueType) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        try:
            return parse_utc_datetime(value)
        except ValueError:
            raise _fail(value, vt, "expected an ISO 8601 date and time") from None
    raise _fail(value, vt, f"a {type(value).__name__} is not a datetime")


def _to_timedelta(value: Any, vt: ValueType) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise _fail(value, vt, "not a finite number of seconds")
        return timedelta(seconds=value)
    if isinstance(value, str):
        text = value.strip()
        match = _ELAPSED_RE.match(text)
        if match:
            sign, days, hours, minutes, seconds = match.groups()
            delta = timedelta(
                days=int(days or 0), hours=int(hours), minutes=int(minutes), seconds=float(seconds)
            )
            return -delta if sign else delta
        try:
            return _to_timedelta(float(text), vt)
        except ValueError:
            raise _fail(value, vt, "expected seconds or [-][D.]HH:MM:SS[.fff]") from None
    raise _fail(value, vt, f"a {type(value).__name__} is not a duration")


def _timestamp(dt: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(dt)
    return ts


def _duration(delta: timedelta) -> Duration:
    d = Duration()
    d.FromTimedelta(delta)
    return d


def _scalar_python(value: Any, vt: ValueType) -> Any:
    """Validate and normalise one scalar for ``vt.data_type``."""
    dt = vt.data_type
    if dt is MxDataType.BOOLEAN:
        return _to_bool(value, vt)
    if dt is MxDataType.FLOAT:
        return _to_real(value, vt, FLOAT32_MAX)
    if dt is MxDataType.DOUBLE:
        return _to_real(value, vt, None)
    if dt is MxDataType.TIME:
        return _timestamp(_to_datetime(value, vt))
    if dt is MxDataType.ELAPSED_TIME:
        return _duration(_to_timedelta(value, vt))
    if dt is MxDataType.QUALIFIED_ENUM and isinstance(value, str):
        raise _fail(value, vt, "a qualified enum is written by its ordinal (an integer)")
    slot = _LAYOUT[dt][0]
    if slot == "string_value":
        return _to_str(value, vt)
    return _to_int32(value, vt)


def _set_scalar(msg: pb.MxValue, vt: ValueType, value: Any) -> None:
    slot, variant, _ = _LAYOUT[vt.data_type]
    py = _scalar_python(value, vt)
    if isinstance(py, Timestamp | Duration):
        getattr(msg, slot).CopyFrom(py)
    else:
        setattr(msg, slot, py)
    msg.data_type = vt.data_type.wire  # type: ignore[assignment]
    msg.raw_data_type = int(vt.data_type)
    msg.variant_type = variant


# --------------------------------------------------------------------------- inference


def _infer_scalar(value: Any) -> MxDataType | None:
    if isinstance(value, bool):
        return MxDataType.BOOLEAN
    if isinstance(value, int):
        return MxDataType.INTEGER
    if isinstance(value, float):
        return MxDataType.DOUBLE
    if isinstance(value, str):
        return MxDataType.STRING
    if isinstance(value, datetime):
        return MxDataType.TIME
    if isinstance(value, timedelta):
        return MxDataType.ELAPSED_TIME
    return None


def _infer(value: Any) -> ValueType:
    scalar = _infer_scalar(value)
    if scalar is not None:
        return ValueType(scalar)
    if isinstance(value, list | tuple):
        if not value:
            raise _fail(value, "an array", "an empty list needs an explicit type, e.g. 'int32[]'")
        kinds = {_infer_scalar(v) for v in value}
        if kinds == {MxDataType.INTEGER, MxDataType.DOUBLE}:
            return ValueType(MxDataType.DOUBLE, True)
        if len(kinds) == 1 and None not in kinds:
            (kind,) = kinds
            assert kind is not None
            return ValueType(kind, True)
        raise _fail(value, "an array", "mixed element types; pass type=, e.g. 'string[]'")
    raise _fail(value, "an MxValue", f"no MXAccess type for {type(value).__name__}; pass type=")


# --------------------------------------------------------------------------- public


def to_mx_value(value: Any, type: str | MxDataType | ValueType | None = None) -> pb.MxValue:
    """Convert a Python value to an ``MxValue`` for a write.

    ``type`` (a name such as ``"int32"`` / ``"double[]"``, an ``MxDataType`` or a
    ``ValueType``) picks the MXAccess type when the Python value is ambiguous; with a type,
    strings are parsed (``"12"``, ``"true"``, ``"2026-04-30T12:00:00Z"``, ``"1,2,3"``).
    ``None`` is the empty value (VT_EMPTY). Raises ``ValueConversionError`` naming the value.
    """
    if isinstance(value, pb.MxValue):
        return value
    if isinstance(value, SparseArray):
        return _sparse(value)
    if value is None:
        if type is not None and parse_type_name(type).data_type is not MxDataType.NO_DATA:
            raise _fail(value, parse_type_name(type), "None can only be written as nodata")
        return pb.MxValue(
            data_type=MxDataType.NO_DATA.wire,  # type: ignore[arg-type]
            raw_data_type=int(MxDataType.NO_DATA),
            variant_type="VT_EMPTY",
            is_null=True,
        )
    vt = _infer(value) if type is None else parse_type_name(type)
    if vt.data_type not in _LAYOUT:
        raise _fail(value, vt, "this MXAccess type cannot be written from Python")
    msg = pb.MxValue()
    if not vt.array:
        if isinstance(value, list | tuple):
            raise _fail(value, vt, f"a list needs an array type such as '{vt}[]'")
        _set_scalar(msg, vt, value)
        return msg
    items = _array_items(value, vt)
    _set_array(msg.array_value, vt, items)
    msg.data_type = vt.data_type.wire  # type: ignore[assignment]
    msg.raw_data_type = int(vt.data_type)
    msg.variant_type = "VT_ARRAY|" + _LAYOUT[vt.data_type][1]
    return msg


def _array_items(value: Any, vt: ValueType) -> Sequence[Any]:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError as exc:
                raise _fail(value, vt, f"not a JSON array: {exc.msg}") from None
            if not isinstance(parsed, list):
                raise _fail(value, vt, "not a JSON array")
            return parsed
        return [part.strip() for part in text.split(",")] if text else []
    if isinstance(value, list | tuple):
        return value
    raise _fail(value, vt, "an array type needs a list")


def _set_array(arr: pb.MxArray, vt: ValueType, items: Sequence[Any]) -> None:
    scalar = ValueType(vt.data_type)
    _, variant, list_field = _LAYOUT[vt.data_type]
    arr.element_data_type = vt.data_type.wire  # type: ignore[assignment]
    arr.variant_type = "VT_ARRAY|" + variant
    arr.dimensions.append(len(items))
    target = getattr(arr, list_field)
    target.SetInParent()
    converted = []
    for index, item in enumerate(items):
        try:
            converted.append(_scalar_python(item, scalar))
        except ValueConversionError as exc:
            raise ValueConversionError(f"element {index}: {exc}") from None
    if list_field in ("timestamp_values", "duration_values"):
        for item in converted:
            target.values.add().CopyFrom(item)
    else:
        target.values.extend(converted)


def _sparse(value: SparseArray) -> pb.MxValue:
    vt = parse_type_name(value.element_type)
    if vt.array or vt.data_type not in _LAYOUT:
        raise _fail(value, vt, "a sparse array needs a scalar, writable element type")
    if value.total_length < 0:
        raise _fail(value, vt, "total_length must not be negative")
    msg = pb.MxValue(
        data_type=vt.data_type.wire,  # type: ignore[arg-type]
        raw_data_type=int(vt.data_type),
        variant_type="VT_ARRAY|" + _LAYOUT[vt.data_type][1],
    )
    sparse = msg.sparse_array_value
    sparse.element_data_type = vt.data_type.wire  # type: ignore[assignment]
    sparse.total_length = value.total_length
    for index in sorted(value.elements):
        if not 0 <= index < value.total_length:
            raise _fail(value, vt, f"index {index} outside 0..{value.total_length - 1}")
        element = sparse.elements.add(index=index)
        try:
            element.value.CopyFrom(to_mx_value(value.elements[index], vt))
        except ValueConversionError as exc:
            raise ValueConversionError(f"element {index}: {exc}") from None
    return msg


# --------------------------------------------------------------------------- decoding


def _ts(ts: Timestamp) -> datetime:
    return _EPOCH + timedelta(seconds=ts.seconds, microseconds=ts.nanos // 1000)


def _dur(d: Duration) -> timedelta:
    return timedelta(seconds=d.seconds, microseconds=d.nanos // 1000)


def _array(arr: pb.MxArray) -> list[Any]:
    which = arr.WhichOneof("values")
    if which is None:
        return []
    values = getattr(arr, which).values
    if which == "timestamp_values":
        flat: list[Any] = [_ts(v) for v in values]
    elif which == "duration_values":
        flat = [_dur(v) for v in values]
    elif which == "value_values":
        flat = [from_mx_value(v) for v in values]
    else:
        flat = list(values)
    dims = list(arr.dimensions)
    if len(dims) > 1 and math.prod(dims) == len(flat):
        return _reshape(flat, dims)
    return flat


def _reshape(flat: list[Any], dims: list[int]) -> list[Any]:
    if len(dims) == 1:
        return flat
    step = math.prod(dims[1:])
    return [_reshape(flat[i * step : (i + 1) * step], dims[1:]) for i in range(dims[0])]


def _sparse_decode(sp: pb.MxSparseArray) -> SparseArray:
    return SparseArray(
        element_type=MxDataType.from_wire(sp.element_data_type),
        total_length=sp.total_length,
        elements={e.index: from_mx_value(e.value) for e in sp.elements},
    )


_DECODERS: dict[str, Callable[[pb.MxValue], Any]] = {
    "bool_value": lambda v: v.bool_value,
    "int32_value": lambda v: v.int32_value,
    "int64_value": lambda v: v.int64_value,
    "float_value": lambda v: v.float_value,
    "double_value": lambda v: v.double_value,
    "string_value": lambda v: v.string_value,
    "timestamp_value": lambda v: _ts(v.timestamp_value),
    "duration_value": lambda v: _dur(v.duration_value),
    "array_value": lambda v: _array(v.array_value),
    "sparse_array_value": lambda v: _sparse_decode(v.sparse_array_value),
}


_SCALAR_FIELDS = frozenset(
    {"bool_value", "int32_value", "int64_value", "float_value", "double_value", "string_value"}
)


def from_mx_value(value: pb.MxValue) -> Any:
    """Decode an ``MxValue``: None for null/empty, else bool, int, float, str, datetime (UTC),
    timedelta, list (nested for multi-dimensional arrays) or ``SparseArray``.

    NaN and infinity decode as the floats they are.
    """
    if value.is_null:
        return None
    which = value.WhichOneof("kind")
    if which in _SCALAR_FIELDS:  # the common case: the field itself, no decoder call
        return getattr(value, which)
    if which is None:
        return None
    return _DECODERS[which](value)


def value_type_of(value: pb.MxValue) -> ValueType:
    """The ``ValueType`` an ``MxValue`` declares (its data type, and whether it is an array)."""
    which = value.WhichOneof("kind")
    return ValueType(
        MxDataType.from_wire(value.data_type), which in ("array_value", "sparse_array_value")
    )
