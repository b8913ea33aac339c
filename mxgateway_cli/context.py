"""What a running command gets: its arguments, the output, and a lazily made client.

``Context.invoke`` is the one path every MXAccess command takes: it builds the
``MxCommandRequest``, calls ``Invoke`` and raises the library's typed error when the reply is
not OK, so the error report (and its exit code) is built from the reply itself.
"""

from __future__ import annotations

import argparse
from typing import Any

from google.protobuf.message import Message

from mxgateway import GatewayClient
from mxgateway._errors import raise_for_reply
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway_cli.options import ConnectionSettings, resolve_connection
from mxgateway_cli.output import Output

__all__ = ["Context"]


class Context:
    """One command run: parsed ``args``, the ``out`` writer and the gateway client."""

    def __init__(self, args: argparse.Namespace, out: Output) -> None:
        self.args = args
        self.out = out
        self._settings: ConnectionSettings | None = None
        self._client: GatewayClient | None = None

    @property
    def settings(self) -> ConnectionSettings:
        """The resolved connection settings (usage errors surface on first access)."""
        if self._settings is None:
            self._settings = resolve_connection(self.args)
            self.out.add_secret(self._settings.api_key)
        return self._settings

    @property
    def endpoint(self) -> str:
        """The endpoint as given, for error messages (empty before resolution)."""
        return self._settings.endpoint if self._settings is not None else ""

    @property
    def secrets(self) -> tuple[str | None, ...]:
        """Everything to scrub from error text."""
        return tuple(self.out.secrets)

    async def client(self) -> GatewayClient:
        """Connect on first use (waits up to ``--connect-timeout``)."""
        if self._client is None:
            s = self.settings
            self._client = await GatewayClient.connect(
                endpoint=s.endpoint,
                api_key=s.api_key,
                plaintext=s.plaintext,
                ca_file=s.ca_file,
                server_name_override=s.server_name_override,
                timeout=s.call_timeout,
                connect_timeout=s.connect_timeout,
            )
        return self._client

    async def close(self) -> None:
        """Close the client if one was made."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()

    async def invoke(
        self,
        session_id: str,
        kind: int,
        member: str,
        payload: Message,
        *,
        operation: str,
    ) -> pb.MxCommandReply:
        """Send one command through Invoke; raise the typed error when the reply is not OK."""
        client = await self.client()
        request = pb.MxCommandRequest(
            session_id=session_id,
            correlation_id=client.next_correlation_id(),
            kind=kind,  # type: ignore[arg-type]
        )
        getattr(request, member).CopyFrom(payload)
        reply = await client.invoke_raw(request, secrets=self.secrets)
        self.check(reply, operation)
        return reply

    def check(self, reply: Any, operation: str) -> None:
        """Raise the library's typed error when ``reply``'s protocol status is not OK."""
        raise_for_reply(reply, operation=operation, secrets=self.secrets)

    def arg(self, name: str, default: Any = None) -> Any:
        """A parsed argument by name."""
        return getattr(self.args, name, default)
