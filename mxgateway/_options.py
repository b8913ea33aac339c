"""Client settings: a frozen, validated dataclass whose repr never shows the API key."""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from typing import Final

from mxgateway._errors import MxGatewayError

__all__ = ["UNSET", "ClientOptions", "InvalidOptionsError", "Unset"]


class InvalidOptionsError(MxGatewayError, ValueError):
    """A client setting is invalid; the message names the setting (never the key's value)."""


class Unset(enum.Enum):
    """Type of ``UNSET``: tells "argument not given" from an explicit ``None``."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET

DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class ClientOptions:
    """Everything ``GatewayClient.connect`` needs.

    ``default_timeout`` is the per-call deadline in seconds when a method is not given
    ``timeout=`` (``None`` = no deadline); event and alarm streams have no default deadline.
    """

    endpoint: str = "localhost:5000"
    api_key: str | None = None
    plaintext: bool = False
    ca_file: str | None = None
    server_name_override: str | None = None
    default_timeout: float | None = 30.0
    connect_timeout: float = 10.0
    wait_for_ready: bool = True
    max_receive_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    max_send_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES

    def __post_init__(self) -> None:
        if not isinstance(self.endpoint, str) or not self.endpoint.strip():
            raise InvalidOptionsError("endpoint: must be a non-empty 'host:port'")
        if self.api_key is not None:
            if not isinstance(self.api_key, str) or not self.api_key:
                raise InvalidOptionsError("api_key: must be a non-empty string or None")
            if any(c.isspace() or not c.isprintable() for c in self.api_key):
                raise InvalidOptionsError(
                    "api_key: contains whitespace or control characters (value not shown)"
                )
        if self.plaintext and (self.ca_file or self.server_name_override):
            raise InvalidOptionsError(
                "plaintext: cannot be combined with ca_file or server_name_override (TLS settings)"
            )
        if self.default_timeout is not None and not self.default_timeout > 0:
            raise InvalidOptionsError("default_timeout: must be > 0 seconds or None")
        if not self.connect_timeout > 0:
            raise InvalidOptionsError("connect_timeout: must be > 0 seconds")
        for name in ("max_receive_message_bytes", "max_send_message_bytes"):
            if getattr(self, name) <= 0:
                raise InvalidOptionsError(f"{name}: must be a positive number of bytes")

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "api_key" and value is not None:
                parts.append("api_key='<redacted>'")
            else:
                parts.append(f"{f.name}={value!r}")
        return f"ClientOptions({', '.join(parts)})"

    __str__ = __repr__
