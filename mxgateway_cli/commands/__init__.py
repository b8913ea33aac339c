"""Every ``mxgw-py`` subcommand, in the order ``--help`` lists them."""

from __future__ import annotations

from mxgateway_cli.commands import authenticate, bulk, events, items, session, smoke, write
from mxgateway_cli.commands.base import Command

__all__ = ["COMMANDS", "Command"]

COMMANDS: tuple[Command, ...] = (
    *session.COMMANDS,
    *items.COMMANDS,
    *write.COMMANDS,
    *authenticate.COMMANDS,
    *bulk.COMMANDS,
    *events.COMMANDS,
    *smoke.COMMANDS,
)
