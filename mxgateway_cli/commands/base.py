"""The shape of a command, and the argument helpers several commands share."""

from __future__ import annotations

import argparse
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from mxgateway_cli.context import Context
from mxgateway_cli.errors import UsageError
from mxgateway_cli.options import int32
from mxgateway_cli.output import Result

__all__ = [
    "SESSION_ENV",
    "Command",
    "add_item_handle",
    "add_server_handle",
    "add_session_id",
    "session_id",
]

SESSION_ENV = "MXGATEWAY_SESSION_ID"

Runner = Callable[[Context], Awaitable[Result | None]]


@dataclass(frozen=True)
class Command:
    """A subcommand: its name, help texts, options, examples and the coroutine that runs it.

    ``stream``: the command's ``--timeout`` is an event wait, so the per-call deadline is
    ``--call-timeout`` only. ``connects``: the command talks to a gateway.
    """

    name: str
    summary: str
    description: str
    examples: tuple[str, ...]
    configure: Callable[[argparse.ArgumentParser], None]
    run: Runner
    stream: bool = False
    connects: bool = True
    notes: tuple[str, ...] = field(default_factory=tuple)


def add_session_id(parser: argparse.ArgumentParser) -> None:
    """``--session-id``: the id printed by open-session (default ``$MXGATEWAY_SESSION_ID``)."""
    parser.add_argument(
        "--session-id",
        metavar="ID",
        help=f"the session id printed by open-session (default: ${SESSION_ENV})",
    )


def session_id(ctx: Context) -> str:
    """The session id from ``--session-id`` or the environment; a usage error when neither."""
    value = ctx.arg("session_id") or os.environ.get(SESSION_ENV, "")
    if not value:
        raise UsageError(
            f"--session-id is required (or set {SESSION_ENV}); open-session prints one",
            "MISSING_SESSION_ID",
        )
    return str(value)


def add_server_handle(parser: argparse.ArgumentParser) -> None:
    """``--server-handle``: the handle register printed."""
    parser.add_argument(
        "--server-handle",
        metavar="N",
        type=int32,
        required=True,
        help="the MXAccess server handle printed by register",
    )


def add_item_handle(parser: argparse.ArgumentParser) -> None:
    """``--item-handle``: the handle add-item printed."""
    parser.add_argument(
        "--item-handle",
        metavar="N",
        type=int32,
        required=True,
        help="the MXAccess item handle printed by add-item",
    )
