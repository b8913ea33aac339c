"""MXAccess data types and the type names users write (``int32``, ``double[]``, ...)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from mxgateway._errors import ValueConversionError

__all__ = ["MxDataType", "ValueType", "parse_type_name", "type_names"]

_WIRE_OFFSET = 2


class MxDataType(enum.IntEnum):
    """MXAccess data type; values are the MXAccess numbers (the wire enum is shifted by 2)."""

    UNSPECIFIED = -2
    UNKNOWN = -1
    NO_DATA = 0
    BOOLEAN = 1
    INTEGER = 2
    FLOAT = 3
    DOUBLE = 4
    STRING = 5
    TIME = 6
    ELAPSED_TIME = 7
    REFERENCE_TYPE = 8
    STATUS_TYPE = 9
    DATA_TYPE_ENUM = 10
    SECURITY_CLASSIFICATION_ENUM = 11
    DATA_QUALITY_TYPE = 12
    QUALIFIED_ENUM = 13
    QUALIFIED_STRUCT = 14
    INTERNATIONALIZED_STRING = 15
    BIG_STRING = 16

    @property
    def wire(self) -> int:
        """The ``mxaccess_gateway.v1.MxDataType`` number."""
        return self.value + _WIRE_OFFSET

    @classmethod
    def from_wire(cls, number: int) -> MxDataType:
        """Map a wire enum number; numbers from a newer contract become ``UNKNOWN``."""
        try:
            return cls(number - _WIRE_OFFSET)
        except ValueError:
            return cls.UNKNOWN

    @property
    def type_name(self) -> str:
        """The canonical short name accepted by ``parse_type_name`` (e.g. ``"int32"``)."""
        return _CANONICAL[self]


# Canonical short names, then aliases. parse_type_name ignores case, "_", "-" and spaces.
_CANONICAL: dict[MxDataType, str] = {
    MxDataType.UNSPECIFIED: "unspecified",
    MxDataType.UNKNOWN: "unknown",
    MxDataType.NO_DATA: "nodata",
    MxDataType.BOOLEAN: "bool",
    MxDataType.INTEGER: "int32",
    MxDataType.FLOAT: "float",
    MxDataType.DOUBLE: "double",
    MxDataType.STRING: "string",
    MxDataType.TIME: "time",
    MxDataType.ELAPSED_TIME: "elapsed",
    MxDataType.REFERENCE_TYPE: "reference",
    MxDataType.STATUS_TYPE: "status",
    MxDataType.DATA_TYPE_ENUM: "datatype",
    MxDataType.SECURITY_CLASSIFICATION_ENUM: "securityclassification",
    MxDataType.DATA_QUALITY_TYPE: "quality",
    MxDataType.QUALIFIED_ENUM: "qualifiedenum",
    MxDataType.QUALIFIED_STRUCT: "qualifiedstruct",
    MxDataType.INTERNATIONALIZED_STRING: "istring",
    MxDataType.BIG_STRING: "bigstring",
}
_ALIASES: dict[str, MxDataType] = {
    "boolean": MxDataType.BOOLEAN,
    "int": MxDataType.INTEGER,
    "integer": MxDataType.INTEGER,
    "float32": MxDataType.FLOAT,
    "single": MxDataType.FLOAT,
    "float64": MxDataType.DOUBLE,
    "str": MxDataType.STRING,
    "datetime": MxDataType.TIME,
    "elapsedtime": MxDataType.ELAPSED_TIME,
    "duration": MxDataType.ELAPSED_TIME,
    "timedelta": MxDataType.ELAPSED_TIME,
    "referencetype": MxDataType.REFERENCE_TYPE,
    "statustype": MxDataType.STATUS_TYPE,
    "datatypeenum": MxDataType.DATA_TYPE_ENUM,
    "securityclassificationenum": MxDataType.SECURITY_CLASSIFICATION_ENUM,
    "dataquality": MxDataType.DATA_QUALITY_TYPE,
    "dataqualitytype": MxDataType.DATA_QUALITY_TYPE,
    "internationalizedstring": MxDataType.INTERNATIONALIZED_STRING,
    "empty": MxDataType.NO_DATA,
    "none": MxDataType.NO_DATA,
}
_BY_NAME: dict[str, MxDataType] = {
    **{name: dt for dt, name in _CANONICAL.items() if dt.value >= 0},
    **_ALIASES,
}


@dataclass(frozen=True, slots=True)
class ValueType:
    """A data type and whether the value is an array of it: what ``type=`` means."""

    data_type: MxDataType
    array: bool = False

    @property
    def name(self) -> str:
        """Canonical name, e.g. ``"int32[]"``."""
        return self.data_type.type_name + ("[]" if self.array else "")

    def __str__(self) -> str:
        return self.name


def type_names() -> list[str]:
    """The canonical scalar names ``parse_type_name`` accepts (each also takes ``[]``)."""
    return [name for dt, name in _CANONICAL.items() if dt.value >= 0]


def parse_type_name(name: str | MxDataType | ValueType) -> ValueType:
    """Parse ``"int32"``, ``"double[]"``, ``"Boolean"``, an ``MxDataType`` or a ``ValueType``.

    Raises ``ValueConversionError`` naming the accepted names for anything else.
    """
    if isinstance(name, ValueType):
        return name
    if isinstance(name, MxDataType):
        return ValueType(name)
    if not isinstance(name, str):
        raise ValueConversionError(f"type must be a name or MxDataType, not {type(name).__name__}")
    text = name.strip()
    array = text.endswith("[]")
    if array:
        text = text[:-2]
    key = text.lower().replace("_", "").replace("-", "").replace(" ", "")
    data_type = _BY_NAME.get(key)
    if data_type is None:
        accepted = ", ".join(type_names())
        raise ValueConversionError(
            f"unknown type name {name!r}; expected one of: {accepted} (add [] for an array)"
        )
    return ValueType(data_type, array)
