"""smoke: the end-to-end check (open, register, add, advise, events, close in a finally)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway_cli.commands.base import Command
from mxgateway_cli.commands.events import event_line
from mxgateway_cli.context import Context
from mxgateway_cli.errors import CliError, ExitCode, classify
from mxgateway_cli.options import non_negative_int, positive_float
from mxgateway_cli.output import Result
from mxgateway_cli.render import event_doc

__all__ = ["COMMANDS"]

DEFAULT_SMOKE_TIMEOUT = 30.0


def _configure_smoke(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--item",
        metavar="REFERENCE",
        required=True,
        help="the item to add and advise, e.g. Object.Attribute",
    )
    parser.add_argument(
        "--max-events",
        metavar="N",
        type=non_negative_int,
        default=1,
        help="how many events to wait for (default 1: the initial data change)",
    )
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=positive_float,
        default=DEFAULT_SMOKE_TIMEOUT,
        help="how long to wait for those events before failing with exit 7 "
        f"(default {DEFAULT_SMOKE_TIMEOUT:g}; a cold MXAccess connection can take 3-8 s)",
    )
    parser.add_argument(
        "--client-name",
        metavar="NAME",
        default="mxgw-py-smoke",
        help="session and MXAccess client name (default mxgw-py-smoke)",
    )


async def _collect(
    ctx: Context, sid: str, count: int, wait_seconds: float
) -> tuple[list[Any], bool]:
    client = await ctx.client()
    events: list[Any] = []
    stream = client.stream_events_raw(sid)
    timed_out = False
    try:
        async with asyncio.timeout(wait_seconds):
            async for event in stream:
                events.append(event)
                if not ctx.out.json_mode:
                    ctx.out.line(event_line(event_doc(event)))
                if len(events) >= count:
                    break
    except TimeoutError:
        timed_out = True
    finally:
        stream.cancel()
    return events, timed_out


async def run_smoke(ctx: Context) -> Result:
    """Every step in order; the session is closed in a ``finally``, also on Ctrl-C."""
    args = ctx.args
    out = ctx.out
    client = await ctx.client()
    opened = await client.open_session_raw(
        pb.OpenSessionRequest(
            client_session_name=args.client_name,
            client_correlation_id=client.next_correlation_id(),
        )
    )
    ctx.check(opened, "OpenSession")
    sid = opened.session_id
    doc: dict[str, Any] = {"command": "smoke", "item": args.item, "session_id": sid}
    steps: list[str] = []
    failure: CliError | None = None
    if not out.json_mode:
        out.line(f"opened {sid}")
    try:
        reply = await ctx.invoke(
            sid,
            pb.MX_COMMAND_KIND_REGISTER,
            "register",
            pb.RegisterCommand(client_name=args.client_name),
            operation="Register",
        )
        doc["server_handle"] = server = reply.register.server_handle
        steps.append("register")
        reply = await ctx.invoke(
            sid,
            pb.MX_COMMAND_KIND_ADD_ITEM,
            "add_item",
            pb.AddItemCommand(server_handle=server, item_reference=args.item),
            operation="AddItem",
        )
        doc["item_handle"] = item = reply.add_item.item_handle
        steps.append("add-item")
        await ctx.invoke(
            sid,
            pb.MX_COMMAND_KIND_ADVISE,
            "advise",
            pb.AdviseCommand(server_handle=server, item_handle=item),
            operation="Advise",
        )
        steps.append("advise")
        if not out.json_mode:
            out.line(f"registered server handle {server}, item {args.item} = handle {item}")
        events, timed_out = await _collect(ctx, sid, args.max_events, args.timeout)
        doc["events"] = [event_doc(e) for e in events]
        doc["count"] = len(events)
        if timed_out and len(events) < args.max_events:
            raise CliError(
                f"smoke: timeout after {args.timeout:g} s: {len(events)} of "
                f"{args.max_events} events",
                ExitCode.TIMEOUT,
                "TooFewEvents",
                "TOO_FEW_EVENTS",
                {"events": len(events), "expected": args.max_events},
            )
        steps.append("stream-events")
    except Exception as exc:
        failure = classify(exc)
        failure.extra.update({"session_id": sid, "steps": steps})
        raise failure from None
    finally:
        doc["steps"] = steps
        await _close(ctx, sid, doc)
        if failure is not None:
            failure.extra["closed"] = doc["closed"]
    doc["ok"] = all(e["ok"] for e in doc["events"])
    lines = [f"closed {sid}: smoke passed with {doc['count']} event(s)"]
    result = Result(doc, lines)
    if not doc["ok"]:
        result.exit_code = ExitCode.COMMAND_FAILED
        result.lines = [f"closed {sid}: an event reported a failure"]
    return result


async def _close(ctx: Context, sid: str, doc: dict[str, Any]) -> None:
    """Close the session; a failure here is reported but does not hide the first error."""
    try:
        client = await ctx.client()
        reply = await client.close_session_raw(
            pb.CloseSessionRequest(session_id=sid, reason="mxgw-py smoke finished")
        )
        doc["closed"] = reply.protocol_status.code == pb.PROTOCOL_STATUS_CODE_OK
    except (Exception, asyncio.CancelledError) as exc:
        doc["closed"] = False
        ctx.out.warn(f"could not close session {sid}: {classify(exc).message}")


COMMANDS = (
    Command(
        name="smoke",
        summary="end-to-end check: open, register, add, advise, read events, close",
        description="Open a session, register, add --item, advise it, wait for "
        "--max-events events (the first is the initial data change) and close the session "
        "in a finally block, also on Ctrl-C or an error. Exit 0 when the events arrived "
        "and reported no failure, 5 when an event reported a failure, 7 on the timeout.",
        examples=(
            "mxgw-py smoke --endpoint localhost:5000 --plaintext --api-key-env "
            "MXGATEWAY_API_KEY --item Object.Attribute --json",
            "mxgw-py smoke --endpoint mxgateway.example.local:5001 --tls --ca-file "
            "ca.pem --server-name-override mxgateway.example.local --api-key-env "
            "MXGATEWAY_API_KEY --item Object.Attribute --max-events 3 --timeout 20",
        ),
        configure=_configure_smoke,
        run=run_smoke,
        stream=True,
    ),
)
