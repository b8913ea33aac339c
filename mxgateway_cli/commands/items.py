"""register, unregister, add-item, remove-item, advise, unadvise, suspend, activate."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import Any

from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway_cli.commands.base import (
    Command,
    add_item_handle,
    add_server_handle,
    add_session_id,
    session_id,
)
from mxgateway_cli.context import Context
from mxgateway_cli.output import Result
from mxgateway_cli.render import reply_doc

__all__ = ["COMMANDS"]

DEFAULT_CLIENT_NAME = "mxgw-py"


def command_result(
    name: str, reply: pb.MxCommandReply, fields: dict[str, Any], line: str
) -> Result:
    """The standard result of an Invoke command: the reply's common fields plus ``fields``."""
    doc = reply_doc(reply)
    doc.update(fields)
    doc["command"] = name
    return Result(doc, [line], reply)


# --------------------------------------------------------------------------- register


def _configure_register(parser: argparse.ArgumentParser) -> None:
    add_session_id(parser)
    parser.add_argument(
        "--client-name",
        metavar="NAME",
        default=DEFAULT_CLIENT_NAME,
        help=f"the MXAccess client name to register (default {DEFAULT_CLIENT_NAME})",
    )


async def run_register(ctx: Context) -> Result:
    """Register: returns the server handle."""
    reply = await ctx.invoke(
        session_id(ctx),
        pb.MX_COMMAND_KIND_REGISTER,
        "register",
        pb.RegisterCommand(client_name=ctx.args.client_name),
        operation="Register",
    )
    handle = reply.register.server_handle
    return command_result(
        "register",
        reply,
        {"client_name": ctx.args.client_name, "server_handle": handle},
        f"server handle {handle}",
    )


def _configure_unregister(parser: argparse.ArgumentParser) -> None:
    add_session_id(parser)
    add_server_handle(parser)


async def run_unregister(ctx: Context) -> Result:
    """Unregister a server handle."""
    handle = ctx.args.server_handle
    reply = await ctx.invoke(
        session_id(ctx),
        pb.MX_COMMAND_KIND_UNREGISTER,
        "unregister",
        pb.UnregisterCommand(server_handle=handle),
        operation="Unregister",
    )
    return command_result(
        "unregister", reply, {"server_handle": handle}, f"server handle {handle} unregistered"
    )


# --------------------------------------------------------------------------- add-item


def _configure_add_item(parser: argparse.ArgumentParser) -> None:
    add_session_id(parser)
    add_server_handle(parser)
    parser.add_argument(
        "--item",
        metavar="REFERENCE",
        required=True,
        help="item reference, e.g. Tank01.Level.PV (AddItem does not check that it exists; "
        "a bad reference shows up after advise)",
    )
    parser.add_argument(
        "--context",
        metavar="CONTEXT",
        help="resolve a relative reference (Me., MyArea.) against this object: sends "
        "AddItem2 instead of AddItem",
    )


async def run_add_item(ctx: Context) -> Result:
    """AddItem, or AddItem2 with --context; returns the item handle."""
    args = ctx.args
    sid = session_id(ctx)
    if args.context is not None:
        reply = await ctx.invoke(
            sid,
            pb.MX_COMMAND_KIND_ADD_ITEM2,
            "add_item2",
            pb.AddItem2Command(
                server_handle=args.server_handle, item_reference=args.item, context=args.context
            ),
            operation="AddItem2",
        )
        handle = reply.add_item2.item_handle
    else:
        reply = await ctx.invoke(
            sid,
            pb.MX_COMMAND_KIND_ADD_ITEM,
            "add_item",
            pb.AddItemCommand(server_handle=args.server_handle, item_reference=args.item),
            operation="AddItem",
        )
        handle = reply.add_item.item_handle
    return command_result(
        "add-item",
        reply,
        {
            "context": args.context,
            "item": args.item,
            "item_handle": handle,
            "server_handle": args.server_handle,
        },
        f"item handle {handle}",
    )


# --------------------------------------------------------------------------- handle pairs


def _configure_item_pair(parser: argparse.ArgumentParser) -> None:
    add_session_id(parser)
    add_server_handle(parser)
    add_item_handle(parser)


def _configure_advise(parser: argparse.ArgumentParser) -> None:
    _configure_item_pair(parser)
    parser.add_argument(
        "--supervisory",
        action="store_true",
        help="send AdviseSupervisory: the client acts as itself, not as a logged-in operator",
    )


def _item_pair_runner(
    name: str,
    kind: int,
    member: str,
    message: Callable[..., Any],
    operation: str,
    done: str,
) -> Callable[[Context], Awaitable[Result]]:
    async def run(ctx: Context) -> Result:
        args = ctx.args
        reply = await ctx.invoke(
            session_id(ctx),
            kind,
            member,
            message(server_handle=args.server_handle, item_handle=args.item_handle),
            operation=operation,
        )
        return command_result(
            name,
            reply,
            {"item_handle": args.item_handle, "server_handle": args.server_handle},
            f"item {args.server_handle}/{args.item_handle} {done}",
        )

    return run


_advise = _item_pair_runner(
    "advise", pb.MX_COMMAND_KIND_ADVISE, "advise", pb.AdviseCommand, "Advise", "advised"
)
_advise_supervisory = _item_pair_runner(
    "advise",
    pb.MX_COMMAND_KIND_ADVISE_SUPERVISORY,
    "advise_supervisory",
    pb.AdviseSupervisoryCommand,
    "AdviseSupervisory",
    "advised (supervisory)",
)


async def run_advise(ctx: Context) -> Result:
    """Advise, or AdviseSupervisory with --supervisory."""
    result = await (_advise_supervisory if ctx.args.supervisory else _advise)(ctx)
    result.doc["supervisory"] = bool(ctx.args.supervisory)
    return result


def _pair_command(
    name: str,
    kind: int,
    member: str,
    message: Callable[..., Any],
    operation: str,
    done: str,
    summary: str,
    description: str,
) -> Command:
    return Command(
        name=name,
        summary=summary,
        description=description,
        examples=(f"mxgw-py {name} --session-id <id> --server-handle 1 --item-handle 2 --json",),
        configure=_configure_item_pair,
        run=_item_pair_runner(name, kind, member, message, operation, done),
    )


COMMANDS = (
    Command(
        name="register",
        summary="open an MXAccess connection in a session; prints the server handle",
        description="Register an MXAccess client in the session (LMXProxyServer.Register) "
        "and print the server handle that later commands take with --server-handle.",
        examples=("mxgw-py register --session-id <id> --client-name python-client --json",),
        configure=_configure_register,
        run=run_register,
    ),
    Command(
        name="unregister",
        summary="close an MXAccess connection (server handle)",
        description="Unregister a server handle. Well-behaved clients unadvise and remove "
        "their items first.",
        examples=("mxgw-py unregister --session-id <id> --server-handle 1 --json",),
        configure=_configure_unregister,
        run=run_unregister,
    ),
    Command(
        name="add-item",
        summary="add an item reference; prints the item handle",
        description="Add an item (AddItem; AddItem2 with --context) and print its item "
        "handle. MXAccess does not check the reference here: a typo shows up as a bad "
        "quality or a failed status after advise.",
        examples=(
            "mxgw-py add-item --session-id <id> --server-handle 1 --item Object.Attribute --json",
            "mxgw-py add-item --session-id <id> --server-handle 1 --item Me.PV "
            "--context Tank01 --json",
        ),
        configure=_configure_add_item,
        run=run_add_item,
    ),
    _pair_command(
        "remove-item",
        pb.MX_COMMAND_KIND_REMOVE_ITEM,
        "remove_item",
        pb.RemoveItemCommand,
        "RemoveItem",
        "removed",
        "remove an item (item handle)",
        "Remove an item from a server handle (RemoveItem).",
    ),
    Command(
        name="advise",
        summary="start updates of an item (data change events)",
        description="Advise an item: MXAccess starts sending data changes for it, beginning "
        "with one initial data change holding the current value. Read them with "
        "stream-events or drain-events.",
        examples=(
            "mxgw-py advise --session-id <id> --server-handle 1 --item-handle 2 --json",
            "mxgw-py advise --session-id <id> --server-handle 1 --item-handle 2 --supervisory",
        ),
        configure=_configure_advise,
        run=run_advise,
    ),
    _pair_command(
        "unadvise",
        pb.MX_COMMAND_KIND_UN_ADVISE,
        "un_advise",
        pb.UnAdviseCommand,
        "UnAdvise",
        "unadvised",
        "stop updates of an item",
        "UnAdvise an item: MXAccess stops sending its data changes.",
    ),
    _pair_command(
        "suspend",
        pb.MX_COMMAND_KIND_SUSPEND,
        "suspend",
        pb.SuspendCommand,
        "Suspend",
        "suspended",
        "pause updates of an advised item",
        "Suspend an advised item: updates pause until activate.",
    ),
    _pair_command(
        "activate",
        pb.MX_COMMAND_KIND_ACTIVATE,
        "activate",
        pb.ActivateCommand,
        "Activate",
        "activated",
        "resume updates of a suspended item",
        "Activate a suspended item: updates resume.",
    ),
)
