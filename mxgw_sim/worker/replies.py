"""Building command replies, statuses and values in the shapes of upstream's golden replies.

Statuses carry both the mapped wire enums and the raw MXAccess numbers (``raw_category``
6 for SecurityError, as MXAccess numbers it); refusals are ``MxCommandReply`` data with
``PROTOCOL_STATUS_CODE_MXACCESS_FAILURE`` and an HRESULT, never gRPC errors.
"""

from __future__ import annotations

from mxgateway import MxDataType, MxStatusCategory, MxStatusSource
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgw_sim.galaxy.coerce import empty_value

__all__ = [
    "E_FAIL",
    "E_INVALIDARG",
    "MX_E_WRITE_REFUSED",
    "failure_reply",
    "int_value",
    "new_reply",
    "status",
]

#: HRESULT of an invalid-argument COM error (0x80070057).
E_INVALIDARG = -2147024809
#: HRESULT of an unspecified COM failure (0x80004005).
E_FAIL = -2147467259
#: HRESULT upstream's fixture shows for a write MXAccess refused (0x80040200).
MX_E_WRITE_REFUSED = -2147220992

OK = pb.PROTOCOL_STATUS_CODE_OK
MXACCESS_FAILURE = pb.PROTOCOL_STATUS_CODE_MXACCESS_FAILURE


def status(
    category: MxStatusCategory,
    detected_by: MxStatusSource,
    *,
    success: int = 0,
    detail: int = 0,
    text: str = "",
) -> pb.MxStatusProxy:
    """One MxStatusProxy with the wire enums and the raw MXAccess numbers."""
    return pb.MxStatusProxy(
        success=success,
        category=category.wire,  # type: ignore[arg-type]
        detected_by=detected_by.wire,  # type: ignore[arg-type]
        detail=detail,
        raw_category=int(category),
        raw_detected_by=int(detected_by),
        diagnostic_text=text,
    )


def ok_status(
    success_value: int, detected_by: MxStatusSource = MxStatusSource.RESPONDING_LMX
) -> pb.MxStatusProxy:
    """The status of a plain success."""
    return status(MxStatusCategory.OK, detected_by, success=success_value)


def int_value(number: int) -> pb.MxValue:
    """An Integer return value (VT_I4), as Register and AddItem return their handles."""
    return pb.MxValue(
        data_type=MxDataType.INTEGER.wire,  # type: ignore[arg-type]
        raw_data_type=int(MxDataType.INTEGER),
        variant_type="VT_I4",
        int32_value=number,
    )


def new_reply(request: pb.MxCommandRequest, kind: int, success_value: int) -> pb.MxCommandReply:
    """A successful reply skeleton echoing the request's ids."""
    reply = pb.MxCommandReply(
        session_id=request.session_id,
        correlation_id=request.correlation_id,
        kind=kind,  # type: ignore[arg-type]
        protocol_status=pb.ProtocolStatus(code=OK, message="OK"),
        hresult=0,
    )
    reply.return_value.CopyFrom(empty_value())
    reply.statuses.append(ok_status(success_value))
    return reply


def failure_reply(
    request: pb.MxCommandRequest,
    kind: int,
    message: str,
    *,
    hresult: int = E_INVALIDARG,
    code: int = MXACCESS_FAILURE,
    statuses: list[pb.MxStatusProxy] | None = None,
) -> pb.MxCommandReply:
    """A refused command: protocol status, HRESULT, an empty return value and statuses."""
    reply = pb.MxCommandReply(
        session_id=request.session_id,
        correlation_id=request.correlation_id,
        kind=kind,  # type: ignore[arg-type]
        protocol_status=pb.ProtocolStatus(code=code, message=message),  # type: ignore[arg-type]
        hresult=hresult,
        diagnostic_message=message,
    )
    reply.return_value.CopyFrom(empty_value())
    if statuses is None:
        statuses = [
            status(
                MxStatusCategory.OTHER_ERROR,
                MxStatusSource.REQUESTING_LMX,
                text=message,
            )
        ]
    reply.statuses.extend(statuses)
    return reply
