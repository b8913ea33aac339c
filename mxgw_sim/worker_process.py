"""The worker side of the worker contract, and the ``--worker-process`` child entry point.

:class:`WorkerEndpoint` wraps one MXAccess worker (the simulated one from
:mod:`mxgw_sim.worker`) behind ``mxaccess_worker.v1`` envelopes: it answers the gateway's
hello with the nonce, reports ready, runs commands one at a time (MXAccess has one STA per
worker), forwards events, sends heartbeats and acknowledges shutdown, refusing queued
commands with WORKER_UNAVAILABLE. The in-process host passes it envelopes over asyncio
queues; as a child process it reads and writes 4-byte little-endian length-prefixed frames
on stdin/stdout::

    python -m mxgw_sim.worker_process --session-id <id> --pipe-name stdio --protocol-version 3

with the nonce in ``MXGATEWAY_WORKER_NONCE``. A second pipe (``--replica-fd``) carries
``mxgw_sim.control.v1.ReplicaUpdate`` frames so the child's galaxy replica follows the
front's galaxy; the worker pipe carries only the worker contract.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import struct
import sys
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from google.protobuf.message import DecodeError

from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway.generated import mxaccess_worker_pb2 as wpb

PROTOCOL_VERSION = 3
MAX_FRAME = 16 * 1024 * 1024
NONCE_ENV = "MXGATEWAY_WORKER_NONCE"
WORKER_VERSION = "mxgw-sim-worker 0.1.0"
_LEN = struct.Struct("<I")

log = logging.getLogger("mxgw_sim.worker_process")


class FrameError(Exception):
    """A frame or envelope breaks the pipe contract."""


class MxWorkerLike(Protocol):
    """What the endpoint needs from a simulated MXAccess worker."""

    async def execute(self, request: pb.MxCommandRequest) -> pb.MxCommandReply: ...

    async def shutdown(self) -> None: ...


# ----------------------------------------------------------------------------- framing
def encode_frame(payload: bytes) -> bytes:
    """One frame: 4-byte little-endian length, then ``payload`` (1 byte to 16 MiB)."""
    if not payload or len(payload) > MAX_FRAME:
        raise FrameError(f"frame length {len(payload)} outside 1..{MAX_FRAME}")
    return _LEN.pack(len(payload)) + payload


async def read_frame(reader: asyncio.StreamReader) -> bytes | None:
    """The next frame's payload, or ``None`` at a clean end of stream."""
    try:
        header = await reader.readexactly(4)
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise FrameError("pipe closed inside a frame header") from None
        return None
    (length,) = _LEN.unpack(header)
    if length == 0 or length > MAX_FRAME:
        raise FrameError(f"frame length {length} outside 1..{MAX_FRAME}")
    try:
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError:
        raise FrameError("pipe closed inside a frame") from None


def check_envelope(env: wpb.WorkerEnvelope, protocol_version: int, session_id: str) -> str:
    """Validate an envelope; returns its body name or raises :class:`FrameError`."""
    if env.protocol_version != protocol_version:
        raise FrameError(f"protocol_version {env.protocol_version}, expected {protocol_version}")
    if env.session_id != session_id:
        raise FrameError(f"session_id {env.session_id!r}, expected {session_id!r}")
    body = env.WhichOneof("body")
    if body is None:
        raise FrameError("envelope has no body")
    return body


def decode_envelope(payload: bytes, protocol_version: int, session_id: str) -> wpb.WorkerEnvelope:
    """Parse and validate one envelope frame payload."""
    env = wpb.WorkerEnvelope()
    try:
        env.ParseFromString(payload)
    except DecodeError as exc:
        raise FrameError(f"undecodable envelope: {exc}") from None
    check_envelope(env, protocol_version, session_id)
    return env


def unavailable_reply(request: pb.MxCommandRequest, message: str) -> pb.MxCommandReply:
    """The reply for a command the worker can no longer run."""
    reply = pb.MxCommandReply(
        session_id=request.session_id, correlation_id=request.correlation_id, kind=request.kind
    )
    reply.protocol_status.code = pb.PROTOCOL_STATUS_CODE_WORKER_UNAVAILABLE
    reply.protocol_status.message = message
    return reply


# ---------------------------------------------------------------------------- endpoint
Send = Callable[[wpb.WorkerEnvelope], None]
Drain = Callable[[], Awaitable[None]]
Receive = Callable[[], Awaitable[wpb.WorkerEnvelope | None]]


class WorkerEndpoint:
    """Speaks the worker contract on behalf of one MXAccess worker."""

    def __init__(
        self,
        worker: MxWorkerLike,
        *,
        session_id: str,
        nonce: str,
        send: Send,
        drain: Drain | None = None,
        protocol_version: int = PROTOCOL_VERSION,
    ) -> None:
        self.worker = worker
        self.session_id = session_id
        self.protocol_version = protocol_version
        self._nonce = nonce
        self._send_raw = send
        self._drain = drain
        self._queue: deque[wpb.WorkerCommand] = deque()
        self._wake = asyncio.Event()
        self._cancelled: set[str] = set()
        self._running = ""
        self._event_sequence = 0
        self._heartbeat_interval = 5.0
        self._stopping = False

    def envelope(self, **body: Any) -> wpb.WorkerEnvelope:
        """An envelope of this session carrying ``body``."""
        return wpb.WorkerEnvelope(
            protocol_version=self.protocol_version, session_id=self.session_id, **body
        )

    async def _send(self, **body: Any) -> None:
        self._send_raw(self.envelope(**body))
        if self._drain is not None:
            await self._drain()

    def saw_event(self, sequence: int) -> None:
        """Count an event the host took from the worker directly (heartbeats report it)."""
        self._event_sequence = max(self._event_sequence, sequence)

    def on_event(self, event: pb.MxEvent) -> None:
        """Event sink for the worker: forwards one numbered MxEvent to the gateway."""
        self._event_sequence = max(self._event_sequence, event.worker_sequence)
        env = self.envelope()
        env.event.event.CopyFrom(event)
        self._send_raw(env)

    async def run(self, receive: Receive) -> None:
        """Serve until shutdown or the end of the pipe."""
        first = await receive()
        if first is None:
            return
        if first.WhichOneof("body") != "gateway_hello":
            await self._fault(wpb.WORKER_FAULT_CATEGORY_PROTOCOL_VIOLATION, "expected hello")
            return
        hello = first.gateway_hello
        if hello.heartbeat_interval.ToTimedelta().total_seconds() > 0:
            self._heartbeat_interval = hello.heartbeat_interval.ToTimedelta().total_seconds()
        await self._send(
            worker_hello=wpb.WorkerHello(
                nonce=self._nonce,
                process_id=os.getpid(),
                worker_protocol_version=self.protocol_version,
                worker_version=WORKER_VERSION,
            )
        )
        await self._send(
            worker_ready=wpb.WorkerReady(process_id=os.getpid(), mxaccess_version="simulated")
        )
        sta = asyncio.create_task(self._sta_loop())
        beat = asyncio.create_task(self._heartbeat_loop())
        try:
            while True:
                env = await receive()
                if env is None:
                    break
                body = env.WhichOneof("body")
                if body == "command":
                    self._queue.append(env.command)
                    self._wake.set()
                elif body == "cancel":
                    self._cancelled.add(env.cancel.correlation_id)
                elif body == "shutdown":
                    await self._shutdown()
                    break
                else:
                    await self._fault(
                        wpb.WORKER_FAULT_CATEGORY_PROTOCOL_VIOLATION, f"unexpected {body}"
                    )
        finally:
            self._stopping = True
            self._wake.set()
            beat.cancel()
            sta.cancel()
            await asyncio.gather(sta, beat, return_exceptions=True)

    async def _shutdown(self) -> None:
        self._stopping = True
        refused = 0
        while self._queue:
            cmd = self._queue.popleft()
            refused += 1
            await self._send(
                command_reply=wpb.WorkerCommandReply(
                    reply=unavailable_reply(cmd.request, "worker is shutting down")
                )
            )
        try:
            await self.worker.shutdown()
        except Exception:  # the ack must still go out
            log.exception("worker shutdown failed")
        await self._send(shutdown_ack=wpb.WorkerShutdownAck(refused_commands=refused))

    async def _fault(self, category: int, message: str, fatal: bool = False) -> None:
        fault = wpb.WorkerFault(category=category, message=message, fatal=fatal)  # type: ignore[arg-type]
        fault.correlation_id = self._running
        fault.detected_at.GetCurrentTime()
        await self._send(fault=fault)

    async def _sta_loop(self) -> None:
        while not self._stopping:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            cmd = self._queue.popleft()
            request = cmd.request
            if request.correlation_id in self._cancelled:
                self._cancelled.discard(request.correlation_id)
                reply = unavailable_reply(request, "cancelled before it ran")
                reply.protocol_status.code = pb.PROTOCOL_STATUS_CODE_CANCELLED
            else:
                self._running = request.correlation_id
                try:
                    reply = await self.worker.execute(request)
                except Exception as exc:
                    log.exception("command failed inside the worker")
                    reply = unavailable_reply(request, f"worker error: {type(exc).__name__}")
                    reply.protocol_status.code = pb.PROTOCOL_STATUS_CODE_INTERNAL_ERROR
                finally:
                    self._running = ""
            reply.correlation_id = request.correlation_id
            await self._send(command_reply=wpb.WorkerCommandReply(reply=reply))

    async def _heartbeat_loop(self) -> None:
        while True:
            await self._send(heartbeat=self.heartbeat())
            await asyncio.sleep(self._heartbeat_interval)

    def heartbeat(self) -> wpb.WorkerHeartbeat:
        """The heartbeat as of now."""
        beat = wpb.WorkerHeartbeat(
            process_id=os.getpid(),
            session_id=self.session_id,
            event_sequence=self._event_sequence,
            running_correlation_id=self._running,
            pending_commands=len(self._queue),
        )
        beat.sent_at.GetCurrentTime()
        return beat


# -------------------------------------------------------------------------- child main
def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m mxgw_sim.worker_process")
    parser.add_argument("--session-id", required=True)
    parser.add_argument("--pipe-name", default="stdio", help="only 'stdio' is supported")
    parser.add_argument("--protocol-version", type=int, default=PROTOCOL_VERSION)
    parser.add_argument("--galaxy", default=None, help="galaxy file of the replica")
    parser.add_argument("--replica-in-fd", type=int, default=-1, help="front -> child frames")
    parser.add_argument("--replica-out-fd", type=int, default=-1, help="child -> front frames")
    parser.add_argument("--log-level", default="WARNING")
    return parser.parse_args(argv)


async def _child(args: argparse.Namespace, out_fd: int) -> int:
    from mxgw_sim.control import load_galaxy_runtime
    from mxgw_sim.worker_host import attach_event_sink, make_worker

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_FRAME + 16)
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(0, "rb", buffering=0)
    )
    out = os.fdopen(out_fd, "wb", buffering=0)
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, out)
    writer = asyncio.StreamWriter(transport, protocol, None, loop)

    def send(env: wpb.WorkerEnvelope) -> None:
        writer.write(encode_frame(env.SerializeToString()))

    galaxy = load_galaxy_runtime(args.galaxy)
    worker = make_worker(galaxy, args.session_id)
    endpoint = WorkerEndpoint(
        worker,
        session_id=args.session_id,
        nonce=os.environ.get(NONCE_ENV, ""),
        send=send,
        drain=writer.drain,
        protocol_version=args.protocol_version,
    )
    attach_event_sink(worker, endpoint.on_event)

    replica_task: asyncio.Task[None] | None = None
    if args.replica_in_fd >= 0:
        replica_task = asyncio.create_task(_replica_loop(args.replica_in_fd, galaxy, worker))
    if args.replica_out_fd >= 0:
        _report_changes(galaxy, worker, args.replica_out_fd)
    starter = getattr(galaxy, "start", None)
    if callable(starter):
        starter()

    async def receive() -> wpb.WorkerEnvelope | None:
        payload = await read_frame(reader)
        if payload is None:
            return None
        return decode_envelope(payload, args.protocol_version, args.session_id)

    try:
        await endpoint.run(receive)
    except FrameError as exc:
        log.error("worker pipe contract violation: %s", exc)
        return 3
    finally:
        if replica_task is not None:
            replica_task.cancel()
    return 0


def _report_changes(galaxy: Any, worker: Any, fd: int) -> None:
    """Send the front every change this replica makes (its session's writes), and the
    worker's handle counts after every command."""
    from mxgw_sim.control import change_to_record
    from mxgw_sim.generated import mxgw_sim_control_pb2 as cpb
    from mxgw_sim.worker_host import worker_counts

    out = os.fdopen(fd, "wb", buffering=0)

    def send(update: cpb.ReplicaUpdate) -> None:
        try:
            out.write(encode_frame(update.SerializeToString()))
        except OSError:
            log.warning("replica pipe to the front is closed")

    galaxy.add_change_listener(lambda change: send(change_to_record(change)))
    execute = worker.execute

    async def counted(request: pb.MxCommandRequest) -> pb.MxCommandReply:
        reply: pb.MxCommandReply = await execute(request)
        handles, items, advised = worker_counts(worker)
        update = cpb.ReplicaUpdate()
        update.counts.server_handles = handles
        update.counts.items = items
        update.counts.advised = advised
        send(update)
        return reply

    worker.execute = counted


async def _replica_loop(fd: int, galaxy: Any, worker: Any) -> None:
    from mxgw_sim.control import apply_replica_update
    from mxgw_sim.generated import mxgw_sim_control_pb2 as cpb

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_FRAME + 16)
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0)
    )
    while True:
        payload = await read_frame(reader)
        if payload is None:
            return
        update = cpb.ReplicaUpdate()
        update.ParseFromString(payload)
        try:
            apply_replica_update(galaxy, [worker], update)
        except Exception:
            log.exception("replica update failed")


def main(argv: list[str] | None = None) -> int:
    """Child entry point: serve one session's worker over stdin/stdout frames."""
    args = _parse(argv)
    logging.basicConfig(
        level=args.log_level.upper(), stream=sys.stderr, format="worker %(levelname)s %(message)s"
    )
    if args.pipe_name != "stdio":
        print(f"--pipe-name {args.pipe_name!r}: only 'stdio' is supported", file=sys.stderr)
        return 2
    # The front decides when a worker stops (WorkerShutdown); a console Ctrl-C reaching the
    # whole process group must not kill the worker before the front has closed its session.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Keep stray prints off the frame pipe: stdout becomes stderr, frames use a private fd.
    out_fd = os.dup(1)
    os.dup2(2, 1)
    try:
        return asyncio.run(_child(args, out_fd))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
