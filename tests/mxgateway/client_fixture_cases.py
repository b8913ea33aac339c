"""The golden fixture cases behind ``fixtures/`` and the generator that writes them.

The JSON files in ``fixtures/`` are the golden truth (protobuf JSON, camelCase, every field
printed); this module says what each one means on the Python side. Regenerate after a
deliberate contract change with ``python tests/mxgateway/client_fixture_cases.py --write``
and review the diff.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from mxgateway import SparseArray, WriteEntry, to_mx_value
from mxgateway.generated import mxaccess_gateway_pb2 as pb

ROOT = Path(__file__).resolve().parents[2] / "fixtures"
PACKAGE = "mxaccess_gateway.v1"
SESSION_ID = "session-" + "0" * 31 + "1"
K = pb.MxCommandKind


def to_json(message: Message) -> dict[str, Any]:
    """The fixture form of a message: camelCase protobuf JSON with every field printed, in
    field declaration order (as upstream's fixtures read)."""
    body = json_format.MessageToDict(message, always_print_fields_with_no_presence=True)
    return _ordered(message.DESCRIPTOR, body)


def _ordered(descriptor: Any, body: Any) -> Any:
    if not isinstance(body, dict):
        return body
    result: dict[str, Any] = {}
    for fd in descriptor.fields:
        if fd.json_name not in body:
            continue
        value = body[fd.json_name]
        sub = fd.message_type
        if sub is not None and isinstance(value, list):
            value = [_ordered(sub, v) for v in value]
        elif sub is not None:
            value = _ordered(sub, value)
        result[fd.json_name] = value
    return result


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class ValueCase:
    """A Python value and the MxValue it is on the wire.

    ``write`` cases check ``to_mx_value(python, type) == fixture``; every case checks
    ``from_mx_value(fixture) == decoded`` (``decoded`` defaults to ``python``).
    """

    id: str
    python: Any
    type: str | None = None
    write: bool = True
    wire: pb.MxValue | None = None  # for read-only cases: the message as a gateway sends it
    decoded: Any = field(default=None)
    compare: Callable[[Any, Any], bool] | None = None

    def message(self) -> pb.MxValue:
        """The MxValue this case is about."""
        if self.wire is not None:
            return self.wire
        return to_mx_value(self.python, self.type)

    def expected(self) -> Any:
        """The Python value decoding must give."""
        return self.python if self.decoded is None else self.decoded


def _double(value: float) -> pb.MxValue:
    return pb.MxValue(
        data_type=pb.MX_DATA_TYPE_DOUBLE, variant_type="VT_R8", raw_data_type=4, double_value=value
    )


def _same_nan(a: Any, b: Any) -> bool:
    return isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)


_MULTI = pb.MxValue(
    data_type=pb.MX_DATA_TYPE_INTEGER, variant_type="VT_ARRAY|VT_I4", raw_data_type=2
)
_MULTI.array_value.element_data_type = pb.MX_DATA_TYPE_INTEGER
_MULTI.array_value.variant_type = "VT_ARRAY|VT_I4"
_MULTI.array_value.dimensions.extend([2, 3])
_MULTI.array_value.int32_values.values.extend([1, 2, 3, 4, 5, 6])

_MIXED = pb.MxValue(data_type=pb.MX_DATA_TYPE_UNKNOWN, variant_type="VT_ARRAY|VT_VARIANT")
_MIXED.array_value.element_data_type = pb.MX_DATA_TYPE_UNKNOWN
_MIXED.array_value.variant_type = "VT_ARRAY|VT_VARIANT"
_MIXED.array_value.dimensions.append(2)
_MIXED.array_value.value_values.values.extend([to_mx_value(1), to_mx_value("two")])

T0 = datetime(2026, 4, 30, 12, 34, 56, 789123, tzinfo=UTC)

VALUE_CASES: list[ValueCase] = [
    ValueCase("bool-true", True),
    ValueCase("bool-false", False),
    ValueCase("int32-zero", 0),
    ValueCase("int32-negative", -42),
    ValueCase("int32-min", -(2**31)),
    ValueCase("int32-max", 2**31 - 1),
    ValueCase("float-1.5", 1.5, "float"),
    ValueCase("float-from-text", "-0.25", "float", decoded=-0.25),
    ValueCase("double-pi", 3.141592653589793),
    ValueCase("double-from-int", 7, "double", decoded=7.0),
    ValueCase("double-nan", math.nan, write=False, wire=_double(math.nan), compare=_same_nan),
    ValueCase("double-inf", math.inf, write=False, wire=_double(math.inf)),
    ValueCase("double-neg-inf", -math.inf, write=False, wire=_double(-math.inf)),
    ValueCase("string-hello", "hello"),
    ValueCase("string-empty", ""),
    ValueCase("string-unicode", "Zürich ✓ 東京"),
    ValueCase("bigstring", "x" * 300, "bigstring"),
    ValueCase("istring", "Füllstand", "istring"),
    ValueCase("time-subsecond", T0),
    ValueCase("time-epoch", datetime(1970, 1, 1, tzinfo=UTC)),
    ValueCase("time-from-text", "2026-04-30T12:34:56.789123Z", "time", decoded=T0),
    ValueCase("elapsed-1.5s", timedelta(seconds=1.5)),
    ValueCase("elapsed-negative", timedelta(seconds=-2.25)),
    ValueCase("elapsed-days", timedelta(days=3, hours=4, microseconds=1)),
    ValueCase("reference", "Tank01.Level.PV", "reference"),
    ValueCase("status-type", 3, "status"),
    ValueCase("datatype-enum", 2, "datatype"),
    ValueCase("security-classification", 1, "securityclassification"),
    ValueCase("data-quality", 192, "quality"),
    ValueCase("qualified-enum", 4, "qualifiedenum"),
    ValueCase("nodata-null", None),
    ValueCase("bool-array", [True, False, True]),
    ValueCase("int32-array", [1, -2, 2**31 - 1]),
    ValueCase("int32-array-empty", [], "int32[]"),
    ValueCase("float-array", [0.5, -1.0], "float[]"),
    ValueCase("double-array", [0.1, 2.0, -3.5]),
    ValueCase("double-array-mixed-numbers", [1, 2.5], decoded=[1.0, 2.5]),
    ValueCase("string-array", ["a", "", "c"]),
    ValueCase("string-array-empty", [], "string[]"),
    ValueCase("time-array", [T0, datetime(2000, 1, 1, tzinfo=UTC)]),
    ValueCase("elapsed-array", [timedelta(seconds=1), timedelta(milliseconds=250)]),
    ValueCase("int32-array-from-text", "1, 2, 3", "int32[]", decoded=[1, 2, 3]),
    ValueCase("sparse-int32", SparseArray("int32", 5, {0: 7, 3: 9})),
    ValueCase(
        "int64-read",
        2**40,
        write=False,
        wire=pb.MxValue(data_type=pb.MX_DATA_TYPE_UNKNOWN, variant_type="VT_I8", int64_value=2**40),
    ),
    ValueCase("int32-matrix-read", [[1, 2, 3], [4, 5, 6]], write=False, wire=_MULTI),
    ValueCase("variant-array-read", [1, "two"], write=False, wire=_MIXED),
]


# --------------------------------------------------------------------------- statuses


def status(success: int, category: int, source: int, detail: int, raw_cat: int, raw_src: int,
           text: str = "") -> pb.MxStatusProxy:  # fmt: skip
    """An MxStatusProxy in one line."""
    return pb.MxStatusProxy(
        success=success,
        category=category,  # type: ignore[arg-type]
        detected_by=source,  # type: ignore[arg-type]
        detail=detail,
        raw_category=raw_cat,
        raw_detected_by=raw_src,
        diagnostic_text=text,
    )


STATUS_CASES: dict[str, tuple[pb.MxStatusProxy, str, bool]] = {
    # id: (message, "<category label>/<source label>", ok)
    "status-ok": (
        status(-1, pb.MX_STATUS_CATEGORY_OK, pb.MX_STATUS_SOURCE_RESPONDING_LMX, 0, 0, 1),
        "Ok/RespondingLmx",
        True,
    ),
    "status-pending": (
        status(0, pb.MX_STATUS_CATEGORY_PENDING, pb.MX_STATUS_SOURCE_REQUESTING_LMX, 0, 1, 0),
        "Pending/RequestingLmx",
        False,
    ),
    "status-write-read-only": (
        status(
            0,
            pb.MX_STATUS_CATEGORY_OPERATIONAL_ERROR,
            pb.MX_STATUS_SOURCE_RESPONDING_AUTOMATION_OBJECT,
            17,
            5,
            5,
            "attribute is read-only",
        ),
        "OperationalError/RespondingAutomationObject",
        False,
    ),
    "status-bad-reference": (
        status(
            0,
            pb.MX_STATUS_CATEGORY_CONFIGURATION_ERROR,
            pb.MX_STATUS_SOURCE_RESPONDING_NMX,
            1003,
            4,
            3,
        ),
        "ConfigurationError/RespondingNmx",
        False,
    ),
}


# --------------------------------------------------------------------------- commands

OK = pb.ProtocolStatus(code=pb.PROTOCOL_STATUS_CODE_OK, message="OK")
_OK_STATUS = status(1, pb.MX_STATUS_CATEGORY_OK, pb.MX_STATUS_SOURCE_RESPONDING_LMX, 0, 0, 0)


def _reply(kind: int, **fields: Any) -> pb.MxCommandReply:
    reply = pb.MxCommandReply(
        session_id=SESSION_ID,
        kind=kind,  # type: ignore[arg-type]
        protocol_status=OK,
        hresult=0,
        return_value=pb.MxValue(
            data_type=pb.MX_DATA_TYPE_NO_DATA, variant_type="VT_EMPTY", is_null=True
        ),
        statuses=[_OK_STATUS],
        **fields,
    )
    return reply


def _request(kind: int, member: str, payload: Message) -> pb.MxCommandRequest:
    request = pb.MxCommandRequest(session_id=SESSION_ID, kind=kind)  # type: ignore[arg-type]
    getattr(request, member).CopyFrom(payload)
    return request


REGISTER_OK = pb.MxCommandReply(
    session_id=SESSION_ID,
    kind=K.MX_COMMAND_KIND_REGISTER,
    protocol_status=OK,
    hresult=0,
    return_value=pb.MxValue(
        data_type=pb.MX_DATA_TYPE_INTEGER, variant_type="VT_I4", int32_value=12
    ),
    statuses=[_OK_STATUS],
    diagnostic_message="",
    register=pb.RegisterReply(server_handle=12),
)

WRITE_REFUSED = pb.MxCommandReply(
    session_id=SESSION_ID,
    kind=K.MX_COMMAND_KIND_WRITE,
    protocol_status=pb.ProtocolStatus(
        code=pb.PROTOCOL_STATUS_CODE_MXACCESS_FAILURE, message="MXAccess refused the write"
    ),
    hresult=-2147220992,
    return_value=pb.MxValue(
        data_type=pb.MX_DATA_TYPE_NO_DATA,
        variant_type="VT_EMPTY",
        is_null=True,
        raw_diagnostic="",
        raw_data_type=2,
    ),
    statuses=[
        status(
            0, pb.MX_STATUS_CATEGORY_SECURITY_ERROR, pb.MX_STATUS_SOURCE_RESPONDING_LMX, 321, 8, 3
        ),
        status(
            0,
            pb.MX_STATUS_CATEGORY_OPERATIONAL_ERROR,
            pb.MX_STATUS_SOURCE_RESPONDING_NMX,
            902,
            7,
            5,
        ),
    ],
    diagnostic_message="Write refused",
)


@dataclass(frozen=True)
class CommandCase:
    """A Session helper call, the request it must send and a reply with its typed result."""

    id: str
    call: Callable[[Any], Any]  # session -> awaitable
    request: pb.MxCommandRequest
    reply: pb.MxCommandReply
    result: Any = None
    error: str | None = None  # the exception class name a failing reply must raise


def _item(cls: type[Message], **kw: Any) -> Message:
    return cls(server_handle=12, **kw)


COMMAND_CASES: list[CommandCase] = [
    CommandCase(
        "register",
        lambda s: s.register("python-client"),
        _request(
            K.MX_COMMAND_KIND_REGISTER, "register", pb.RegisterCommand(client_name="python-client")
        ),
        REGISTER_OK,
        12,
    ),
    CommandCase(
        "unregister",
        lambda s: s.unregister(12),
        _request(
            K.MX_COMMAND_KIND_UNREGISTER, "unregister", pb.UnregisterCommand(server_handle=12)
        ),
        _reply(K.MX_COMMAND_KIND_UNREGISTER),
    ),
    CommandCase(
        "add-item",
        lambda s: s.add_item(12, "Tank01.Level.PV"),
        _request(
            K.MX_COMMAND_KIND_ADD_ITEM,
            "add_item",
            _item(pb.AddItemCommand, item_reference="Tank01.Level.PV"),
        ),
        _reply(K.MX_COMMAND_KIND_ADD_ITEM, add_item=pb.AddItemReply(item_handle=1)),
        1,
    ),
    CommandCase(
        "add-item2",
        lambda s: s.add_item2(12, "Me.Level.PV", "Tank01"),
        _request(
            K.MX_COMMAND_KIND_ADD_ITEM2,
            "add_item2",
            _item(pb.AddItem2Command, item_reference="Me.Level.PV", context="Tank01"),
        ),
        _reply(K.MX_COMMAND_KIND_ADD_ITEM2, add_item2=pb.AddItemReply(item_handle=2)),
        2,
    ),
    CommandCase(
        "add-buffered-item",
        lambda s: s.add_buffered_item(12, "Tank01.Level.PV"),
        _request(
            K.MX_COMMAND_KIND_ADD_BUFFERED_ITEM,
            "add_buffered_item",
            _item(pb.AddBufferedItemCommand, item_reference="Tank01.Level.PV"),
        ),
        _reply(
            K.MX_COMMAND_KIND_ADD_BUFFERED_ITEM, add_buffered_item=pb.AddItemReply(item_handle=3)
        ),
        3,
    ),
    CommandCase(
        "set-buffered-update-interval",
        lambda s: s.set_buffered_update_interval(12, 500),
        _request(
            K.MX_COMMAND_KIND_SET_BUFFERED_UPDATE_INTERVAL,
            "set_buffered_update_interval",
            _item(pb.SetBufferedUpdateIntervalCommand, update_interval_ms=500),
        ),
        _reply(K.MX_COMMAND_KIND_SET_BUFFERED_UPDATE_INTERVAL),
    ),
    *[
        CommandCase(
            name,
            (lambda m: lambda s: getattr(s, m)(12, 1))(method),
            _request(kind, member, _item(cls, item_handle=1)),
            _reply(kind),
        )
        for name, method, kind, member, cls in [
            (
                "remove-item",
                "remove_item",
                K.MX_COMMAND_KIND_REMOVE_ITEM,
                "remove_item",
                pb.RemoveItemCommand,
            ),
            ("advise", "advise", K.MX_COMMAND_KIND_ADVISE, "advise", pb.AdviseCommand),
            (
                "advise-supervisory",
                "advise_supervisory",
                K.MX_COMMAND_KIND_ADVISE_SUPERVISORY,
                "advise_supervisory",
                pb.AdviseSupervisoryCommand,
            ),
            ("unadvise", "unadvise", K.MX_COMMAND_KIND_UN_ADVISE, "un_advise", pb.UnAdviseCommand),
            ("suspend", "suspend", K.MX_COMMAND_KIND_SUSPEND, "suspend", pb.SuspendCommand),
            ("activate", "activate", K.MX_COMMAND_KIND_ACTIVATE, "activate", pb.ActivateCommand),
        ]
    ],
    CommandCase(
        "write",
        lambda s: s.write(12, 1, 123, type="int32"),
        _request(
            K.MX_COMMAND_KIND_WRITE,
            "write",
            _item(pb.WriteCommand, item_handle=1, value=to_mx_value(123), user_id=0),
        ),
        _reply(K.MX_COMMAND_KIND_WRITE),
    ),
    CommandCase(
        "write-refused-by-security",
        lambda s: s.write(12, 1, 42.5, user_id=3),
        _request(
            K.MX_COMMAND_KIND_WRITE,
            "write",
            _item(pb.WriteCommand, item_handle=1, value=to_mx_value(42.5), user_id=3),
        ),
        WRITE_REFUSED,
        error="MxAccessSecurityError",
    ),
    CommandCase(
        "write2",
        lambda s: s.write2(12, 1, "on", T0, type="string", user_id=2),
        _request(
            K.MX_COMMAND_KIND_WRITE2,
            "write2",
            _item(
                pb.Write2Command,
                item_handle=1,
                value=to_mx_value("on"),
                user_id=2,
                timestamp_value=to_mx_value(T0),
            ),
        ),
        _reply(K.MX_COMMAND_KIND_WRITE2),
    ),
    CommandCase(
        "write-secured",
        lambda s: s.write_secured(12, 1, True, current_user_id=5, verifier_user_id=6),
        _request(
            K.MX_COMMAND_KIND_WRITE_SECURED,
            "write_secured",
            _item(
                pb.WriteSecuredCommand,
                item_handle=1,
                value=to_mx_value(True),
                current_user_id=5,
                verifier_user_id=6,
            ),
        ),
        _reply(K.MX_COMMAND_KIND_WRITE_SECURED),
    ),
    CommandCase(
        "write-secured2",
        lambda s: s.write_secured2(12, 1, 1.25, T0, current_user_id=5, type="float"),
        _request(
            K.MX_COMMAND_KIND_WRITE_SECURED2,
            "write_secured2",
            _item(
                pb.WriteSecured2Command,
                item_handle=1,
                value=to_mx_value(1.25, "float"),
                current_user_id=5,
                verifier_user_id=0,
                timestamp_value=to_mx_value(T0),
            ),
        ),
        _reply(K.MX_COMMAND_KIND_WRITE_SECURED2),
    ),
    CommandCase(
        "authenticate-user",
        lambda s: s.authenticate_user(12, "operator1", "pa55word"),
        _request(
            K.MX_COMMAND_KIND_AUTHENTICATE_USER,
            "authenticate_user",
            _item(pb.AuthenticateUserCommand, user_name="operator1", password="pa55word"),
        ),
        _reply(
            K.MX_COMMAND_KIND_AUTHENTICATE_USER,
            authenticate_user=pb.AuthenticateUserReply(user_id=5),
        ),
        5,
    ),
    CommandCase(
        "archestra-user-to-id",
        lambda s: s.archestra_user_to_id(12, "operator1"),
        _request(
            K.MX_COMMAND_KIND_ARCHESTRA_USER_TO_ID,
            "archestra_user_to_id",
            _item(pb.ArchestrAUserToIdCommand, user_name="operator1"),
        ),
        _reply(
            K.MX_COMMAND_KIND_ARCHESTRA_USER_TO_ID,
            archestra_user_to_id=pb.ArchestrAUserToIdReply(user_id=5),
        ),
        5,
    ),
    CommandCase(
        "add-item-invalid-request",
        lambda s: s.add_item(99, "Tank01.Level.PV"),
        _request(
            K.MX_COMMAND_KIND_ADD_ITEM,
            "add_item",
            pb.AddItemCommand(server_handle=99, item_reference="Tank01.Level.PV"),
        ),
        pb.MxCommandReply(
            session_id=SESSION_ID,
            kind=K.MX_COMMAND_KIND_ADD_ITEM,
            protocol_status=pb.ProtocolStatus(
                code=pb.PROTOCOL_STATUS_CODE_INVALID_REQUEST, message="unknown server handle 99"
            ),
            hresult=-2147024809,
        ),
        error="InvalidRequestError",
    ),
    CommandCase(
        "drain-events",
        lambda s: s.drain_events(max_events=100),
        _request(
            K.MX_COMMAND_KIND_DRAIN_EVENTS,
            "drain_events",
            pb.DrainEventsCommand(max_events=100),
        ),
        _reply(K.MX_COMMAND_KIND_DRAIN_EVENTS, drain_events=pb.DrainEventsReply()),
        [],
    ),
    CommandCase(
        "subscribe-bulk",
        lambda s: s.subscribe_bulk(12, ["Tank01.Level.PV", "Tank01.Nope"]),
        _request(
            K.MX_COMMAND_KIND_SUBSCRIBE_BULK,
            "subscribe_bulk",
            _item(pb.SubscribeBulkCommand, tag_addresses=["Tank01.Level.PV", "Tank01.Nope"]),
        ),
        _reply(
            K.MX_COMMAND_KIND_SUBSCRIBE_BULK,
            bulk_subscribe=pb.BulkSubscribeReply(
                results=[
                    pb.SubscribeResult(
                        server_handle=12,
                        tag_address="Tank01.Level.PV",
                        item_handle=1,
                        was_successful=True,
                    ),
                    pb.SubscribeResult(
                        server_handle=12,
                        tag_address="Tank01.Nope",
                        was_successful=False,
                        error_message="advise failed",
                    ),
                ]
            ),
        ),
        [("Tank01.Level.PV", 1, True), ("Tank01.Nope", 0, False)],
    ),
    *[
        CommandCase(
            name,
            (lambda m, addrs: lambda s: getattr(s, m)(12, addrs))(method, args),
            _request(kind, member, _item(cls, **{field_name: args})),
            _reply(kind, bulk_subscribe=pb.BulkSubscribeReply()),
            [],
        )
        for name, method, kind, member, cls, field_name, args in [
            (
                "add-item-bulk",
                "add_item_bulk",
                K.MX_COMMAND_KIND_ADD_ITEM_BULK,
                "add_item_bulk",
                pb.AddItemBulkCommand,
                "tag_addresses",
                ["A.B", "C.D"],
            ),
            (
                "advise-item-bulk",
                "advise_item_bulk",
                K.MX_COMMAND_KIND_ADVISE_ITEM_BULK,
                "advise_item_bulk",
                pb.AdviseItemBulkCommand,
                "item_handles",
                [1, 2],
            ),
            (
                "remove-item-bulk",
                "remove_item_bulk",
                K.MX_COMMAND_KIND_REMOVE_ITEM_BULK,
                "remove_item_bulk",
                pb.RemoveItemBulkCommand,
                "item_handles",
                [1, 2],
            ),
            (
                "unadvise-item-bulk",
                "unadvise_item_bulk",
                K.MX_COMMAND_KIND_UN_ADVISE_ITEM_BULK,
                "un_advise_item_bulk",
                pb.UnAdviseItemBulkCommand,
                "item_handles",
                [1, 2],
            ),
            (
                "unsubscribe-bulk",
                "unsubscribe_bulk",
                K.MX_COMMAND_KIND_UNSUBSCRIBE_BULK,
                "unsubscribe_bulk",
                pb.UnsubscribeBulkCommand,
                "item_handles",
                [1, 2],
            ),
        ]
    ],
    CommandCase(
        "write-bulk",
        lambda s: s.write_bulk(12, [(1, 5), WriteEntry(2, "7.5", type="double", user_id=3)]),
        _request(
            K.MX_COMMAND_KIND_WRITE_BULK,
            "write_bulk",
            _item(
                pb.WriteBulkCommand,
                entries=[
                    pb.WriteBulkEntry(item_handle=1, value=to_mx_value(5)),
                    pb.WriteBulkEntry(item_handle=2, value=to_mx_value(7.5), user_id=3),
                ],
            ),
        ),
        _reply(
            K.MX_COMMAND_KIND_WRITE_BULK,
            bulk_write=pb.BulkWriteReply(
                results=[
                    pb.BulkWriteResult(item_handle=1, was_successful=True),
                    pb.BulkWriteResult(
                        item_handle=2,
                        was_successful=False,
                        error_message="read-only",
                        hresult=-2147467259,
                        statuses=[STATUS_CASES["status-write-read-only"][0]],
                    ),
                ]
            ),
        ),
        [(1, True), (2, False)],
    ),
    CommandCase(
        "write2-bulk",
        lambda s: s.write2_bulk(12, [WriteEntry(1, 5, timestamp=T0)]),
        _request(
            K.MX_COMMAND_KIND_WRITE2_BULK,
            "write2_bulk",
            _item(
                pb.Write2BulkCommand,
                entries=[
                    pb.Write2BulkEntry(
                        item_handle=1, value=to_mx_value(5), timestamp_value=to_mx_value(T0)
                    )
                ],
            ),
        ),
        _reply(K.MX_COMMAND_KIND_WRITE2_BULK, bulk_write=pb.BulkWriteReply()),
        [],
    ),
    CommandCase(
        "write-secured-bulk",
        lambda s: s.write_secured_bulk(12, [WriteEntry(1, 5, current_user_id=4)]),
        _request(
            K.MX_COMMAND_KIND_WRITE_SECURED_BULK,
            "write_secured_bulk",
            _item(
                pb.WriteSecuredBulkCommand,
                entries=[
                    pb.WriteSecuredBulkEntry(item_handle=1, value=to_mx_value(5), current_user_id=4)
                ],
            ),
        ),
        _reply(K.MX_COMMAND_KIND_WRITE_SECURED_BULK, bulk_write=pb.BulkWriteReply()),
        [],
    ),
    CommandCase(
        "write-secured2-bulk",
        lambda s: s.write_secured2_bulk(
            12, [WriteEntry(1, 5, current_user_id=4, verifier_user_id=9, timestamp=T0)]
        ),
        _request(
            K.MX_COMMAND_KIND_WRITE_SECURED2_BULK,
            "write_secured2_bulk",
            _item(
                pb.WriteSecured2BulkCommand,
                entries=[
                    pb.WriteSecured2BulkEntry(
                        item_handle=1,
                        value=to_mx_value(5),
                        current_user_id=4,
                        verifier_user_id=9,
                        timestamp_value=to_mx_value(T0),
                    )
                ],
            ),
        ),
        _reply(K.MX_COMMAND_KIND_WRITE_SECURED2_BULK, bulk_write=pb.BulkWriteReply()),
        [],
    ),
    CommandCase(
        "read-bulk",
        lambda s: s.read_bulk(12, ["Tank01.Level.PV"], timeout_ms=2000),
        _request(
            K.MX_COMMAND_KIND_READ_BULK,
            "read_bulk",
            _item(pb.ReadBulkCommand, tag_addresses=["Tank01.Level.PV"], timeout_ms=2000),
        ),
        _reply(
            K.MX_COMMAND_KIND_READ_BULK,
            read_bulk=pb.BulkReadReply(
                results=[
                    pb.BulkReadResult(
                        tag_address="Tank01.Level.PV",
                        item_handle=1,
                        was_successful=True,
                        was_cached=True,
                        value=to_mx_value(42.5),
                        quality=192,
                        timestamp=to_mx_value(T0).timestamp_value,
                        statuses=[_OK_STATUS],
                    )
                ]
            ),
        ),
        [("Tank01.Level.PV", 42.5, True, T0)],
    ),
]


# --------------------------------------------------------------------------- auth, events

AUTH_CASES: list[dict[str, Any]] = [
    {
        "id": "auth-valid-key",
        "rpc": "OpenSession",
        "key": "valid",
        "expect": {"code": "OK"},
    },
    {
        "id": "auth-missing-key",
        "rpc": "OpenSession",
        "key": None,
        "expect": {
            "code": "UNAUTHENTICATED",
            "error": "AuthenticationError",
            "details": "authentication failed: missing bearer token",
        },
    },
    {
        "id": "auth-wrong-key",
        "rpc": "OpenSession",
        "key": "wrong",
        "expect": {"code": "UNAUTHENTICATED", "error": "AuthenticationError"},
    },
    {
        "id": "auth-stream-missing-key",
        "rpc": "StreamEvents",
        "key": None,
        "expect": {
            "code": "UNAUTHENTICATED",
            "error": "AuthenticationError",
            "details": "authentication failed: missing bearer token",
        },
    },
    {
        "id": "auth-read-only-key-writes",
        "rpc": "Invoke",
        "key": "read-only",
        "expect": {
            "code": "PERMISSION_DENIED",
            "error": "PermissionDeniedError",
            "details": "authorization failed: missing scope invoke:write",
        },
    },
]
AUTH_REQUESTS: dict[str, Message] = {
    "OpenSession": pb.OpenSessionRequest(client_session_name="python-client"),
    "StreamEvents": pb.StreamEventsRequest(session_id=SESSION_ID),
    "Invoke": _request(
        K.MX_COMMAND_KIND_WRITE,
        "write",
        pb.WriteCommand(server_handle=12, item_handle=1, value=to_mx_value(1)),
    ),
}


def _event(seq: int, **fields: Any) -> pb.MxEvent:
    return pb.MxEvent(
        server_handle=12,
        item_handle=1,
        worker_sequence=seq,
        worker_timestamp=to_mx_value(T0 + timedelta(seconds=seq)).timestamp_value,
        **fields,
    )


EVENT_STREAM: list[pb.MxEvent] = [
    pb.MxEvent(replay_gap=pb.ReplayGap(requested_after_sequence=3, oldest_available_sequence=8)),
    _event(
        8,
        family=pb.MX_EVENT_FAMILY_ON_DATA_CHANGE,
        value=to_mx_value(41.0),
        quality=192,
        source_timestamp=to_mx_value(T0).timestamp_value,
        statuses=[_OK_STATUS],
        on_data_change=pb.OnDataChangeEvent(),
    ),
    _event(
        9,
        family=pb.MX_EVENT_FAMILY_ON_WRITE_COMPLETE,
        statuses=[STATUS_CASES["status-write-read-only"][0]],
        on_write_complete=pb.OnWriteCompleteEvent(),
    ),
    _event(
        10,
        family=pb.MX_EVENT_FAMILY_ON_DATA_CHANGE,
        value=to_mx_value(0),
        quality=24,
        statuses=[STATUS_CASES["status-bad-reference"][0]],
        on_data_change=pb.OnDataChangeEvent(),
    ),
    _event(
        11,
        family=pb.MX_EVENT_FAMILY_ON_BUFFERED_DATA_CHANGE,
        value=to_mx_value([1.0, 2.0]),
        quality=192,
        on_buffered_data_change=pb.OnBufferedDataChangeEvent(
            data_type=pb.MX_DATA_TYPE_DOUBLE, raw_data_type=4
        ),
    ),
    _event(
        12,
        family=pb.MX_EVENT_FAMILY_OPERATION_COMPLETE,
        operation_complete=pb.OperationCompleteEvent(),
    ),
    _event(
        13,
        family=pb.MX_EVENT_FAMILY_ON_ALARM_TRANSITION,
        on_alarm_transition=pb.OnAlarmTransitionEvent(
            alarm_full_reference="Tank01.Level.HiAlarm",
            source_object_reference="Tank01",
            alarm_type_name="HiAlarm",
            transition_kind=pb.ALARM_TRANSITION_KIND_RAISE,
            raw_severity=500,
            current_value=to_mx_value(95.5),
            limit_value=to_mx_value(90.0),
        ),
    ),
]
EVENT_TYPES = [
    "ReplayGap",
    "DataChange",
    "WriteComplete",
    "DataChange",
    "BufferedDataChange",
    "OperationComplete",
    "AlarmTransition",
]


# --------------------------------------------------------------------------- manifest


def build() -> dict[str, Any]:
    """Every fixture file (path -> JSON) and the manifest."""
    files: dict[str, Any] = {}
    entries: list[dict[str, str]] = []

    def add(fid: str, category: str, message_type: str, path: str, body: Any) -> None:
        files[path] = body
        entries.append(
            {"id": fid, "category": category, "messageType": f"{PACKAGE}.{message_type}",
             "path": path}
        )  # fmt: skip

    for case in VALUE_CASES:
        add(case.id, "value", "MxValue", f"values/{case.id}.json", to_json(case.message()))
    for sid, (message, _, _) in STATUS_CASES.items():
        add(sid, "status", "MxStatusProxy", f"statuses/{sid}.json", to_json(message))
    for ccase in COMMAND_CASES:
        add(
            f"{ccase.id}-request",
            "command-request",
            "MxCommandRequest",
            f"commands/{ccase.id}.request.json",
            to_json(ccase.request),
        )
        add(
            f"{ccase.id}-reply",
            "command-reply",
            "MxCommandReply",
            f"commands/{ccase.id}.reply.json",
            to_json(ccase.reply),
        )
    for auth in AUTH_CASES:
        request = AUTH_REQUESTS[auth["rpc"]]
        body = {**auth, "request": to_json(request)}
        add(auth["id"], "auth", type(request).__name__, f"auth/{auth['id']}.json", body)
    add(
        "session-event-stream",
        "event-stream",
        "MxEvent",
        "events/session-event-stream.json",
        {"afterWorkerSequence": "3", "events": [to_json(e) for e in EVENT_STREAM]},
    )
    manifest = {
        "fixtureSet": "mxgw-client-behavior",
        "contract": PACKAGE,
        "protocolVersions": {"gateway": 3, "worker": 3},
        "fixtures": entries,
    }
    return {"manifest.json": manifest, **files}


def dump(body: Any) -> str:
    """Stable JSON text for a fixture file."""
    return json.dumps(body, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def main(argv: list[str]) -> int:
    """``--write`` regenerates ``fixtures/``; ``--check`` reports files that differ."""
    files = build()
    stale = [p for p, body in files.items() if not (ROOT / p).exists()
             or (ROOT / p).read_text(encoding="utf-8") != dump(body)]  # fmt: skip
    if "--write" in argv:
        for path in stale:
            target = ROOT / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(dump(files[path]), encoding="utf-8")
        print(f"wrote {len(stale)} of {len(files)} fixture files")
        return 0
    for path in stale:
        print(f"differs: fixtures/{path}")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
