"""write, write-bulk, authenticate."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from mxgateway import MxDataType, SparseArray, parse_type_name, to_mx_value, type_names
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway_cli.commands.base import (
    Command,
    add_item_handle,
    add_server_handle,
    add_session_id,
    session_id,
)
from mxgateway_cli.commands.items import command_result
from mxgateway_cli.context import Context
from mxgateway_cli.errors import ExitCode, UsageError
from mxgateway_cli.options import int32, non_negative_int
from mxgateway_cli.output import Result
from mxgateway_cli.render import value_json, value_type_name, write_result_doc

__all__ = ["COMMANDS", "parse_value"]

TYPE_HELP = (
    "the MXAccess type of --value: "
    + ", ".join(type_names())
    + "; add [] for an array (e.g. int32[] with --value '[1,2,3]' or '1,2,3'). "
    "Without --type the value is read as JSON (123 -> int32, 1.5 -> double, true -> bool, "
    "[1,2] -> int32[]) and anything else is a string"
)


#: JSON nested past Python's recursion limit (a value is at most a flat array).
_TOO_DEEP = "--value: nested too deeply (a value is a scalar or a flat array)"


def parse_value(text: str, type_name: str | None) -> pb.MxValue:
    """The ``MxValue`` for ``--value`` text and an optional ``--type`` name."""
    if type_name is None:
        try:
            parsed: Any = json.loads(text)
        except json.JSONDecodeError:
            parsed = text
        except RecursionError:
            raise UsageError(_TOO_DEEP, "INVALID_VALUE") from None
        if isinstance(parsed, dict) or parsed is None:
            parsed = text
        return to_mx_value(parsed)
    vtype = parse_type_name(type_name)
    if vtype.data_type is MxDataType.NO_DATA and not vtype.array:
        return to_mx_value(None)
    if vtype.data_type is MxDataType.TIME and not vtype.array and text.strip().lower() == "now":
        return to_mx_value(datetime.now(UTC), vtype)
    return to_mx_value(text, vtype)


def parse_sparse(text: str, type_name: str | None, total_length: int) -> pb.MxValue:
    """A partial array write: ``--value '{"0": 7, "3": 9}'`` (zero-based index -> value) in an
    array of ``total_length`` elements; the gateway resets every element not listed."""
    if type_name is None:
        raise UsageError("--sparse-length needs --type, e.g. --type int32[]", "INVALID_VALUE")
    vtype = parse_type_name(type_name)
    try:
        parsed: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"--value: a sparse write takes a JSON object of index: value ({exc.msg})",
            "INVALID_VALUE",
        ) from None
    except RecursionError:
        raise UsageError(_TOO_DEEP, "INVALID_VALUE") from None
    if not isinstance(parsed, dict):
        raise UsageError(
            '--value: a sparse write takes a JSON object of index: value, e.g. {"0": 7}',
            "INVALID_VALUE",
        )
    elements: dict[int, Any] = {}
    for key, element in parsed.items():
        try:
            elements[int(key)] = element
        except ValueError:
            raise UsageError(
                f"--value: sparse index {key!r} is not an integer", "INVALID_VALUE"
            ) from None
    return to_mx_value(SparseArray(vtype.data_type, total_length, elements))


def parse_timestamp(text: str) -> pb.MxValue:
    """``--timestamp``: ISO 8601 / RFC 3339 text (UTC when no offset) or ``now``."""
    if text.strip().lower() == "now":
        return to_mx_value(datetime.now(UTC), "time")
    return to_mx_value(text, "time")


def _add_value_options(parser: argparse.ArgumentParser, *, value: bool) -> None:
    parser.add_argument("--type", metavar="TYPE", help=TYPE_HELP)
    if value:
        parser.add_argument(
            "--value",
            metavar="VALUE",
            required=True,
            help="the value to write, parsed as --type says (times as ISO 8601, e.g. "
            "2026-04-30T12:00:00Z, or 'now'; elapsed times as seconds or "
            "[-][D.]HH:MM:SS[.fff])",
        )
    if value:
        parser.add_argument(
            "--sparse-length",
            metavar="N",
            type=non_negative_int,
            help="write part of an array of N elements: --value is a JSON object of "
            'zero-based index: value (e.g. --type int32[] --value \'{"0": 7, "3": 9}\'); '
            "the gateway resets every element not listed to its default",
        )
    parser.add_argument(
        "--timestamp",
        metavar="TIME",
        help="the value's source timestamp (ISO 8601, UTC when no offset, or 'now'): "
        "sends Write2 / WriteSecured2",
    )
    parser.add_argument(
        "--user-id",
        metavar="N",
        type=int32,
        default=0,
        help="MXAccess user id from authenticate (default 0: no user); the current user "
        "of a secured write",
    )
    parser.add_argument(
        "--verifier-user-id",
        metavar="N",
        type=int32,
        help="user id of a second user who verifies the write (VerifiedWrite attributes): "
        "sends WriteSecured / WriteSecured2",
    )
    parser.add_argument(
        "--secured",
        action="store_true",
        help="send WriteSecured even without --verifier-user-id (SecuredWrite attributes: "
        "the verifier is --user-id itself)",
    )


def _configure_write(parser: argparse.ArgumentParser) -> None:
    add_session_id(parser)
    add_server_handle(parser)
    add_item_handle(parser)
    _add_value_options(parser, value=True)


def _variant(args: argparse.Namespace) -> tuple[bool, bool]:
    secured = bool(args.secured or args.verifier_user_id is not None)
    return secured, args.timestamp is not None


async def run_write(ctx: Context) -> Result:
    """Write / Write2 / WriteSecured / WriteSecured2, chosen by the options."""
    args = ctx.args
    sid = session_id(ctx)
    if args.sparse_length is not None:
        value = parse_sparse(args.value, args.type, args.sparse_length)
    else:
        value = parse_value(args.value, args.type)
    stamp = parse_timestamp(args.timestamp) if args.timestamp is not None else None
    secured, timed = _variant(args)
    verifier = args.verifier_user_id if args.verifier_user_id is not None else args.user_id
    common = {"server_handle": args.server_handle, "item_handle": args.item_handle, "value": value}
    payload: Any
    if secured:
        fields = {**common, "current_user_id": args.user_id, "verifier_user_id": verifier}
        if timed:
            kind, member, op = pb.MX_COMMAND_KIND_WRITE_SECURED2, "write_secured2", "WriteSecured2"
            payload = pb.WriteSecured2Command(**fields, timestamp_value=stamp)
        else:
            kind, member, op = pb.MX_COMMAND_KIND_WRITE_SECURED, "write_secured", "WriteSecured"
            payload = pb.WriteSecuredCommand(**fields)
    elif timed:
        kind, member, op = pb.MX_COMMAND_KIND_WRITE2, "write2", "Write2"
        payload = pb.Write2Command(**common, user_id=args.user_id, timestamp_value=stamp)
    else:
        kind, member, op = pb.MX_COMMAND_KIND_WRITE, "write", "Write"
        payload = pb.WriteCommand(**common, user_id=args.user_id)
    reply = await ctx.invoke(sid, kind, member, payload, operation=op)
    fields_out = {
        "item_handle": args.item_handle,
        "server_handle": args.server_handle,
        "timestamp": value_json(stamp) if stamp is not None else None,
        "user_id": args.user_id,
        "value": value_json(value),
        "value_type": value_type_name(value),
        "verifier_user_id": verifier if secured else None,
    }
    line = (
        f"{op} {args.server_handle}/{args.item_handle} accepted "
        f"(the outcome arrives as a write_complete event)"
    )
    return command_result("write", reply, fields_out, line)


# --------------------------------------------------------------------------- write-bulk


def _configure_write_bulk(parser: argparse.ArgumentParser) -> None:
    add_session_id(parser)
    add_server_handle(parser)
    parser.add_argument(
        "--entry",
        metavar="ITEM_HANDLE=VALUE",
        action="append",
        required=True,
        help="one write: an item handle, '=', and the value (parsed as --type says); "
        "repeat for each item, e.g. --entry 2=10 --entry 3=20",
    )
    _add_value_options(parser, value=False)


def _parse_entry(text: str, type_name: str | None) -> tuple[int, pb.MxValue]:
    handle_text, sep, value_text = text.partition("=")
    if not sep:
        raise UsageError(f"--entry {text!r}: expected ITEM_HANDLE=VALUE", "INVALID_ENTRY")
    try:
        handle = int32(handle_text.strip())
    except argparse.ArgumentTypeError as exc:
        raise UsageError(f"--entry {text!r}: item handle: {exc}", "INVALID_ENTRY") from None
    return handle, parse_value(value_text, type_name)


async def run_write_bulk(ctx: Context) -> Result:
    """One bulk write of several items of one server handle."""
    args = ctx.args
    sid = session_id(ctx)
    entries = [_parse_entry(e, args.type) for e in args.entry]
    stamp = parse_timestamp(args.timestamp) if args.timestamp is not None else None
    secured, timed = _variant(args)
    verifier = args.verifier_user_id if args.verifier_user_id is not None else args.user_id
    payload: Any
    if secured and timed:
        kind, member, op = (
            pb.MX_COMMAND_KIND_WRITE_SECURED2_BULK,
            "write_secured2_bulk",
            "WriteSecured2Bulk",
        )
        payload = pb.WriteSecured2BulkCommand(server_handle=args.server_handle)
        for handle, value in entries:
            payload.entries.add(
                item_handle=handle,
                value=value,
                current_user_id=args.user_id,
                verifier_user_id=verifier,
                timestamp_value=stamp,
            )
    elif secured:
        kind, member, op = (
            pb.MX_COMMAND_KIND_WRITE_SECURED_BULK,
            "write_secured_bulk",
            ("WriteSecuredBulk"),
        )
        payload = pb.WriteSecuredBulkCommand(server_handle=args.server_handle)
        for handle, value in entries:
            payload.entries.add(
                item_handle=handle,
                value=value,
                current_user_id=args.user_id,
                verifier_user_id=verifier,
            )
    elif timed:
        kind, member, op = pb.MX_COMMAND_KIND_WRITE2_BULK, "write2_bulk", "Write2Bulk"
        payload = pb.Write2BulkCommand(server_handle=args.server_handle)
        for handle, value in entries:
            payload.entries.add(
                item_handle=handle, value=value, user_id=args.user_id, timestamp_value=stamp
            )
    else:
        kind, member, op = pb.MX_COMMAND_KIND_WRITE_BULK, "write_bulk", "WriteBulk"
        payload = pb.WriteBulkCommand(server_handle=args.server_handle)
        for handle, value in entries:
            payload.entries.add(item_handle=handle, value=value, user_id=args.user_id)
    reply = await ctx.invoke(sid, kind, member, payload, operation=op)
    results = [write_result_doc(r) for r in reply.bulk_write.results]
    failed = sum(1 for r in results if not r["ok"])
    result = command_result(
        "write-bulk",
        reply,
        {"failed": failed, "results": results, "server_handle": args.server_handle},
        f"{op}: {len(results) - failed} of {len(results)} writes accepted",
    )
    for r in results:
        if not r["ok"]:
            result.lines.append(f"  item {r['item_handle']} failed: {r['error_message']}")
    if failed:
        result.exit_code = ExitCode.COMMAND_FAILED
    return result


COMMANDS = (
    Command(
        name="write",
        summary="write a value to an item (Write, Write2, WriteSecured, WriteSecured2)",
        description="Write a value. MXAccess answers at once; the outcome arrives later as "
        "a write_complete event (see stream-events). --timestamp sends Write2, "
        "--verifier-user-id or --secured send WriteSecured (WriteSecured2 with --timestamp).",
        examples=(
            "mxgw-py write --session-id <id> --server-handle 1 --item-handle 2 "
            "--type int32 --value 123 --json",
            "mxgw-py write --session-id <id> --server-handle 1 --item-handle 3 "
            "--type double[] --value '[1.5, 2.5]' --timestamp now",
            "mxgw-py write --session-id <id> --server-handle 1 --item-handle 4 "
            "--type string --value open --user-id 7 --verifier-user-id 9",
        ),
        configure=_configure_write,
        run=run_write,
    ),
    Command(
        name="write-bulk",
        summary="write several items of one server handle in one round trip",
        description="Write several items in one WriteBulk (Write2Bulk with --timestamp, "
        "WriteSecuredBulk / WriteSecured2Bulk with --verifier-user-id or --secured). "
        "Entries run in the given order; each gets its own result. Exit code 5 when any "
        "entry failed.",
        examples=(
            "mxgw-py write-bulk --session-id <id> --server-handle 1 --type int32 "
            "--entry 2=10 --entry 3=20 --json",
        ),
        configure=_configure_write_bulk,
        run=run_write_bulk,
    ),
)
