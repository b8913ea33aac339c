"""version, open-session, close-session."""

from __future__ import annotations

import argparse
import platform
from importlib import metadata

import mxgateway
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway_cli.commands.base import Command, add_session_id, session_id
from mxgateway_cli.context import Context
from mxgateway_cli.output import Result
from mxgateway_cli.render import enum_name, protocol_status_doc

__all__ = ["COMMANDS"]

DEFAULT_CLIENT_NAME = "mxgw-py"
CLIENT_PROTOCOL_VERSION = 3


def _dist_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


async def run_version(ctx: Context) -> Result:
    """Local versions only: no gateway call."""
    doc = {
        "command": "version",
        "grpcio": _dist_version("grpcio"),
        "mxgateway": mxgateway.__version__,
        "protobuf": _dist_version("protobuf"),
        "protocol_version": CLIENT_PROTOCOL_VERSION,
        "python": platform.python_version(),
    }
    lines = [
        f"mxgw-py {mxgateway.__version__} (protocol {CLIENT_PROTOCOL_VERSION}; "
        f"grpcio {doc['grpcio']}, protobuf {doc['protobuf']}, python {doc['python']})"
    ]
    return Result(doc, lines)


def _configure_version(parser: argparse.ArgumentParser) -> None:
    return None


def _configure_open(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--client-name",
        metavar="NAME",
        default=DEFAULT_CLIENT_NAME,
        help=f"session name shown in the gateway's logs (default {DEFAULT_CLIENT_NAME})",
    )


async def run_open_session(ctx: Context) -> Result:
    """Open a session and leave it open: later commands use its id."""
    client = await ctx.client()
    reply = await client.open_session_raw(
        pb.OpenSessionRequest(
            client_session_name=ctx.args.client_name,
            client_correlation_id=client.next_correlation_id(),
        )
    )
    ctx.check(reply, "OpenSession")
    doc = {
        "backend_name": reply.backend_name,
        "command": "open-session",
        "gateway_protocol_version": reply.gateway_protocol_version,
        "ok": True,
        "protocol_status": protocol_status_doc(reply.protocol_status),
        "session_id": reply.session_id,
        "worker_protocol_version": reply.worker_protocol_version,
    }
    line = (
        f"{reply.session_id} (backend {reply.backend_name or '?'}, gateway protocol "
        f"{reply.gateway_protocol_version}, worker protocol {reply.worker_protocol_version})"
    )
    return Result(doc, [line], reply)


def _configure_close(parser: argparse.ArgumentParser) -> None:
    add_session_id(parser)
    parser.add_argument(
        "--reason",
        metavar="TEXT",
        default="closed by mxgw-py",
        help="why the session is closed, recorded in the gateway's logs",
    )


async def run_close_session(ctx: Context) -> Result:
    """Close a session; closing one already closed succeeds again."""
    sid = session_id(ctx)
    client = await ctx.client()
    reply = await client.close_session_raw(
        pb.CloseSessionRequest(session_id=sid, reason=ctx.args.reason)
    )
    ctx.check(reply, "CloseSession")
    state = enum_name(pb.SessionState, reply.final_state, "SESSION_STATE_")
    doc = {
        "command": "close-session",
        "final_state": state,
        "ok": True,
        "protocol_status": protocol_status_doc(reply.protocol_status),
        "session_id": reply.session_id or sid,
    }
    return Result(doc, [f"{reply.session_id or sid} {state.lower()}"], reply)


COMMANDS = (
    Command(
        name="version",
        summary="print the versions of mxgw-py and its libraries (no gateway call)",
        description="Print the version of mxgw-py, the gateway protocol version it speaks, "
        "and the grpcio, protobuf and Python versions. Makes no connection.",
        examples=("mxgw-py version --json",),
        configure=_configure_version,
        run=run_version,
        connects=False,
    ),
    Command(
        name="open-session",
        summary="open a gateway session and print its id (the session stays open)",
        description="Open a session on the gateway and print its id. The session is NOT "
        "closed when the command exits: pass the id to later commands with --session-id "
        "and end it with close-session (an idle session expires after the gateway's lease, "
        "1800 s).",
        examples=(
            "mxgw-py open-session --endpoint localhost:5000 --plaintext --json",
            "mxgw-py open-session --client-name line3-check --api-key-env MXGATEWAY_API_KEY",
        ),
        configure=_configure_open,
        run=run_open_session,
    ),
    Command(
        name="close-session",
        summary="close a session (idempotent)",
        description="Close a gateway session and everything it holds (MXAccess "
        "connections, items, the event stream). Closing an already closed session "
        "succeeds again.",
        examples=("mxgw-py close-session --session-id <id> --json",),
        configure=_configure_close,
        run=run_close_session,
    ),
)
