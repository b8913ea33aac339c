"""authenticate: AuthenticateUser, with the password kept out of argv and of all output."""

from __future__ import annotations

import argparse
import getpass
import sys

from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway_cli.commands.base import Command, add_server_handle, add_session_id, session_id
from mxgateway_cli.commands.items import command_result
from mxgateway_cli.context import Context
from mxgateway_cli.errors import CliError, ExitCode, UsageError
from mxgateway_cli.options import read_env_secret
from mxgateway_cli.output import Result

__all__ = ["COMMANDS"]


def _configure_authenticate(parser: argparse.ArgumentParser) -> None:
    add_session_id(parser)
    add_server_handle(parser)
    parser.add_argument("--user", metavar="NAME", required=True, help="the Galaxy user name")
    parser.add_argument(
        "--domain", metavar="DOMAIN", default="", help="the user's domain (default: none)"
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--password-env",
        metavar="NAME",
        help="read the password from environment variable NAME (recommended); without "
        "--password-env or --password the password is prompted for on a terminal",
    )
    source.add_argument(
        "--password",
        metavar="PASSWORD",
        help="the password itself: visible in process lists and shell history, so "
        "mxgw-py warns; prefer --password-env",
    )


def _password(ctx: Context) -> str:
    args = ctx.args
    if args.password_env is not None:
        return read_env_secret(args.password_env, "--password-env")
    if args.password is not None:
        ctx.out.warn(
            "--password puts the password in process lists and shell history; "
            "use --password-env NAME"
        )
        return str(args.password)
    if sys.stdin.isatty():
        return getpass.getpass(f"password for {args.user}: ")
    raise UsageError(
        "no password: give --password-env NAME (or run on a terminal to be prompted)",
        "MISSING_PASSWORD",
    )


async def run_authenticate(ctx: Context) -> Result:
    """AuthenticateUser: prints the MXAccess user id (valid only in that server handle)."""
    args = ctx.args
    sid = session_id(ctx)
    password = _password(ctx)
    ctx.out.add_secret(password)
    reply = await ctx.invoke(
        sid,
        pb.MX_COMMAND_KIND_AUTHENTICATE_USER,
        "authenticate_user",
        pb.AuthenticateUserCommand(
            server_handle=args.server_handle,
            user_name=args.user,
            password=password,
            domain=args.domain,
        ),
        operation="AuthenticateUser",
    )
    user_id = reply.authenticate_user.user_id
    if user_id == 0:
        raise CliError(
            f"authentication of user {args.user!r} failed (MXAccess returned user id 0)",
            ExitCode.COMMAND_FAILED,
            "UserAuthenticationFailed",
            "USER_AUTHENTICATION_FAILED",
            {"reply": reply},
        )
    return command_result(
        "authenticate",
        reply,
        {"server_handle": args.server_handle, "user": args.user, "user_id": user_id},
        f"user id {user_id}",
    )


COMMANDS = (
    Command(
        name="authenticate",
        summary="authenticate a Galaxy user; prints the MXAccess user id",
        description="AuthenticateUser: check a Galaxy user's credentials and print the "
        "user id that write takes with --user-id / --verifier-user-id (valid only for that "
        "server handle). The password never appears in output. Exit code 5 when MXAccess "
        "returns user id 0 (authentication failed).",
        examples=(
            "MXGW_PASSWORD=... mxgw-py authenticate --session-id <id> --server-handle 1 "
            "--user operator1 --password-env MXGW_PASSWORD --json",
        ),
        configure=_configure_authenticate,
        run=run_authenticate,
    ),
)
