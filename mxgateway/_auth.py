"""API key metadata, and the warning for keys sent in clear text.

The key travels as ``authorization: Bearer <key>`` metadata that the client attaches to
every call itself (unary and streaming alike), so it works on any channel, including one
built by a custom channel factory.
"""

from __future__ import annotations

import ipaddress
import logging
import warnings

__all__ = ["PlaintextKeyWarning", "bearer_metadata", "endpoint_host", "is_loopback_endpoint"]

logger = logging.getLogger("mxgateway")

Metadata = tuple[tuple[str, str], ...]


class PlaintextKeyWarning(UserWarning):
    """An API key is about to be sent without TLS to a host that is not this machine."""


def bearer_metadata(api_key: str | None) -> Metadata | None:
    """The call metadata carrying ``api_key``, or None without a key."""
    if not api_key:
        return None
    return (("authorization", f"Bearer {api_key}"),)


def endpoint_host(endpoint: str) -> str:
    """The host part of a gRPC target (``host:port``, ``[v6]:port``, ``dns:///host:port``)."""
    target = endpoint.strip()
    for prefix in ("dns:///", "dns:", "ipv4:", "ipv6:"):
        if target.startswith(prefix):
            target = target[len(prefix) :]
            break
    target = target.split(",", 1)[0]
    if target.startswith("["):
        return target[1:].split("]", 1)[0]
    if target.count(":") == 1:
        return target.rsplit(":", 1)[0]
    return target


def is_loopback_endpoint(endpoint: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8, ``::1`` and unix sockets."""
    if endpoint.startswith(("unix:", "unix-abstract:")):
        return True
    host = endpoint_host(endpoint).lower()
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def warn_if_key_in_clear(endpoint: str, api_key: str | None, plaintext: bool) -> None:
    """Warn (and log) when a key would cross the network unencrypted."""
    if api_key and plaintext and not is_loopback_endpoint(endpoint):
        message = (
            f"sending an API key over a plaintext channel to {endpoint}; "
            "anyone on the network path can read it (use TLS)"
        )
        logger.warning(message)
        warnings.warn(message, PlaintextKeyWarning, stacklevel=3)
