"""Exit codes and the one place that turns an exception into a CLI error report.

Every failure the CLI can meet ends here: argparse usage errors, bad values, missing
environment variables, gRPC status errors, command replies that are not OK. Each becomes a
``CliError`` with a distinct exit code, a type name, a code and a message; secrets are
scrubbed by the output layer before anything is written.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

import grpc

from mxgateway import (
    AuthenticationError,
    DeadlineExceededError,
    GatewayRpcError,
    GatewayUnavailableError,
    InvalidOptionsError,
    MxAccessFailureError,
    MxGatewayCommandError,
    MxGatewayError,
    SessionFaultedError,
    ValueConversionError,
    WorkerUnavailableError,
)

__all__ = ["CliError", "ExitCode", "UsageError", "classify"]


class ExitCode(enum.IntEnum):
    """The process exit codes of ``mxgw-py`` (documented in ``docs/cli.md`` and ``--help``)."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    CONNECTION = 3
    AUTH = 4
    COMMAND_FAILED = 5
    SESSION = 6
    TIMEOUT = 7
    REJECTED = 8
    INTERRUPTED = 130


EXIT_CODE_HELP = """\
exit codes:
  0    success
  1    internal error (a bug: please report it)
  2    usage error: bad option, bad value, missing environment variable or file
  3    connection error: gateway unreachable, TLS handshake failed, connect timeout
  4    authentication or permission error: missing/wrong API key, missing scope
  5    MXAccess command failure (the reply's statuses are in the error object)
  6    session not found, closed, faulted, or its worker is gone
  7    timed out: a call's deadline passed, or too few events (stream-events
       --require-all, smoke)
  8    the gateway rejected the request (invalid argument, a second event
       stream, limits reached, busy)
  130  interrupted (Ctrl-C)"""


@dataclass
class CliError(Exception):
    """A failure to report: ``type`` and ``code`` name it, ``extra`` adds data to the JSON."""

    message: str
    exit_code: ExitCode
    type: str = "Error"
    code: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class UsageError(CliError):
    """Bad command line input: exit code 2."""

    def __init__(self, message: str, code: str = "USAGE") -> None:
        super().__init__(message, ExitCode.USAGE, "UsageError", code)


_RPC_EXIT: dict[grpc.StatusCode, ExitCode] = {
    grpc.StatusCode.UNAVAILABLE: ExitCode.CONNECTION,
    grpc.StatusCode.UNAUTHENTICATED: ExitCode.AUTH,
    grpc.StatusCode.PERMISSION_DENIED: ExitCode.AUTH,
    grpc.StatusCode.NOT_FOUND: ExitCode.SESSION,
    grpc.StatusCode.FAILED_PRECONDITION: ExitCode.SESSION,
    grpc.StatusCode.DEADLINE_EXCEEDED: ExitCode.TIMEOUT,
    grpc.StatusCode.CANCELLED: ExitCode.INTERRUPTED,
}

_COMMAND_EXIT_BY_NAME: dict[str, ExitCode] = {
    "MXACCESS_FAILURE": ExitCode.COMMAND_FAILED,
    "SESSION_NOT_FOUND": ExitCode.SESSION,
    "SESSION_FAULTED": ExitCode.SESSION,
    "WORKER_UNAVAILABLE": ExitCode.SESSION,
    "TIMEOUT": ExitCode.TIMEOUT,
    "CANCELLED": ExitCode.INTERRUPTED,
}


def _dedupe(message: str) -> str:
    """Drop repeated parts of a ``;``-joined message (the same gateway text often arrives as
    status diagnostic, protocol message and diagnostic message at once)."""
    kept: list[str] = []
    for part in message.split("; "):
        if part and not any(part in earlier for earlier in kept):
            kept.append(part)
    return "; ".join(kept)


def _command_error(exc: MxGatewayCommandError) -> CliError:
    code = exc.protocol_code_name
    if isinstance(exc, MxAccessFailureError):
        exit_code = ExitCode.COMMAND_FAILED
    elif isinstance(exc, SessionFaultedError | WorkerUnavailableError):
        exit_code = ExitCode.SESSION
    else:
        exit_code = _COMMAND_EXIT_BY_NAME.get(code, ExitCode.REJECTED)
    return CliError(
        _dedupe(str(exc)),
        exit_code,
        type(exc).__name__,
        code,
        {"reply": exc.reply},
    )


def classify(exc: BaseException, *, endpoint: str = "") -> CliError:
    """The ``CliError`` for any exception a command may raise (never raises itself)."""
    if isinstance(exc, CliError):
        return exc
    if isinstance(exc, KeyboardInterrupt):
        return CliError("interrupted", ExitCode.INTERRUPTED, "Interrupted", "INTERRUPTED")
    if isinstance(exc, ValueConversionError):
        return CliError(str(exc), ExitCode.USAGE, "ValueConversionError", "INVALID_VALUE")
    if isinstance(exc, InvalidOptionsError):
        return CliError(str(exc), ExitCode.USAGE, "InvalidOptionsError", "INVALID_OPTION")
    if isinstance(exc, MxGatewayCommandError):
        return _command_error(exc)
    if isinstance(exc, GatewayRpcError):
        exit_code = _RPC_EXIT.get(exc.code, ExitCode.REJECTED)
        message = str(exc)
        unreachable = isinstance(exc, GatewayUnavailableError | DeadlineExceededError)
        if unreachable and endpoint and endpoint not in message:
            message = f"{message} (endpoint {endpoint})"
        if isinstance(exc, AuthenticationError):
            message = f"{message} (check the API key: --api-key-env NAME)"
        return CliError(message, exit_code, type(exc).__name__, exc.code.name)
    if isinstance(exc, MxGatewayError):
        return CliError(str(exc), ExitCode.REJECTED, type(exc).__name__, "CLIENT_ERROR")
    if isinstance(exc, OSError):
        return CliError(str(exc), ExitCode.USAGE, type(exc).__name__, "OS_ERROR")
    return CliError(
        f"internal error: {type(exc).__name__}: {exc}",
        ExitCode.INTERNAL,
        "InternalError",
        "INTERNAL",
    )
