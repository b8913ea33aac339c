"""``mxgw-sim``: serve the simulator (default) or drive a running one (``mxgw-sim ctl``).

``mxgw-sim [serve] [options]`` prints exactly one JSON line on stdout once it listens::

    {"event": "listening", "endpoint": "127.0.0.1:5000", "tls": false, "auth": false, ...}

and logs to stderr. SIGINT/SIGTERM stop it gracefully (exit 0). Bad arguments, unreadable
key, TLS or galaxy files print one line per problem (``file:line:col`` for galaxy errors)
and exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import signal
import sys
from typing import NoReturn

from mxgw_sim import __version__
from mxgw_sim.auth import KeyFileError, load_keys
from mxgw_sim.sessions import SessionSettings
from mxgw_sim.tls import TlsConfigError
from mxgw_sim.worker_host import HostSettings

PROG = "mxgw-sim"
DEFAULT_LISTEN = "127.0.0.1:5000"
EXIT_USAGE = 2


class UsageError(Exception):
    """A command-line problem reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors instead of usage dumps."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _positive(kind: type[float] | type[int]) -> argparse._ActionType:
    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be greater than 0, got {text!r}")
        return value

    return parse


def _listen(text: str) -> str:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT with a port 0-65535, got {text!r}")
    return text


def serve_parser() -> argparse.ArgumentParser:
    """The argument parser of ``mxgw-sim serve``."""
    p = _Parser(
        prog=f"{PROG} [serve]",
        description="Serve the MXAccess Gateway simulator. Prints one JSON line "
        '({"event": "listening", "endpoint": ...}) on stdout once serving; logs go to stderr. '
        "SIGINT/SIGTERM shut it down gracefully. `mxgw-sim ctl --help` lists the fault "
        "controls.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--listen",
        type=_listen,
        default=DEFAULT_LISTEN,
        metavar="HOST:PORT",
        help="where to serve (port 0 picks a free one; the listening line says which)",
    )
    p.add_argument(
        "--galaxy",
        default=None,
        metavar="FILE",
        help="galaxy model (YAML, schemas/galaxy.schema.json); default: the packaged one",
    )
    p.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY",
        help="accept this key with every scope (repeatable); no keys at all = auth off",
    )
    p.add_argument(
        "--api-key-file",
        action="append",
        default=[],
        metavar="FILE",
        help="YAML/JSON file of keys, each with its scopes (repeatable)",
    )
    p.add_argument("--tls-cert", default=None, metavar="PEM", help="serve TLS: certificate chain")
    p.add_argument("--tls-key", default=None, metavar="PEM", help="serve TLS: private key")
    p.add_argument("--worker-process", action="store_true", help="one child process per session")
    p.add_argument(
        "--lease-seconds",
        type=_positive(float),
        default=1800.0,
        help="an idle session with no stream expires after this; every unary call renews it",
    )
    p.add_argument(
        "--stream-grace",
        type=_positive(float),
        default=30.0,
        help="seconds a session lives after its stream detaches",
    )
    p.add_argument(
        "--max-sessions",
        type=_positive(int),
        default=64,
        help="open sessions at once (RESOURCE_EXHAUSTED beyond)",
    )
    p.add_argument(
        "--max-pending", type=_positive(int), default=128, help="pending commands per session"
    )
    p.add_argument(
        "--command-timeout",
        type=_positive(float),
        default=30.0,
        help="seconds one command may run in a worker",
    )
    p.add_argument(
        "--event-queue",
        type=_positive(int),
        default=10_000,
        help="events a stream may fall behind before it is disconnected",
    )
    p.add_argument(
        "--replay-events",
        type=_positive(int),
        default=1024,
        help="events kept per session for resuming a stream (after_worker_sequence)",
    )
    p.add_argument(
        "--replay-seconds",
        type=_positive(float),
        default=300.0,
        help="seconds an event stays resumable",
    )
    p.add_argument(
        "--overflow-policy",
        choices=("fail-fast", "disconnect"),
        default="fail-fast",
        help="a stream that falls behind --event-queue is disconnected; fail-fast also "
        "faults the session when it was the only subscriber",
    )
    p.add_argument(
        "--heartbeat-interval",
        type=_positive(float),
        default=5.0,
        help="seconds between a worker's heartbeats",
    )
    p.add_argument(
        "--heartbeat-grace",
        type=_positive(float),
        default=15.0,
        help="missed heartbeats for this long fault the session",
    )
    p.add_argument(
        "--max-message-bytes",
        type=_positive(int),
        default=4 * 1024 * 1024,
        help="largest request message accepted",
    )
    p.add_argument(
        "--log-level",
        default="INFO",
        choices=("DEBUG", "INFO", "WARNING", "ERROR", "debug", "info", "warning", "error"),
        help="log level on stderr (keys and passwords are never logged)",
    )
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    return p


def _fail(message: str) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return EXIT_USAGE


async def _serve(args: argparse.Namespace) -> int:
    from mxgw_sim.control import GalaxyAdapter, load_galaxy_runtime
    from mxgw_sim.server import ServerConfig, SimServer

    keys = load_keys(args.api_key, args.api_key_file)
    if bool(args.tls_cert) != bool(args.tls_key):
        raise UsageError("--tls-cert and --tls-key go together")
    runtime = load_galaxy_runtime(args.galaxy)
    config = ServerConfig(
        listen=args.listen,
        galaxy_file=args.galaxy,
        keys=keys,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        sessions=SessionSettings(
            max_sessions=args.max_sessions,
            max_pending=args.max_pending,
            command_timeout=args.command_timeout,
            lease_seconds=args.lease_seconds,
            stream_grace=args.stream_grace,
            ring_size=args.replay_events,
            ring_seconds=args.replay_seconds,
            queue_limit=args.event_queue,
            fail_fast=args.overflow_policy == "fail-fast",
        ),
        host=HostSettings(
            process=args.worker_process,
            heartbeat_interval=args.heartbeat_interval,
            heartbeat_grace=args.heartbeat_grace,
            galaxy_file=args.galaxy,
        ),
        max_receive_bytes=args.max_message_bytes,
    )
    galaxy = GalaxyAdapter(runtime, args.galaxy, args.worker_process)
    server = SimServer(config, galaxy)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        endpoint = await server.start()
    except (OSError, RuntimeError) as exc:
        await server.stop(0)
        raise UsageError(f"--listen {args.listen}: cannot listen: {exc}") from None
    line = {
        "event": "listening",
        "endpoint": endpoint,
        "tls": server.tls,
        "auth": keys.enabled,
        "galaxy": galaxy.name,
        "worker_process": bool(args.worker_process),
        "version": __version__,
    }
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()
    quiet_collector()
    try:
        await stop.wait()
    finally:
        logging.getLogger("mxgw_sim").info("shutting down")
        await server.stop()
    return 0


def quiet_collector() -> None:
    """Keep the cyclic garbage collector off the event path of a serving simulator.

    Events are short-lived objects made by the hundred thousand per second: with the
    default thresholds the collector ran every 700 of them and now and then traversed
    everything loaded at start-up (0.5 us of CPU per event). What is loaded by now is
    moved out of its sight and the young generation is collected every 10,000 objects.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def serve_main(argv: list[str]) -> int:
    """Run ``mxgw-sim serve``; returns the exit status."""
    try:
        args = serve_parser().parse_args(argv)
    except UsageError as exc:
        return _fail(str(exc))
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from mxgw_runner.errors import ScenarioError

    try:
        return asyncio.run(_serve(args))
    except UsageError as exc:
        return _fail(str(exc))
    except (KeyFileError, TlsConfigError) as exc:
        return _fail(str(exc))
    except ScenarioError as exc:
        for diagnostic in exc.diagnostics:
            print(f"{PROG}: {diagnostic.format()}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``mxgw-sim``: ``serve`` (the default) or ``ctl``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "ctl":
        from mxgw_sim.ctl import main as ctl_main

        return ctl_main(argv[1:])
    if argv and argv[0] == "serve":
        argv = argv[1:]
    return serve_main(argv)
