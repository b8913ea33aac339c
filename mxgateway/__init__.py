"""mxgateway: async client for the MXAccess Gateway.

Everything users need is importable from here; the underscore modules are private.
The generated protobuf bindings live in ``mxgateway.generated``.
"""

from mxgateway._auth import PlaintextKeyWarning
from mxgateway._channel import ChannelFactory, create_channel
from mxgateway._client import AlarmFeedItem, GatewayClient, Timeout
from mxgateway._errors import (
    AuthenticationError,
    ClientClosedError,
    DeadlineExceededError,
    GatewayBusyError,
    GatewayRpcError,
    GatewayUnavailableError,
    InvalidArgumentError,
    InvalidRequestError,
    MxAccessCommunicationError,
    MxAccessConfigurationError,
    MxAccessFailureError,
    MxAccessOperationalError,
    MxAccessOtherError,
    MxAccessSecurityError,
    MxAccessSoftwareError,
    MxGatewayCommandError,
    MxGatewayError,
    PermissionDeniedError,
    ResourceExhaustedError,
    SessionFaultedError,
    SessionNotFoundError,
    StreamAlreadyOpenError,
    ValueConversionError,
    WorkerUnavailableError,
)
from mxgateway._events import (
    ActiveAlarm,
    AlarmSnapshotComplete,
    AlarmTransition,
    BufferedDataChange,
    DataChange,
    Event,
    OperationComplete,
    ReplayGap,
    UnknownEvent,
    WriteComplete,
    event_from_proto,
)
from mxgateway._eventstream import EventStream
from mxgateway._options import UNSET, ClientOptions, InvalidOptionsError
from mxgateway._quality import Quality, QualityClass, QualityLimit
from mxgateway._results import (
    BulkReadResult,
    BulkWriteResult,
    SessionState,
    SubscribeResult,
    WriteEntry,
)
from mxgateway._session import Session
from mxgateway._status import MxStatus, MxStatusCategory, MxStatusSource
from mxgateway._streams import CallStream
from mxgateway._types import MxDataType, ValueType, parse_type_name, type_names
from mxgateway._values import SparseArray, from_mx_value, to_mx_value, value_type_of

__version__ = "0.1.0"

__all__ = [
    "UNSET",
    "ActiveAlarm",
    "AlarmFeedItem",
    "AlarmSnapshotComplete",
    "AlarmTransition",
    "AuthenticationError",
    "BufferedDataChange",
    "BulkReadResult",
    "BulkWriteResult",
    "CallStream",
    "ChannelFactory",
    "ClientClosedError",
    "ClientOptions",
    "DataChange",
    "DeadlineExceededError",
    "Event",
    "EventStream",
    "GatewayBusyError",
    "GatewayClient",
    "GatewayRpcError",
    "GatewayUnavailableError",
    "InvalidArgumentError",
    "InvalidOptionsError",
    "InvalidRequestError",
    "MxAccessCommunicationError",
    "MxAccessConfigurationError",
    "MxAccessFailureError",
    "MxAccessOperationalError",
    "MxAccessOtherError",
    "MxAccessSecurityError",
    "MxAccessSoftwareError",
    "MxDataType",
    "MxGatewayCommandError",
    "MxGatewayError",
    "MxStatus",
    "MxStatusCategory",
    "MxStatusSource",
    "OperationComplete",
    "PermissionDeniedError",
    "PlaintextKeyWarning",
    "Quality",
    "QualityClass",
    "QualityLimit",
    "ReplayGap",
    "ResourceExhaustedError",
    "Session",
    "SessionFaultedError",
    "SessionNotFoundError",
    "SessionState",
    "SparseArray",
    "StreamAlreadyOpenError",
    "SubscribeResult",
    "Timeout",
    "UnknownEvent",
    "ValueConversionError",
    "ValueType",
    "WorkerUnavailableError",
    "WriteComplete",
    "WriteEntry",
    "__version__",
    "create_channel",
    "event_from_proto",
    "from_mx_value",
    "parse_type_name",
    "to_mx_value",
    "type_names",
    "value_type_of",
]
