"""stream-events and drain-events, and the event reader smoke shares."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from typing import Any

from mxgateway import GatewayClient
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway_cli.commands.base import Command, add_session_id, session_id
from mxgateway_cli.commands.items import command_result
from mxgateway_cli.context import Context
from mxgateway_cli.errors import CliError, ExitCode
from mxgateway_cli.options import non_negative_int, positive_float
from mxgateway_cli.output import Output, Result, dumps
from mxgateway_cli.render import event_doc

__all__ = ["COMMANDS", "EventReadOutcome", "event_line", "read_events"]


def event_line(doc: dict[str, Any]) -> str:
    """One human line for an event document."""
    seq = doc["worker_sequence"]
    name = doc["event"]
    if name == "replay_gap":
        return (
            f"#{seq} replay_gap: {doc['lost']} event(s) lost; resume with "
            f"--after-sequence {doc['oldest_available_sequence'] - 1}"
        )
    where = f"{doc['server_handle']}/{doc['item_handle']}"
    text = f"#{seq} {name} {where}"
    if "value" in doc:
        text += (
            f" value={dumps(doc['value'])} ({doc['value_type']}) quality {doc['quality']} "
            f"{doc['quality_text']} at {doc['source_timestamp']}"
        )
    if "alarm" in doc:
        alarm = doc["alarm"]
        text += f" {alarm['transition_kind']} {alarm['alarm_full_reference']}"
    if not doc["ok"]:
        failing = next(s for s in doc["statuses"] if not s["ok"])
        text += (
            f" FAILED {failing['category']} detected by {failing['detected_by']}, "
            f"detail {failing['detail']}"
        )
    return text


@dataclass
class EventReadOutcome:
    """How a bounded read of the event stream ended."""

    count: int
    timed_out: bool
    last_sequence: int
    ended_by_gateway: bool = False


async def read_events(
    client: GatewayClient,
    out: Output,
    sid: str,
    *,
    max_events: int,
    wait_seconds: float | None,
    after_sequence: int = 0,
) -> EventReadOutcome:
    """Write events of ``sid`` as they arrive until ``max_events`` (0 = no limit) arrived or
    ``wait_seconds`` passed (None = no limit). The stream is cancelled in every case."""
    stream = client.stream_events_raw(sid, after_sequence)
    count = 0
    last = after_sequence
    timed_out = False
    ended = True
    try:
        async with asyncio.timeout(wait_seconds):
            async for event in stream:
                doc = event_doc(event)
                if out.json_mode:
                    out.json_line(doc, event)
                else:
                    out.line(event_line(doc))
                count += 1
                last = max(last, event.worker_sequence)
                if max_events and count >= max_events:
                    ended = False
                    break
    except TimeoutError:
        timed_out = True
        ended = False
    finally:
        stream.cancel()
    return EventReadOutcome(count, timed_out, last, ended)


def _configure_stream(parser: argparse.ArgumentParser) -> None:
    add_session_id(parser)
    parser.add_argument(
        "--max-events",
        metavar="N",
        type=non_negative_int,
        default=0,
        help="stop after N events (default 0: no limit)",
    )
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=positive_float,
        default=None,
        help="stop after this many seconds (default: no limit). Stopping on the timeout "
        "exits 0, even with fewer than --max-events events, unless --require-all is given",
    )
    parser.add_argument(
        "--after-sequence",
        metavar="N",
        type=non_negative_int,
        default=0,
        help="resume after worker sequence N (from an earlier event's worker_sequence); "
        "default 0 starts with the events not yet delivered. When the gateway no longer "
        "holds event N+1, the first line is a replay_gap event",
    )
    parser.add_argument(
        "--require-all",
        action="store_true",
        help="exit 7 when the stream ends (--timeout passed, or the gateway ended it) before "
        "--max-events events arrived",
    )


async def run_stream_events(ctx: Context) -> Result | None:
    """Stream events as JSON lines (or human lines) until N events or the timeout."""
    args = ctx.args
    sid = session_id(ctx)
    client = await ctx.client()
    outcome = await read_events(
        client,
        ctx.out,
        sid,
        max_events=args.max_events,
        wait_seconds=args.timeout,
        after_sequence=args.after_sequence,
    )
    short = bool(args.max_events) and outcome.count < args.max_events
    if outcome.ended_by_gateway:
        message = (
            f"the gateway ended the event stream after {outcome.count} event(s) "
            "(session closed or expired?)"
        )
    elif outcome.timed_out and short:
        message = f"timeout after {args.timeout:g} s: {outcome.count} of {args.max_events} events"
    else:
        return None
    if short and args.require_all:
        raise CliError(
            message,
            ExitCode.TIMEOUT,
            "TooFewEvents",
            "TOO_FEW_EVENTS",
            {"events": outcome.count, "expected": args.max_events},
        )
    ctx.out.info(f"mxgw-py stream-events: {message}")
    return None


def _configure_drain(parser: argparse.ArgumentParser) -> None:
    add_session_id(parser)
    parser.add_argument(
        "--max-events",
        metavar="N",
        type=non_negative_int,
        default=0,
        help="take at most N events (default 0: all pending events)",
    )


async def run_drain_events(ctx: Context) -> Result:
    """DrainEvents: take the pending events in one reply (pull instead of stream)."""
    reply = await ctx.invoke(
        session_id(ctx),
        pb.MX_COMMAND_KIND_DRAIN_EVENTS,
        "drain_events",
        pb.DrainEventsCommand(max_events=ctx.args.max_events),
        operation="DrainEvents",
    )
    docs = [event_doc(e) for e in reply.drain_events.events]
    result = command_result(
        "drain-events", reply, {"count": len(docs), "events": docs}, f"{len(docs)} event(s)"
    )
    result.lines.extend(event_line(d) for d in docs)
    return result


COMMANDS = (
    Command(
        name="stream-events",
        summary="print a session's events as they arrive (JSON lines with --json)",
        description="Attach to the session's event stream and print each event (one JSON "
        "document per line with --json) until --max-events arrived or --timeout passed; "
        "both end with exit 0 (see --require-all). A session has one event stream at a "
        "time: a second one fails with exit 8. Ctrl-C stops it (exit 130).",
        examples=(
            "mxgw-py stream-events --session-id <id> --max-events 1 --json",
            "mxgw-py stream-events --session-id <id> --max-events 10 --timeout 30 "
            "--require-all --json",
            "mxgw-py stream-events --session-id <id> --after-sequence 41 --timeout 5",
        ),
        configure=_configure_stream,
        run=run_stream_events,
        stream=True,
    ),
    Command(
        name="drain-events",
        summary="take the session's pending events in one reply (DrainEvents)",
        description="DrainEvents: return the events not yet delivered, in one reply, as "
        "one JSON document with an 'events' list (a pull alternative to stream-events).",
        examples=("mxgw-py drain-events --session-id <id> --max-events 100 --json",),
        configure=_configure_drain,
        run=run_drain_events,
    ),
)
