"""The options every command shares (connection and output), and their validation.

They live on a parent parser that each subcommand includes, so they are written after the
command name: ``mxgw-py register --endpoint host:5001 --tls ...``. Settings are resolved once
into a ``ConnectionSettings``; nothing here opens a connection.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
from dataclasses import dataclass, field

from mxgateway_cli.errors import UsageError

__all__ = [
    "DEFAULT_CALL_TIMEOUT",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_ENDPOINT",
    "ENDPOINT_ENV",
    "ConnectionSettings",
    "add_output_options",
    "connection_parent",
    "non_negative_int",
    "positive_float",
    "resolve_connection",
]

ENDPOINT_ENV = "MXGATEWAY_ENDPOINT"
DEFAULT_ENDPOINT = "localhost:5000"
DEFAULT_CALL_TIMEOUT = 30.0
DEFAULT_CONNECT_TIMEOUT = 10.0


def positive_float(text: str) -> float:
    """argparse type: a number of seconds greater than zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number greater than 0, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text!r}")
    return value


def int32(text: str) -> int:
    """argparse type: a signed 32-bit integer (MXAccess handles and user ids)."""
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not -(2**31) <= value < 2**31:
        raise argparse.ArgumentTypeError(f"outside the 32-bit range, got {text!r}")
    return value


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """``--json`` and ``--raw``: every command has them."""
    group = parser.add_argument_group("output options")
    group.add_argument(
        "--json",
        action="store_true",
        help="print one JSON document (sorted keys; JSON lines for stream-events) instead "
        "of human-readable lines; errors become a JSON error object on stdout",
    )
    group.add_argument(
        "--raw",
        action="store_true",
        help="with --json, add the gateway's raw protobuf reply (protobuf JSON) as 'raw'",
    )


def connection_parent(*, stream_command: bool = False) -> argparse.ArgumentParser:
    """A parent parser with the connection options.

    ``stream_command``: the command's own ``--timeout`` means how long to wait for events,
    so the per-call deadline is only available as ``--call-timeout``.
    """
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("connection options")
    group.add_argument(
        "--endpoint",
        metavar="HOST:PORT",
        default=None,
        help=f"gateway address (default: ${ENDPOINT_ENV}, else {DEFAULT_ENDPOINT})",
    )
    # Not an argparse mutually exclusive group: through a parent parser its options would
    # leave this help section; resolve_connection refuses the pair instead.
    group.add_argument(
        "--plaintext",
        action="store_true",
        help="connect without TLS (local development only; default for localhost, "
        "127.0.0.1 and ::1 endpoints)",
    )
    group.add_argument(
        "--tls",
        action="store_true",
        help="connect with TLS, verifying the server against the system roots or "
        "--ca-file (default for every non-loopback endpoint)",
    )
    group.add_argument(
        "--ca-file",
        metavar="PEM",
        help="PEM file of the CA that signed the gateway's certificate (implies --tls)",
    )
    group.add_argument(
        "--server-name-override",
        metavar="NAME",
        help="host name to verify in the gateway's certificate instead of the endpoint's "
        "(test certificates; implies --tls)",
    )
    group.add_argument(
        "--api-key-env",
        metavar="NAME",
        help="read the API key from environment variable NAME (recommended, e.g. "
        "MXGATEWAY_API_KEY); sent as 'authorization: Bearer <key>'",
    )
    group.add_argument(
        "--api-key",
        metavar="KEY",
        help="the API key itself; works, but the key is then visible to other users in "
        "process lists and shell history: prefer --api-key-env",
    )
    timeout_flags = ["--call-timeout"] if stream_command else ["--timeout", "--call-timeout"]
    group.add_argument(
        *timeout_flags,
        dest="call_timeout",
        metavar="SECONDS",
        type=positive_float,
        default=DEFAULT_CALL_TIMEOUT,
        help=f"deadline of each gateway call (default {DEFAULT_CALL_TIMEOUT:g})",
    )
    group.add_argument(
        "--connect-timeout",
        metavar="SECONDS",
        type=positive_float,
        default=DEFAULT_CONNECT_TIMEOUT,
        help="how long to wait for the gateway to accept the connection "
        f"(default {DEFAULT_CONNECT_TIMEOUT:g})",
    )
    add_output_options(parent)
    return parent


@dataclass(frozen=True)
class ConnectionSettings:
    """Validated connection settings; ``repr`` never shows the key."""

    endpoint: str
    plaintext: bool
    ca_file: str | None
    server_name_override: str | None
    call_timeout: float
    connect_timeout: float
    api_key: str | None = field(default=None, repr=False)


def _host_of(endpoint: str) -> str:
    if endpoint.startswith("["):
        return endpoint[1 : endpoint.index("]")]
    return endpoint.rsplit(":", 1)[0]


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_endpoint(endpoint: str, source: str = "--endpoint") -> str:
    """Check ``HOST:PORT`` (``[v6]:PORT`` too); an error names the option and the value."""
    text = endpoint.strip()
    hint = "expected HOST:PORT, e.g. localhost:5000 or [::1]:5000"
    if not text:
        raise UsageError(f"{source}: empty address; {hint}", "INVALID_ENDPOINT")
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or not text[end + 1 :].startswith(":"):
            raise UsageError(f"{source}: {endpoint!r} is not valid; {hint}", "INVALID_ENDPOINT")
        host, port = text[1:end], text[end + 2 :]
    else:
        host, sep, port = text.rpartition(":")
        if not sep or ":" in host:
            raise UsageError(f"{source}: {endpoint!r} is not valid; {hint}", "INVALID_ENDPOINT")
    if not host or any(c.isspace() or c in "/\\@?#" for c in host):
        raise UsageError(f"{source}: {endpoint!r} has no valid host; {hint}", "INVALID_ENDPOINT")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(
            f"{source}: {endpoint!r} has no valid port (1-65535); {hint}", "INVALID_ENDPOINT"
        )
    return text


def read_env_secret(name: str, option: str) -> str:
    """The value of environment variable ``name``; a usage error naming it when unset."""
    if not name or "=" in name:
        raise UsageError(f"{option}: {name!r} is not an environment variable name", "MISSING_ENV")
    value = os.environ.get(name)
    if value is None:
        raise UsageError(f"{option}: environment variable {name} is not set", "MISSING_ENV")
    if not value:
        raise UsageError(f"{option}: environment variable {name} is empty", "MISSING_ENV")
    return value


def resolve_connection(args: argparse.Namespace) -> ConnectionSettings:
    """Turn the parsed options into settings, with usage errors for bad combinations."""
    if args.endpoint is not None:
        endpoint = validate_endpoint(args.endpoint)
    else:
        endpoint = validate_endpoint(os.environ.get(ENDPOINT_ENV) or DEFAULT_ENDPOINT, ENDPOINT_ENV)
    if args.api_key is not None and args.api_key_env is not None:
        raise UsageError("--api-key and --api-key-env cannot be used together")
    api_key: str | None = None
    if args.api_key_env is not None:
        api_key = read_env_secret(args.api_key_env, "--api-key-env")
    elif args.api_key is not None:
        if not args.api_key:
            raise UsageError("--api-key: empty key")
        api_key = args.api_key
    tls_options = args.ca_file is not None or args.server_name_override is not None
    if args.plaintext and args.tls:
        raise UsageError("--plaintext and --tls cannot be used together")
    if args.plaintext and tls_options:
        raise UsageError("--plaintext cannot be combined with --ca-file or --server-name-override")
    if args.plaintext or args.tls:
        plaintext = bool(args.plaintext)
    else:
        plaintext = not tls_options and _is_loopback(_host_of(endpoint))
    if args.ca_file is not None and not os.path.isfile(args.ca_file):
        raise UsageError(f"--ca-file: {args.ca_file}: no such file", "INVALID_CA_FILE")
    return ConnectionSettings(
        endpoint=endpoint,
        plaintext=plaintext,
        ca_file=args.ca_file,
        server_name_override=args.server_name_override,
        call_timeout=args.call_timeout,
        connect_timeout=args.connect_timeout,
        api_key=api_key,
    )
