"""Replication records: a change made to one galaxy replica, to apply to the others.

Workers running as child processes host their own :class:`GalaxyRuntime` replica. Behaviours
need no replication (they are functions of time), but writes and control operations do: the
runtime reports each as a :class:`GalaxyChange`, the front ships it (``to_dict`` is JSON-safe)
and the other replicas call ``apply_external_change``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mxgateway import from_mx_value
from mxgateway.generated import mxaccess_gateway_pb2 as pb

if TYPE_CHECKING:
    from mxgw_sim.galaxy.model import AttributeDef

__all__ = ["GalaxyChange"]


@dataclass(frozen=True, slots=True)
class GalaxyChange:
    """One change: ``kind`` is "value", "quality" or "object".

    For "value" and "quality", ``object``/``field`` name the attribute; ``value`` is the
    serialized ``MxValue`` of the attribute's whole new value. For "object", ``field`` is
    ``on_scan``, ``deployed`` or ``connected`` and ``flag`` its new state.
    """

    kind: str
    object: str
    field: str
    timestamp: float
    value: bytes = b""
    quality: int | None = None
    flag: bool | None = None

    @classmethod
    def value_change(
        cls,
        key: tuple[str, str],
        value: Any,
        timestamp: float,
        attr: AttributeDef,
        quality: int | None = None,
    ) -> GalaxyChange:
        """A new value of an attribute (with an optional quality override)."""
        from mxgw_sim.galaxy.coerce import encode

        data = encode(value, attr.data_type, attr.is_array).SerializeToString()
        return cls("value", key[0], key[1], timestamp, data, quality)

    @classmethod
    def quality_change(
        cls, key: tuple[str, str], quality: int | None, timestamp: float
    ) -> GalaxyChange:
        """A quality override set (or cleared with None)."""
        return cls("quality", key[0], key[1], timestamp, quality=quality)

    @classmethod
    def object_change(cls, name: str, field: str, flag: bool, timestamp: float) -> GalaxyChange:
        """An object's scan, deploy or link state."""
        return cls("object", name, field, timestamp, flag=flag)

    def python_value(self) -> Any:
        """The decoded value of a "value" change."""
        message = pb.MxValue()
        message.ParseFromString(self.value)
        return from_mx_value(message)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe form (the value as base64 of the serialized MxValue)."""
        return {
            "kind": self.kind,
            "object": self.object,
            "field": self.field,
            "timestamp": self.timestamp,
            "value": base64.b64encode(self.value).decode("ascii"),
            "quality": self.quality,
            "flag": self.flag,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GalaxyChange:
        """Rebuild from :meth:`to_dict` output."""
        return cls(
            kind=str(data["kind"]),
            object=str(data["object"]),
            field=str(data["field"]),
            timestamp=float(data["timestamp"]),
            value=base64.b64decode(data.get("value") or ""),
            quality=data.get("quality"),
            flag=data.get("flag"),
        )
