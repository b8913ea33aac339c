"""Connection settings of a run (``--endpoint``, TLS, API key) and the connector they make.

Resolved once, before anything runs, so a bad option is a usage error (exit 2)
and not a failed scenario. The API key never appears in ``repr`` or messages.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

ENDPOINT_ENV = "MXGATEWAY_ENDPOINT"
DEFAULT_ENDPOINT = "localhost:5000"
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_CALL_TIMEOUT = 30.0


class ConnectionOptionError(ValueError):
    """A connection option is invalid; the message names the option (never the key)."""


@dataclass(frozen=True)
class Connection:
    """Where and how to reach the gateway."""

    endpoint: str
    plaintext: bool
    ca_file: str | None = None
    server_name_override: str | None = None
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    api_key: str | None = field(default=None, repr=False)

    def key_in_clear_warning(self, api_key_env: str | None = None) -> str | None:
        """The warning to print before anything runs when the API key would cross the
        network unencrypted (plaintext to a host that is not this machine); else None.

        Names the endpoint and the variable, never the key.
        """
        if not self.api_key or not self.plaintext or _is_loopback(self.endpoint):
            return None
        source = f" from ${api_key_env}" if api_key_env else ""
        return (
            f"warning: the API key{source} will be sent without TLS to {self.endpoint}; "
            "anyone on the network path can read it (use --tls)"
        )

    async def connect(self) -> Any:
        """Open a ``GatewayClient``; calls fail fast (no waiting for a gateway that went away).

        The client's own warning about a key in clear text is silenced here: the runner
        printed its :meth:`key_in_clear_warning` before anything ran.
        """
        from mxgateway import GatewayClient, PlaintextKeyWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PlaintextKeyWarning)
            with _without_clear_key_log():
                return await GatewayClient.connect(
                    endpoint=self.endpoint,
                    api_key=self.api_key,
                    plaintext=self.plaintext,
                    ca_file=self.ca_file,
                    server_name_override=self.server_name_override,
                    timeout=DEFAULT_CALL_TIMEOUT,
                    connect_timeout=self.connect_timeout,
                    wait_for_ready=False,
                )


class _ClearKeyLogFilter(logging.Filter):
    """Drops the client library's log line about a key in clear text (already warned)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("sending an API key over a plaintext")


@contextlib.contextmanager
def _without_clear_key_log() -> Iterator[None]:
    logger = logging.getLogger("mxgateway")
    log_filter = _ClearKeyLogFilter()
    logger.addFilter(log_filter)
    try:
        yield
    finally:
        logger.removeFilter(log_filter)


def _is_loopback(endpoint: str) -> bool:
    if endpoint.startswith("["):
        host = endpoint[1 : endpoint.find("]")]
    else:
        host = endpoint.rsplit(":", 1)[0]
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_endpoint(endpoint: str) -> str:
    text = endpoint.strip()
    host, sep, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConnectionOptionError(
            f"--endpoint: {endpoint!r} is not HOST:PORT (e.g. localhost:5000 or [::1]:5000)"
        )
    return text


def resolve_connection(
    *,
    endpoint: str | None,
    transport: str | None,
    ca_file: str | None,
    server_name_override: str | None,
    api_key_env: str | None,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    env: Mapping[str, str] | None = None,
) -> Connection:
    """Settings from the options: plaintext by default on loopback, TLS elsewhere."""
    env = os.environ if env is None else env
    address = _check_endpoint(endpoint or env.get(ENDPOINT_ENV) or DEFAULT_ENDPOINT)
    api_key = None
    if api_key_env is not None:
        api_key = env.get(api_key_env)
        if not api_key:
            raise ConnectionOptionError(
                f"--api-key-env: environment variable {api_key_env} is not set or empty"
            )
    tls_options = ca_file is not None or server_name_override is not None
    if transport == "plaintext" and tls_options:
        raise ConnectionOptionError(
            "--plaintext cannot be combined with --ca-file or --server-name-override"
        )
    plaintext = (
        transport == "plaintext"
        if transport is not None
        else not tls_options and _is_loopback(address)
    )
    if ca_file is not None and not os.path.isfile(ca_file):
        raise ConnectionOptionError(f"--ca-file: {ca_file}: no such file")
    return Connection(
        address, plaintext, ca_file, server_name_override, connect_timeout, api_key=api_key
    )
