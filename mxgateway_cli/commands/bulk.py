"""read (ReadBulk), subscribe-bulk and unsubscribe-bulk."""

from __future__ import annotations

import argparse

from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway_cli.commands.base import Command, add_server_handle, add_session_id, session_id
from mxgateway_cli.commands.items import command_result
from mxgateway_cli.context import Context
from mxgateway_cli.errors import ExitCode
from mxgateway_cli.options import int32, non_negative_int
from mxgateway_cli.output import Result, dumps
from mxgateway_cli.render import read_result_doc, subscribe_result_doc

__all__ = ["COMMANDS"]


def _add_items(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--item",
        metavar="REFERENCE",
        action="append",
        required=True,
        help=f"an item reference to {what}; repeat for each item (input order is kept)",
    )


def _configure_read(parser: argparse.ArgumentParser) -> None:
    add_session_id(parser)
    add_server_handle(parser)
    _add_items(parser, "read")
    parser.add_argument(
        "--read-timeout-ms",
        metavar="MS",
        type=non_negative_int,
        default=0,
        help="how long the gateway waits for each value, in milliseconds (default 0: the "
        "gateway's default)",
    )


async def run_read(ctx: Context) -> Result:
    """ReadBulk: the current value, quality and timestamp of each item."""
    args = ctx.args
    reply = await ctx.invoke(
        session_id(ctx),
        pb.MX_COMMAND_KIND_READ_BULK,
        "read_bulk",
        pb.ReadBulkCommand(
            server_handle=args.server_handle,
            tag_addresses=args.item,
            timeout_ms=args.read_timeout_ms,
        ),
        operation="ReadBulk",
    )
    results = [read_result_doc(r) for r in reply.read_bulk.results]
    failed = sum(1 for r in results if not r["ok"])
    result = command_result(
        "read",
        reply,
        {"failed": failed, "results": results, "server_handle": args.server_handle},
        "",
    )
    result.lines = [
        (
            f"{r['tag_address']} = {_show(r['value'])} ({r['value_type']}) "
            f"quality {r['quality']} {r['quality_text']} at {r['timestamp']}"
            if r["ok"]
            else f"{r['tag_address']}: failed: {r['error_message']}"
        )
        for r in results
    ]
    if failed:
        result.exit_code = ExitCode.COMMAND_FAILED
    return result


def _show(value: object) -> str:
    return dumps(value)


def _configure_subscribe(parser: argparse.ArgumentParser) -> None:
    add_session_id(parser)
    add_server_handle(parser)
    _add_items(parser, "add and advise")


async def run_subscribe_bulk(ctx: Context) -> Result:
    """SubscribeBulk: add and advise several items in one round trip."""
    args = ctx.args
    reply = await ctx.invoke(
        session_id(ctx),
        pb.MX_COMMAND_KIND_SUBSCRIBE_BULK,
        "subscribe_bulk",
        pb.SubscribeBulkCommand(server_handle=args.server_handle, tag_addresses=args.item),
        operation="SubscribeBulk",
    )
    return _subscribe_result("subscribe-bulk", reply, args.server_handle)


def _subscribe_result(name: str, reply: pb.MxCommandReply, server_handle: int) -> Result:
    results = [subscribe_result_doc(r) for r in reply.bulk_subscribe.results]
    failed = sum(1 for r in results if not r["ok"])
    result = command_result(
        name, reply, {"failed": failed, "results": results, "server_handle": server_handle}, ""
    )
    result.lines = [
        (
            f"{r['tag_address'] or '#' + str(r['item_handle'])}: item handle {r['item_handle']}"
            if r["ok"]
            else f"{r['tag_address'] or '#' + str(r['item_handle'])}: failed: {r['error_message']}"
        )
        for r in results
    ]
    if failed:
        result.exit_code = ExitCode.COMMAND_FAILED
    return result


def _configure_unsubscribe(parser: argparse.ArgumentParser) -> None:
    add_session_id(parser)
    add_server_handle(parser)
    parser.add_argument(
        "--item-handle",
        metavar="N",
        type=int32,
        action="append",
        required=True,
        help="an item handle to unadvise and remove; repeat for each item",
    )


async def run_unsubscribe_bulk(ctx: Context) -> Result:
    """UnsubscribeBulk: unadvise and remove several items in one round trip."""
    args = ctx.args
    reply = await ctx.invoke(
        session_id(ctx),
        pb.MX_COMMAND_KIND_UNSUBSCRIBE_BULK,
        "unsubscribe_bulk",
        pb.UnsubscribeBulkCommand(server_handle=args.server_handle, item_handles=args.item_handle),
        operation="UnsubscribeBulk",
    )
    return _subscribe_result("unsubscribe-bulk", reply, args.server_handle)


COMMANDS = (
    Command(
        name="read",
        summary="read the current value of one or more items (ReadBulk)",
        description="Read the current value, quality and timestamp of each item in one "
        "ReadBulk round trip. Items are given by reference (ReadBulk takes tag addresses). "
        "Exit code 5 when any item could not be read; the document still lists every item.",
        examples=(
            "mxgw-py read --session-id <id> --server-handle 1 --item Tank01.Level.PV "
            "--item Tank01.Temp.PV --json",
        ),
        configure=_configure_read,
        run=run_read,
    ),
    Command(
        name="subscribe-bulk",
        summary="add and advise several items in one round trip",
        description="SubscribeBulk: add and advise each item, in order; prints each "
        "item's handle. Exit code 5 when any item failed.",
        examples=(
            "mxgw-py subscribe-bulk --session-id <id> --server-handle 1 --item A.PV "
            "--item B.PV --json",
        ),
        configure=_configure_subscribe,
        run=run_subscribe_bulk,
    ),
    Command(
        name="unsubscribe-bulk",
        summary="unadvise and remove several items in one round trip",
        description="UnsubscribeBulk: unadvise and remove each item handle, in order. "
        "Exit code 5 when any item failed.",
        examples=(
            "mxgw-py unsubscribe-bulk --session-id <id> --server-handle 1 --item-handle 2 "
            "--item-handle 3 --json",
        ),
        configure=_configure_unsubscribe,
        run=run_unsubscribe_bulk,
    ),
)
