"""Protobuf messages to the CLI's JSON documents (plain dicts with stable field names).

Values are rendered from the raw ``MxValue`` rather than through Python objects so nothing is
lost: timestamps keep their nanoseconds (RFC 3339, UTC, ``Z``), 32-bit floats print as the
shortest decimal that reads back to the same float, NaN and infinity become the strings
``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` (as protobuf JSON writes them).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence
from typing import Any

from google.protobuf import json_format
from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from mxgateway import MxStatusCategory, MxStatusSource, Quality, value_type_of
from mxgateway.generated import mxaccess_gateway_pb2 as pb

__all__ = [
    "enum_name",
    "event_doc",
    "field_timestamp",
    "raw_doc",
    "reply_doc",
    "status_doc",
    "timestamp_text",
    "value_json",
]

JsonDict = dict[str, Any]


def enum_name(enum: Any, number: int, prefix: str) -> str:
    """An enum value's name without its type prefix; the number as text when unknown."""
    try:
        return str(enum.Name(number)).removeprefix(prefix)
    except ValueError:
        return str(number)


def timestamp_text(ts: Timestamp) -> str:
    """RFC 3339 UTC text with the precision the message carries (0, 3, 6 or 9 decimals)."""
    return str(ts.ToJsonString())


def field_timestamp(message: Message, name: str) -> str | None:
    """A message's timestamp field as RFC 3339 text; None when the field is not set."""
    if not message.HasField(name):
        return None
    return timestamp_text(getattr(message, name))


def duration_text(d: Duration) -> str:
    """Protobuf JSON duration text: seconds with 0, 3, 6 or 9 decimals and an ``s``."""
    return str(d.ToJsonString())


def _float32(number: float) -> float | str:
    if not math.isfinite(number):
        return _non_finite(number)
    packed = struct.pack("<f", number)
    for digits in range(1, 10):
        candidate = float(f"{number:.{digits}g}")
        if struct.pack("<f", candidate) == packed:
            return candidate
    return number


def _double(number: float) -> float | str:
    return number if math.isfinite(number) else _non_finite(number)


def _non_finite(number: float) -> str:
    if math.isnan(number):
        return "NaN"
    return "Infinity" if number > 0 else "-Infinity"


def _reshape(flat: list[Any], dims: Sequence[int]) -> list[Any]:
    if len(dims) <= 1:
        return flat
    step = math.prod(dims[1:])
    return [_reshape(flat[i * step : (i + 1) * step], dims[1:]) for i in range(dims[0])]


def _array_json(arr: pb.MxArray) -> list[Any]:
    which = arr.WhichOneof("values")
    if which is None:
        return []
    values = getattr(arr, which).values
    flat: list[Any]
    if which == "timestamp_values":
        flat = [timestamp_text(v) for v in values]
    elif which == "duration_values":
        flat = [duration_text(v) for v in values]
    elif which == "float_values":
        flat = [_float32(v) for v in values]
    elif which == "double_values":
        flat = [_double(v) for v in values]
    elif which == "value_values":
        flat = [value_json(v) for v in values]
    else:
        flat = list(values)
    dims = list(arr.dimensions)
    if len(dims) > 1 and math.prod(dims) == len(flat):
        return _reshape(flat, dims)
    return flat


def value_json(value: pb.MxValue) -> Any:
    """The JSON form of an ``MxValue``'s content (null for a null or empty value)."""
    if value.is_null:
        return None
    which = value.WhichOneof("kind")
    if which is None:
        return None
    if which == "float_value":
        return _float32(value.float_value)
    if which == "double_value":
        return _double(value.double_value)
    if which == "timestamp_value":
        return timestamp_text(value.timestamp_value)
    if which == "duration_value":
        return duration_text(value.duration_value)
    if which == "array_value":
        return _array_json(value.array_value)
    if which == "sparse_array_value":
        sparse = value.sparse_array_value
        return {
            "elements": [{"index": e.index, "value": value_json(e.value)} for e in sparse.elements],
            "total_length": sparse.total_length,
        }
    return getattr(value, which)


def value_type_name(value: pb.MxValue) -> str:
    """The CLI type name of a value (``int32``, ``double[]``, ``nodata``)."""
    if value.is_null and value.WhichOneof("kind") is None:
        return "nodata"
    return value_type_of(value).name


def status_doc(status: pb.MxStatusProxy) -> JsonDict:
    """One MXAccess status: mapped names plus every raw number."""
    category = MxStatusCategory.from_wire(status.category)
    source = MxStatusSource.from_wire(status.detected_by)
    return {
        "category": category.name,
        "detail": status.detail,
        "detected_by": source.name,
        "diagnostic_text": status.diagnostic_text,
        "ok": status.success != 0 and not category.is_error,
        "raw_category": status.raw_category,
        "raw_detected_by": status.raw_detected_by,
        "success": status.success,
    }


def statuses_doc(statuses: Iterable[pb.MxStatusProxy]) -> list[JsonDict]:
    """A repeated status field."""
    return [status_doc(s) for s in statuses]


def quality_doc(quality: int) -> JsonDict:
    """The quality number with its class and its meaning in words."""
    q = Quality(quality)
    return {
        "quality": quality,
        "quality_class": q.quality_class.name,
        "quality_text": q.name,
    }


def _value_fields(value: pb.MxValue, prefix: str = "value") -> JsonDict:
    return {prefix: value_json(value), f"{prefix}_type": value_type_name(value)}


_EVENT_NAMES: dict[str, str] = {
    "on_data_change": "data_change",
    "on_write_complete": "write_complete",
    "operation_complete": "operation_complete",
    "on_buffered_data_change": "buffered_data_change",
    "on_alarm_transition": "alarm_transition",
}
_EVENT_BY_FAMILY: dict[int, str] = {
    pb.MX_EVENT_FAMILY_ON_DATA_CHANGE: "data_change",
    pb.MX_EVENT_FAMILY_ON_WRITE_COMPLETE: "write_complete",
    pb.MX_EVENT_FAMILY_OPERATION_COMPLETE: "operation_complete",
    pb.MX_EVENT_FAMILY_ON_BUFFERED_DATA_CHANGE: "buffered_data_change",
    pb.MX_EVENT_FAMILY_ON_ALARM_TRANSITION: "alarm_transition",
}


def event_name(event: pb.MxEvent) -> str:
    """``data_change``, ``write_complete``, ..., ``replay_gap`` or ``unknown``."""
    body = event.WhichOneof("body")
    if body is not None:
        return _EVENT_NAMES.get(body, "unknown")
    if event.HasField("replay_gap"):
        return "replay_gap"
    return _EVENT_BY_FAMILY.get(event.family, "unknown")


def _alarm_fields(alarm: pb.OnAlarmTransitionEvent) -> JsonDict:
    return {
        "alarm_full_reference": alarm.alarm_full_reference,
        "alarm_type_name": alarm.alarm_type_name,
        "category": alarm.category,
        "current_value": value_json(alarm.current_value),
        "description": alarm.description,
        "limit_value": value_json(alarm.limit_value),
        "operator_comment": alarm.operator_comment,
        "operator_user": alarm.operator_user,
        "original_raise_timestamp": field_timestamp(alarm, "original_raise_timestamp"),
        "raw_severity": alarm.raw_severity,
        "source_object_reference": alarm.source_object_reference,
        "transition_kind": enum_name(
            pb.AlarmTransitionKind, alarm.transition_kind, "ALARM_TRANSITION_KIND_"
        ),
        "transition_timestamp": field_timestamp(alarm, "transition_timestamp"),
    }


def event_doc(event: pb.MxEvent) -> JsonDict:
    """One event: common fields for every kind, value fields for value-bearing kinds."""
    name = event_name(event)
    doc: JsonDict = {"event": name, "worker_sequence": event.worker_sequence}
    if name == "replay_gap":
        gap = event.replay_gap
        doc["requested_after_sequence"] = gap.requested_after_sequence
        doc["oldest_available_sequence"] = gap.oldest_available_sequence
        doc["lost"] = max(0, gap.oldest_available_sequence - gap.requested_after_sequence - 1)
        return doc
    statuses = statuses_doc(event.statuses)
    doc.update(
        {
            "gateway_receive_timestamp": field_timestamp(event, "gateway_receive_timestamp"),
            "hresult": event.hresult if event.HasField("hresult") else None,
            "item_handle": event.item_handle,
            "ok": all(s["ok"] for s in statuses),
            "server_handle": event.server_handle,
            "statuses": statuses,
            "worker_timestamp": field_timestamp(event, "worker_timestamp"),
        }
    )
    if name in ("data_change", "buffered_data_change"):
        doc.update(_value_fields(event.value))
        doc.update(quality_doc(event.quality))
        doc["source_timestamp"] = field_timestamp(event, "source_timestamp")
    if name == "buffered_data_change":
        doc["buffer_data_type"] = enum_name(
            pb.MxDataType, event.on_buffered_data_change.data_type, "MX_DATA_TYPE_"
        )
    if name == "alarm_transition":
        doc["alarm"] = _alarm_fields(event.on_alarm_transition)
    return doc


def protocol_status_doc(status: pb.ProtocolStatus) -> JsonDict:
    """A reply's protocol status: code name and message."""
    return {
        "code": enum_name(pb.ProtocolStatusCode, status.code, "PROTOCOL_STATUS_CODE_"),
        "message": status.message,
    }


def reply_doc(reply: pb.MxCommandReply) -> JsonDict:
    """The fields every command reply shares."""
    doc: JsonDict = {
        "diagnostic_message": reply.diagnostic_message,
        "hresult": reply.hresult,
        "kind": enum_name(pb.MxCommandKind, reply.kind, "MX_COMMAND_KIND_"),
        "ok": reply.protocol_status.code == pb.PROTOCOL_STATUS_CODE_OK,
        "protocol_status": protocol_status_doc(reply.protocol_status),
        "session_id": reply.session_id,
        "statuses": statuses_doc(reply.statuses),
    }
    if reply.HasField("return_value"):
        doc.update(_value_fields(reply.return_value, "return_value"))
    else:
        doc.update({"return_value": None, "return_value_type": "nodata"})
    return doc


def subscribe_result_doc(result: pb.SubscribeResult) -> JsonDict:
    """One entry of a bulk subscribe/add/advise reply."""
    return {
        "error_message": result.error_message,
        "item_handle": result.item_handle,
        "ok": result.was_successful,
        "server_handle": result.server_handle,
        "tag_address": result.tag_address,
    }


def write_result_doc(result: pb.BulkWriteResult) -> JsonDict:
    """One entry of a bulk write reply."""
    return {
        "error_message": result.error_message,
        "hresult": result.hresult,
        "item_handle": result.item_handle,
        "ok": result.was_successful,
        "statuses": statuses_doc(result.statuses),
    }


def read_result_doc(result: pb.BulkReadResult) -> JsonDict:
    """One entry of a ReadBulk reply: the current value, quality and timestamp."""
    doc: JsonDict = {
        "error_message": result.error_message,
        "item_handle": result.item_handle,
        "ok": result.was_successful,
        "statuses": statuses_doc(result.statuses),
        "tag_address": result.tag_address,
        "timestamp": field_timestamp(result, "timestamp"),
        "was_cached": result.was_cached,
    }
    doc.update(_value_fields(result.value))
    doc.update(quality_doc(result.quality))
    return doc


def raw_doc(message: Message) -> JsonDict:
    """The protobuf JSON of a message for ``--raw``: camelCase names, enum names, and every
    field printed (defaults too), the shape of the fixtures in ``fixtures/``."""
    result: JsonDict = json_format.MessageToDict(message, always_print_fields_with_no_presence=True)
    return result
