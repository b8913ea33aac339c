"""``mxgw-sim ctl``: drive a running simulator through its control service.

::

    mxgw-sim ctl --endpoint 127.0.0.1:5000 [--plaintext | --tls --ca-file CA.pem]
                 [--api-key-env NAME] <command> [args] [--json]

Commands: set-value, set-quality, set-scan, latency, drop-streams, kill-worker,
expire-session, fault-session, list-sessions, drop-write-completions, reset. ``--json``
prints one JSON document with sorted keys. Exit status: 0 done, 1 the simulator refused or
could not be reached, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any, NoReturn

import grpc
from google.protobuf.duration_pb2 import Duration
from google.protobuf.json_format import MessageToDict

from mxgateway import ValueConversionError, to_mx_value
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgw_runner.durations import DurationError, parse_duration
from mxgw_sim.generated import mxgw_sim_control_pb2 as cpb
from mxgw_sim.generated import mxgw_sim_control_pb2_grpc as cpb_grpc

PROG = "mxgw-sim ctl"
DEFAULT_KEY_ENV = "MXGW_API_KEY"
_STRING_TYPES = {"string", "bigstring", "internationalizedstring", "referencetype"}


class CtlUsageError(Exception):
    """A bad ``ctl`` argument: one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise CtlUsageError(message)


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except DurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class _RefuseKey(argparse.Action):
    """``--api-key KEY``: refused without echoing the key (it would sit in process lists
    and shell history; before this, argparse took it as an abbreviation of --api-key-env)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        raise CtlUsageError(
            "--api-key: the key is never given on the command line; put it in an "
            "environment variable and name that with --api-key-env NAME"
        )


def parser() -> argparse.ArgumentParser:
    """The ``mxgw-sim ctl`` argument parser."""
    p = _Parser(prog=PROG, description="Control a running mxgw-sim.")
    p.add_argument("--api-key", action=_RefuseKey, help=argparse.SUPPRESS)
    p.add_argument("--endpoint", default="127.0.0.1:5000")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--plaintext", action="store_true", help="no TLS (the default)")
    mode.add_argument("--tls", action="store_true", help="TLS; see --ca-file")
    p.add_argument("--ca-file", default=None, help="PEM CA bundle that signed the server")
    p.add_argument("--server-name", default=None, help="TLS server name override")
    p.add_argument(
        "--api-key-env",
        default=DEFAULT_KEY_ENV,
        help=f"environment variable holding the admin API key (default {DEFAULT_KEY_ENV})",
    )
    p.add_argument("--timeout", type=_duration, default=10.0, help="per call, e.g. 10s")
    p.add_argument("--json", action="store_true", help="print JSON (sorted keys)")
    # --json is accepted after the command too ("ctl list-sessions --json").
    common = _Parser(add_help=False)
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print JSON (sorted keys)"
    )
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    add = sub.add_parser

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return add(name, help=help, parents=[common])

    c = command("set-value", "force an attribute's value")
    c.add_argument("reference")
    c.add_argument("value", help="JSON literal or text")
    c.add_argument("--type", default=None, help="MxDataType name, e.g. Integer, Double")
    c.add_argument("--quality", type=int, default=None)
    c = command("set-quality", "force an attribute's quality")
    c.add_argument("reference")
    c.add_argument("quality", type=int)
    c = command("set-scan", "put an object on or off scan")
    c.add_argument("object")
    c.add_argument("state", choices=("on", "off"))
    c = command("latency", "add command and event latency")
    c.add_argument("--commands", type=_duration, default=0.0)
    c.add_argument("--events", type=_duration, default=0.0)
    c.add_argument("--session", default="")
    c = command("drop-streams", "end event streams with UNAVAILABLE")
    c.add_argument("--session", default="")
    c = command("kill-worker", "kill a session's worker (the session faults)")
    c.add_argument("session")
    c = command("expire-session", "expire a session's lease now")
    c.add_argument("session")
    c = command("fault-session", "move a session to Faulted")
    c.add_argument("session")
    c.add_argument("--message", default="")
    command("list-sessions", "the open sessions")
    c = command("drop-write-completions", "stop write-complete events")
    c.add_argument("--session", default="")
    c.add_argument("--off", action="store_true", help="deliver them again")
    command("reset", "remove every injected fault, restore the galaxy")
    return p


def _seconds(value: float) -> Duration:
    duration = Duration()
    duration.FromNanoseconds(int(value * 1e9))
    return duration


def _value(text: str, type_name: str | None) -> Any:
    if type_name and type_name.replace("_", "").lower() in _STRING_TYPES:
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


async def _call(stub: cpb_grpc.SimulatorControlAsyncStub, args: argparse.Namespace, md: Any) -> Any:
    t = args.timeout
    cmd = args.command
    if cmd == "set-value":
        try:
            value = to_mx_value(_value(args.value, args.type), args.type)
        except (ValueConversionError, ValueError) as exc:
            raise CtlUsageError(f"set-value VALUE: {exc}") from None
        request = cpb.SetValueRequest(reference=args.reference, value=value)
        if args.quality is not None:
            request.quality = args.quality
        return await stub.SetValue(request, timeout=t, metadata=md)
    if cmd == "set-quality":
        return await stub.SetQuality(
            cpb.SetQualityRequest(reference=args.reference, quality=args.quality),
            timeout=t,
            metadata=md,
        )
    if cmd == "set-scan":
        return await stub.SetScan(
            cpb.SetScanRequest(object=args.object, on_scan=args.state == "on"),
            timeout=t,
            metadata=md,
        )
    if cmd == "latency":
        return await stub.SetLatency(
            cpb.SetLatencyRequest(
                session_id=args.session,
                command_latency=_seconds(args.commands),
                event_latency=_seconds(args.events),
            ),
            timeout=t,
            metadata=md,
        )
    if cmd == "drop-streams":
        return await stub.DropStreams(
            cpb.SessionSelector(session_id=args.session), timeout=t, metadata=md
        )
    if cmd == "kill-worker":
        return await stub.KillWorker(
            cpb.SessionSelector(session_id=args.session), timeout=t, metadata=md
        )
    if cmd == "expire-session":
        return await stub.ExpireSession(
            cpb.SessionSelector(session_id=args.session), timeout=t, metadata=md
        )
    if cmd == "fault-session":
        return await stub.FaultSession(
            cpb.FaultSessionRequest(session_id=args.session, message=args.message),
            timeout=t,
            metadata=md,
        )
    if cmd == "list-sessions":
        return await stub.ListSessions(cpb.ListSessionsRequest(), timeout=t, metadata=md)
    if cmd == "drop-write-completions":
        return await stub.DropWriteCompletions(
            cpb.DropWriteCompletionsRequest(session_id=args.session, enabled=not args.off),
            timeout=t,
            metadata=md,
        )
    return await stub.Reset(cpb.ResetRequest(), timeout=t, metadata=md)


def _as_dict(reply: Any) -> dict[str, Any]:
    data: dict[str, Any] = MessageToDict(
        reply, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    return data


def _human(command: str, reply: Any) -> str:
    if command != "list-sessions":
        return f"{reply.message} (affected {reply.affected})"
    if not reply.sessions:
        return "no open sessions"
    rows = []
    for s in reply.sessions:
        state = pb.SessionState.Name(s.state).removeprefix("SESSION_STATE_")
        rows.append(
            f"{s.session_id} {state:<8} {s.client_name or '-':<16} age={s.age_seconds:.1f}s "
            f"idle={s.idle_seconds:.1f}s stream={'yes' if s.stream_attached else 'no'} "
            f"handles={s.server_handles} items={s.items} advised={s.advised} "
            f"pending={s.pending_events}"
        )
    return "\n".join(rows)


def _read_ca(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise CtlUsageError(f"--ca-file {path}: {exc.strerror}") from None


async def _run(args: argparse.Namespace) -> int:
    key = os.environ.get(args.api_key_env, "")
    metadata = (("authorization", f"Bearer {key}"),) if key else None
    if args.tls:
        ca = _read_ca(args.ca_file) if args.ca_file else None
        options = []
        if args.server_name:
            options.append(("grpc.ssl_target_name_override", args.server_name))
        channel = grpc.aio.secure_channel(
            args.endpoint, grpc.ssl_channel_credentials(ca), options=options
        )
    else:
        channel = grpc.aio.insecure_channel(args.endpoint)
    try:
        reply = await _call(cpb_grpc.SimulatorControlStub(channel), args, metadata)
    except grpc.aio.AioRpcError as exc:
        details = (exc.details() or "").replace(key, "<redacted>") if key else exc.details()
        print(f"{PROG}: {exc.code().name}: {details}", file=sys.stderr)
        return 1
    finally:
        await channel.close(None)
    if args.json:
        print(json.dumps(_as_dict(reply), sort_keys=True))
    else:
        print(_human(args.command, reply))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run ``mxgw-sim ctl``; returns the exit status."""
    try:
        args = parser().parse_args(argv)
        return asyncio.run(_run(args))
    except CtlUsageError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
