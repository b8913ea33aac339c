"""Building the gRPC channel from ``ClientOptions`` (the default channel factory)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import grpc

from mxgateway._options import ClientOptions, InvalidOptionsError

__all__ = ["ChannelFactory", "create_channel"]

ChannelFactory = Callable[[ClientOptions], grpc.aio.Channel]
"""Makes the channel a client uses; tests and embedders can pass their own to ``connect``."""


def channel_options(options: ClientOptions) -> list[tuple[str, str | int]]:
    """The gRPC channel arguments for ``options``."""
    args: list[tuple[str, str | int]] = [
        ("grpc.max_receive_message_length", options.max_receive_message_bytes),
        ("grpc.max_send_message_length", options.max_send_message_bytes),
    ]
    if options.server_name_override:
        args.append(("grpc.ssl_target_name_override", options.server_name_override))
    return args


def read_ca_file(path: str) -> bytes:
    """Read a PEM bundle, with an error naming the file and the setting."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidOptionsError(f"ca_file: cannot read {path}: {exc.strerror}") from None
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise InvalidOptionsError(f"ca_file: {path} holds no PEM certificate")
    return data


def create_channel(options: ClientOptions) -> grpc.aio.Channel:
    """A plaintext channel when asked, else TLS with ``ca_file`` or the system roots."""
    args = channel_options(options)
    if options.plaintext:
        return grpc.aio.insecure_channel(options.endpoint, options=args)
    roots = read_ca_file(options.ca_file) if options.ca_file else None
    credentials = grpc.ssl_channel_credentials(root_certificates=roots)
    return grpc.aio.secure_channel(options.endpoint, credentials, options=args)
