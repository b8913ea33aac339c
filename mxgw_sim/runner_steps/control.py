"""Reaching mxgw-sim's control service from a ``sim-*`` step.

By default the control service of the run's own gateway endpoint, with its transport and
API key (with ``mxgw-run --simulate``, the embedded simulator); a step's ``control:`` block
names another simulator. Errors become runner errors with one clear line: a server without
the control service (a real gateway) or an unknown reference is the scenario's mistake
(exit 2), an unreachable simulator or a missing admin scope an infrastructure error.
"""

# Timeouts here are budgets handed to gRPC calls, not asyncio timeouts.
# ruff: noqa: ASYNC109

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any

import grpc

from mxgateway import ClientOptions, GatewayClient, MxGatewayError, create_channel
from mxgateway._auth import bearer_metadata
from mxgw_runner.engine.state import StepUsageError
from mxgw_runner.steptypes import StepContext
from mxgw_sim.generated import mxgw_sim_control_pb2 as cpb
from mxgw_sim.generated import mxgw_sim_control_pb2_grpc as cpb_grpc

#: Status codes that mean the scenario asked for something the simulator does not have.
_USAGE_CODES = (
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.FAILED_PRECONDITION,
)


def _is_loopback(endpoint: str) -> bool:
    host = endpoint.rsplit(":", 1)[0].strip("[]").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


@dataclass(frozen=True)
class ControlTarget:
    """Where the control service is; ``separate`` when a ``control:`` block named it."""

    options: ClientOptions
    separate: bool

    @property
    def endpoint(self) -> str:
        """HOST:PORT of the simulator."""
        return self.options.endpoint


def target_from_block(block: Mapping[str, Any], env: Mapping[str, str]) -> ControlTarget:
    """The simulator a ``control:`` block names; a usage error when its key is not set."""
    endpoint = str(block["endpoint"])
    key = None
    key_env = block.get("api-key-env")
    if key_env:
        key = env.get(str(key_env))
        if not key:
            raise StepUsageError(
                f"control.api-key-env: environment variable {key_env} is not set or empty"
            )
    ca_file = block.get("ca-file")
    server_name = block.get("server-name")
    tls = block.get("tls")
    plaintext = (
        not tls if tls is not None else not (ca_file or server_name) and _is_loopback(endpoint)
    )
    try:
        options = ClientOptions(
            endpoint=endpoint,
            api_key=key,
            plaintext=plaintext,
            ca_file=str(ca_file) if ca_file else None,
            server_name_override=str(server_name) if server_name else None,
        )
    except MxGatewayError as exc:
        raise StepUsageError(f"control: {exc}") from None
    return ControlTarget(options, separate=True)


async def resolve_target(ctx: StepContext) -> ControlTarget:
    """The ``control:`` block's simulator, else the run's gateway endpoint."""
    block = ctx.params.get("control")
    if block:
        return target_from_block(block, os.environ)
    client = await ctx.client()
    return ControlTarget(client.options, separate=False)


class Control:
    """An open channel to one simulator's control service (``async with``).

    :meth:`gateway` gives a gateway client of the same simulator, for reading what a
    step is about to change so that cleanup can put it back.
    """

    def __init__(self, target: ControlTarget, run_client: Any = None) -> None:
        self.target = target
        self._run_client = run_client
        self._own_client: GatewayClient | None = None
        self._channel: grpc.aio.Channel | None = None
        self._stub: Any = None
        self._metadata = bearer_metadata(target.options.api_key)

    async def __aenter__(self) -> Control:
        self._channel = create_channel(self.target.options)
        self._stub = cpb_grpc.SimulatorControlStub(self._channel)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._own_client is not None:
            with contextlib.suppress(Exception):
                await self._own_client.close()
        if self._channel is not None:
            await self._channel.close(None)

    async def gateway(self, timeout: float) -> Any:
        """A gateway client of this simulator (the run's own when no ``control:`` block)."""
        if self._run_client is not None and not self.target.separate:
            return self._run_client
        if self._own_client is None:
            options = replace(self.target.options, connect_timeout=timeout, wait_for_ready=False)
            self._own_client = await GatewayClient.connect(options=options)
        return self._own_client

    async def call(
        self, method: str, request: Any, timeout: float, *, missing_ok: bool = False
    ) -> cpb.ControlReply:
        """Call ``SimulatorControl.<method>``; errors as one clear runner error.

        ``missing_ok``: NOT_FOUND is no error (an undo aimed at a session that has closed
        since: what it would undo went with it).
        """
        try:
            reply: cpb.ControlReply = await getattr(self._stub, method)(
                request, timeout=timeout, metadata=self._metadata
            )
        except grpc.aio.AioRpcError as exc:
            if missing_ok and exc.code() == grpc.StatusCode.NOT_FOUND:
                return cpb.ControlReply(affected=0, message="already gone")
            raise self._translate(method, exc) from None
        return reply

    def _translate(self, method: str, exc: grpc.aio.AioRpcError) -> Exception:
        code = exc.code()
        details = exc.details() or ""
        key = self.target.options.api_key
        if key:
            details = details.replace(key, "<redacted>")
        where = self.target.endpoint
        if code == grpc.StatusCode.UNIMPLEMENTED:
            return StepUsageError(
                f"sim-* steps need mxgw-sim's control service at {where}, and the server "
                "there does not offer it (a real gateway?); run against mxgw-sim or "
                "--simulate, or name a simulator with control: {endpoint: ...}"
            )
        if code in _USAGE_CODES:
            return StepUsageError(f"simulator at {where} refused {method}: {details}")
        if code in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED):
            return MxGatewayError(
                f"simulator at {where} refused {method} ({code.name}): sim-* steps need a key "
                "with the admin scope (--api-key-env, or control: {api-key-env: ...})"
            )
        return MxGatewayError(f"simulator control at {where}: {method}: {code.name}: {details}")


def session_id(ctx: StepContext, selector: Any, *, allow_all: bool) -> str:
    """The session a ``session:`` selector means ("" for every session).

    ``current`` (the default when the scenario has a session open) is the scenario's own
    session; ``all`` every session (and future ones, where the control allows it).
    """
    session = ctx.session
    if selector is None:
        selector = "current" if session is not None or not allow_all else "all"
    text = str(selector)
    if text == "all":
        if not allow_all:
            raise StepUsageError("session: all is not allowed here; name one session")
        return ""
    if text == "current":
        if session is None or getattr(session, "closed", False):
            raise StepUsageError(
                "session: current needs an open session: add an open-session step before "
                "this one" + (", or say session: all" if allow_all else "")
            )
        return str(session.session_id)
    return text
