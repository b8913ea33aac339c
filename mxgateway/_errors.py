"""The exception tree of ``mxgateway`` and the one place that builds it.

::

    MxGatewayError
    ├── GatewayRpcError                 a gRPC status error (.code, .details)
    │   ├── AuthenticationError         UNAUTHENTICATED: missing or wrong API key
    │   ├── PermissionDeniedError       PERMISSION_DENIED: the key lacks a scope
    │   ├── InvalidArgumentError        INVALID_ARGUMENT
    │   ├── SessionNotFoundError        NOT_FOUND: unknown or closed session
    │   ├── StreamAlreadyOpenError      ALREADY_EXISTS: a second event stream
    │   ├── GatewayUnavailableError     UNAVAILABLE, or connect() could not reach the gateway
    │   ├── DeadlineExceededError       DEADLINE_EXCEEDED
    │   └── ResourceExhaustedError      RESOURCE_EXHAUSTED
    ├── MxGatewayCommandError           a reply whose protocol status is not OK (.reply, ...)
    │   ├── MxAccessFailureError        MXACCESS_FAILURE, subclassed by status category:
    │   │   ├── MxAccessCommunicationError
    │   │   ├── MxAccessConfigurationError
    │   │   ├── MxAccessOperationalError
    │   │   ├── MxAccessSecurityError
    │   │   ├── MxAccessSoftwareError
    │   │   └── MxAccessOtherError
    │   ├── InvalidRequestError         INVALID_REQUEST
    │   ├── WorkerUnavailableError      WORKER_UNAVAILABLE
    │   ├── SessionFaultedError         SESSION_FAULTED
    │   └── GatewayBusyError            BUSY (too many pending commands)
    ├── ValueConversionError            a Python value that cannot become an MxValue (ValueError)
    ├── InvalidOptionsError             a bad client setting (ValueError; in _options)
    └── ClientClosedError               the client (or session) was used after close()

gRPC status codes and reply protocol statuses map to classes through registries keyed by
code (``register_rpc_error``, ``register_command_error``, ``register_category_error``).
``asyncio.CancelledError`` is never translated. Secrets (API keys, passwords) are scrubbed
from every message built here; when the server's own text contained one, the original
exception is not chained, so it cannot leak through the traceback either.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import grpc

from mxgateway._status import MxStatus, MxStatusCategory, first_failure, statuses_from_proto
from mxgateway.generated import mxaccess_gateway_pb2 as pb

__all__ = [
    "AuthenticationError",
    "ClientClosedError",
    "DeadlineExceededError",
    "GatewayBusyError",
    "GatewayRpcError",
    "GatewayUnavailableError",
    "InvalidArgumentError",
    "InvalidRequestError",
    "MxAccessCommunicationError",
    "MxAccessConfigurationError",
    "MxAccessFailureError",
    "MxAccessOperationalError",
    "MxAccessOtherError",
    "MxAccessSecurityError",
    "MxAccessSoftwareError",
    "MxGatewayCommandError",
    "MxGatewayError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "SessionFaultedError",
    "SessionNotFoundError",
    "StreamAlreadyOpenError",
    "ValueConversionError",
    "WorkerUnavailableError",
]

REDACTED = "<redacted>"


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every occurrence of each non-empty secret in ``text`` with ``<redacted>``.

    A secret is also found as ``repr`` (either quote style) and JSON spell it, since a
    server's message may quote it that way (``bad password 'p\\ss'``); longer forms go first,
    so a secret that contains another is replaced whole.
    """
    forms: set[str] = set()
    for secret in secrets:
        if secret:
            forms |= {
                secret,
                repr(secret)[1:-1],
                repr(secret + "'\"")[1:-4],
                json.dumps(secret)[1:-1],
                json.dumps(secret, ensure_ascii=False)[1:-1],
            }
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, REDACTED)
    return text


class MxGatewayError(Exception):
    """Base of every error raised by ``mxgateway``."""


class ClientClosedError(MxGatewayError):
    """The client or session was used after ``close()``."""


class ValueConversionError(MxGatewayError, ValueError):
    """A Python value cannot be converted to the requested MXAccess type."""


# --------------------------------------------------------------------------- gRPC status


class GatewayRpcError(MxGatewayError):
    """The gateway answered a call with a gRPC status error."""

    def __init__(self, code: grpc.StatusCode, details: str, *, method: str = "") -> None:
        self.code = code
        self.details = details
        self.method = method
        where = f" ({method})" if method else ""
        super().__init__(f"{code.name}{where}: {details}" if details else f"{code.name}{where}")


class AuthenticationError(GatewayRpcError):
    """UNAUTHENTICATED: the API key is missing or not accepted."""


class PermissionDeniedError(GatewayRpcError):
    """PERMISSION_DENIED: the API key lacks the scope this call needs."""


class InvalidArgumentError(GatewayRpcError):
    """INVALID_ARGUMENT: the request was malformed."""


class SessionNotFoundError(GatewayRpcError):
    """NOT_FOUND: the session is unknown, expired or closed."""


class StreamAlreadyOpenError(GatewayRpcError):
    """ALREADY_EXISTS: the session already has an event stream subscriber."""


class GatewayUnavailableError(GatewayRpcError):
    """UNAVAILABLE: the gateway cannot be reached (also raised by ``connect``)."""


class DeadlineExceededError(GatewayRpcError):
    """DEADLINE_EXCEEDED: the call's timeout passed."""


class ResourceExhaustedError(GatewayRpcError):
    """RESOURCE_EXHAUSTED: a gateway limit (sessions, queue, message size) was hit."""


_RPC_ERRORS: dict[grpc.StatusCode, type[GatewayRpcError]] = {}

_E = TypeVar("_E", bound=type[MxGatewayError])


def register_rpc_error(code: grpc.StatusCode) -> Callable[[_E], _E]:
    """Class decorator: raise ``cls`` for gRPC status ``code``."""

    def decorate(cls: _E) -> _E:
        _RPC_ERRORS[code] = cls  # type: ignore[assignment]
        return cls

    return decorate


for _code, _cls in (
    (grpc.StatusCode.UNAUTHENTICATED, AuthenticationError),
    (grpc.StatusCode.PERMISSION_DENIED, PermissionDeniedError),
    (grpc.StatusCode.INVALID_ARGUMENT, InvalidArgumentError),
    (grpc.StatusCode.NOT_FOUND, SessionNotFoundError),
    (grpc.StatusCode.ALREADY_EXISTS, StreamAlreadyOpenError),
    (grpc.StatusCode.UNAVAILABLE, GatewayUnavailableError),
    (grpc.StatusCode.DEADLINE_EXCEEDED, DeadlineExceededError),
    (grpc.StatusCode.RESOURCE_EXHAUSTED, ResourceExhaustedError),
):
    register_rpc_error(_code)(_cls)


def rpc_error_from_status(
    code: grpc.StatusCode, details: str, *, method: str = "", secrets: Sequence[str | None] = ()
) -> GatewayRpcError:
    """Build the typed error for a gRPC status, with secrets scrubbed from the details."""
    cls = _RPC_ERRORS.get(code, GatewayRpcError)
    return cls(code, scrub(details or "", secrets), method=method)


@contextmanager
def translate_rpc_errors(*, method: str = "", secrets: Sequence[str | None] = ()) -> Iterator[None]:
    """Turn ``grpc.aio.AioRpcError`` raised inside the block into ``GatewayRpcError``s."""
    try:
        yield
    except grpc.aio.AioRpcError as exc:
        raise_rpc_error(exc, method=method, secrets=secrets)


def raise_rpc_error(
    exc: grpc.aio.AioRpcError, *, method: str = "", secrets: Sequence[str | None] = ()
) -> None:
    """Raise the typed error for ``exc``; chained unless the server's text held a secret."""
    details = exc.details() or ""
    error = rpc_error_from_status(exc.code(), details, method=method, secrets=secrets)
    if error.details != details:
        raise error from None
    raise error from exc


# --------------------------------------------------------------------------- reply level


class MxGatewayCommandError(MxGatewayError):
    """A command reply whose protocol status is not OK; keeps the whole reply as data."""

    def __init__(self, reply: Any, *, operation: str = "", secrets: Sequence[str | None] = ()):
        self.reply = reply
        self.operation = operation
        status = reply.protocol_status
        self.protocol_code: int = status.code
        self.protocol_message: str = scrub(status.message, secrets)
        self.kind: int = getattr(reply, "kind", 0)
        self.hresult: int = reply.hresult
        self.statuses: list[MxStatus] = reply_statuses(reply)
        self.diagnostic_message: str = scrub(reply.diagnostic_message, secrets)
        failing = first_failure(self.statuses)
        self.failing_status: MxStatus | None = failing
        self.category: MxStatusCategory | None = failing.category if failing else None
        self.detected_by = failing.detected_by if failing else None
        self.detail: int | None = failing.detail if failing else None
        super().__init__(scrub(self._message(), secrets))

    @property
    def protocol_code_name(self) -> str:
        """The protocol status name without its prefix, e.g. ``"MXACCESS_FAILURE"``."""
        return _enum_name(pb.ProtocolStatusCode, self.protocol_code, "PROTOCOL_STATUS_CODE_")

    @property
    def kind_name(self) -> str:
        """The command kind without its prefix, e.g. ``"WRITE"`` (empty when not a command)."""
        if not self.kind:
            return ""
        return _enum_name(pb.MxCommandKind, self.kind, "MX_COMMAND_KIND_")

    def _message(self) -> str:
        what = self.operation or self.kind_name or "command"
        parts = [f"{what} failed: {self.protocol_code_name}"]
        if self.hresult:
            parts.append(f"hresult 0x{self.hresult & 0xFFFFFFFF:08X}")
        if self.failing_status is not None:
            parts.append(self.failing_status.describe())
        if self.protocol_message:
            parts.append(self.protocol_message)
        if self.diagnostic_message:
            parts.append(self.diagnostic_message)
        return "; ".join(parts)


class MxAccessFailureError(MxGatewayCommandError):
    """MXAccess refused the command (MXACCESS_FAILURE); see ``statuses`` and ``hresult``."""


class MxAccessCommunicationError(MxAccessFailureError):
    """MXAccess failure, first failing status in category CommunicationError."""


class MxAccessConfigurationError(MxAccessFailureError):
    """MXAccess failure, first failing status in category ConfigurationError."""


class MxAccessOperationalError(MxAccessFailureError):
    """MXAccess failure, first failing status in category OperationalError."""


class MxAccessSecurityError(MxAccessFailureError):
    """MXAccess failure, first failing status in category SecurityError."""


class MxAccessSoftwareError(MxAccessFailureError):
    """MXAccess failure, first failing status in category SoftwareError."""


class MxAccessOtherError(MxAccessFailureError):
    """MXAccess failure, first failing status in category OtherError."""


class InvalidRequestError(MxGatewayCommandError):
    """INVALID_REQUEST: the gateway rejected the command as malformed."""


class WorkerUnavailableError(MxGatewayCommandError):
    """WORKER_UNAVAILABLE: the session's worker is gone, shutting down or not ready."""


class SessionFaultedError(MxGatewayCommandError):
    """SESSION_FAULTED: the session faulted; it can only be closed."""


class GatewayBusyError(MxGatewayCommandError):
    """BUSY: the session has too many pending commands."""


_COMMAND_ERRORS: dict[int, type[MxGatewayCommandError]] = {}
_CATEGORY_ERRORS: dict[MxStatusCategory, type[MxAccessFailureError]] = {}


def register_command_error(code: int) -> Callable[[_E], _E]:
    """Class decorator: raise ``cls`` for reply protocol status ``code``."""

    def decorate(cls: _E) -> _E:
        _COMMAND_ERRORS[code] = cls  # type: ignore[assignment]
        return cls

    return decorate


def register_category_error(category: MxStatusCategory) -> Callable[[_E], _E]:
    """Class decorator: raise ``cls`` for an MXAccess failure whose first status is ``category``."""

    def decorate(cls: _E) -> _E:
        _CATEGORY_ERRORS[category] = cls  # type: ignore[assignment]
        return cls

    return decorate


for _pcode, _pcls in (
    (pb.PROTOCOL_STATUS_CODE_MXACCESS_FAILURE, MxAccessFailureError),
    (pb.PROTOCOL_STATUS_CODE_INVALID_REQUEST, InvalidRequestError),
    (pb.PROTOCOL_STATUS_CODE_WORKER_UNAVAILABLE, WorkerUnavailableError),
    (pb.PROTOCOL_STATUS_CODE_SESSION_FAULTED, SessionFaultedError),
    (pb.PROTOCOL_STATUS_CODE_BUSY, GatewayBusyError),
):
    register_command_error(_pcode)(_pcls)

for _cat, _ccls in (
    (MxStatusCategory.COMMUNICATION_ERROR, MxAccessCommunicationError),
    (MxStatusCategory.CONFIGURATION_ERROR, MxAccessConfigurationError),
    (MxStatusCategory.OPERATIONAL_ERROR, MxAccessOperationalError),
    (MxStatusCategory.SECURITY_ERROR, MxAccessSecurityError),
    (MxStatusCategory.SOFTWARE_ERROR, MxAccessSoftwareError),
    (MxStatusCategory.OTHER_ERROR, MxAccessOtherError),
):
    register_category_error(_cat)(_ccls)


def command_error_for(
    reply: Any, *, operation: str = "", secrets: Sequence[str | None] = ()
) -> MxGatewayCommandError | None:
    """The typed error for a reply, or None when its protocol status is OK."""
    code = reply.protocol_status.code
    if code == pb.PROTOCOL_STATUS_CODE_OK:
        return None
    cls = _COMMAND_ERRORS.get(code, MxGatewayCommandError)
    if cls is MxAccessFailureError:
        failing = first_failure(reply_statuses(reply))
        if failing is not None:
            cls = _CATEGORY_ERRORS.get(failing.category, MxAccessFailureError)
    return cls(reply, operation=operation, secrets=secrets)


def raise_for_reply(reply: Any, *, operation: str = "", secrets: Sequence[str | None] = ()) -> None:
    """Raise the typed command error when ``reply.protocol_status`` is not OK."""
    error = command_error_for(reply, operation=operation, secrets=secrets)
    if error is not None:
        raise error


def reply_statuses(reply: Any) -> list[MxStatus]:
    """The statuses of a reply: ``statuses`` (commands) or the single ``status`` (alarm ack)."""
    if "statuses" in reply.DESCRIPTOR.fields_by_name:
        return statuses_from_proto(reply.statuses)
    if reply.HasField("status"):
        return [MxStatus.from_proto(reply.status)]
    return []


def _enum_name(enum: Any, number: int, prefix: str) -> str:
    try:
        return str(enum.Name(number)).removeprefix(prefix)
    except ValueError:
        return str(number)
