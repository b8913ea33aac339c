"""The front's side of the worker contract: one :class:`WorkerHost` per session.

Two hosts speak the same ``mxaccess_worker.v1`` envelopes:

* :class:`InProcessWorkerHost` (the default) runs the worker's endpoint as a task in the
  server's loop; envelopes go to it over an asyncio queue and come back through a direct
  callback, never serialized.
* :class:`ProcessWorkerHost` (``--worker-process``) launches
  ``python -m mxgw_sim.worker_process`` and exchanges length-prefixed frames over the
  child's stdin/stdout; a second pipe carries galaxy replica updates. Killing the child is a
  real fault.

Either host checks every envelope (protocol version, session id, one body), matches command
replies to requests, forwards events, watches heartbeats (a fault after ``heartbeat_grace``
without one, ``busy_grace`` while a command runs) and reports a fault exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf.duration_pb2 import Duration

from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway.generated import mxaccess_worker_pb2 as wpb
from mxgw_sim.generated import mxgw_sim_control_pb2 as cpb
from mxgw_sim.worker_process import (
    MAX_FRAME,
    NONCE_ENV,
    PROTOCOL_VERSION,
    FrameError,
    WorkerEndpoint,
    check_envelope,
    decode_envelope,
    encode_frame,
    read_frame,
    unavailable_reply,
)

log = logging.getLogger("mxgw_sim.worker_host")

EventSink = Callable[[pb.MxEvent], None]
FaultSink = Callable[[str], None]


@dataclass(frozen=True)
class HostSettings:
    """How the front hosts workers."""

    process: bool = False
    heartbeat_interval: float = 5.0
    heartbeat_grace: float = 15.0
    busy_grace: float = 75.0
    protocol_version: int = PROTOCOL_VERSION
    galaxy_file: str | None = None
    startup_timeout: float = 20.0
    shutdown_grace: float = 5.0


# ------------------------------------------------------------------- sim core adapter
def make_worker(galaxy: Any, session_id: str, settings: Any = None) -> Any:
    """A simulated MXAccess worker for ``session_id`` over the galaxy runtime ``galaxy``."""
    from mxgw_sim.worker import MxWorker  # type: ignore[attr-defined,unused-ignore]

    return MxWorker(galaxy, settings, session_id)


def attach_event_sink(worker: Any, sink: EventSink) -> None:
    """Route the worker's numbered events to ``sink``."""
    worker.on_event = sink


def worker_counts(worker: Any) -> tuple[int, int, int]:
    """(server handles, items, advised items) from the worker's snapshot, zeros if unknown."""
    try:
        snap = worker.snapshot()
    except Exception:
        return 0, 0, 0

    def count(name: str) -> int:
        value = snap.get(name, 0) if isinstance(snap, dict) else getattr(snap, name, 0)
        if isinstance(value, int):
            return value
        try:
            return len(value)
        except TypeError:
            return 0

    return count("server_handles"), count("items"), count("advised")


class WorkerUnavailable(Exception):
    """The worker is gone, faulted or shutting down."""


class WorkerHost:
    """Common front-side logic of both hosts."""

    mode = "in-process"

    def __init__(
        self,
        session_id: str,
        settings: HostSettings,
        on_event: EventSink,
        on_fault: FaultSink,
    ) -> None:
        self.session_id = session_id
        self.settings = settings
        self.on_event = on_event
        self._on_fault = on_fault
        self._futures: dict[str, asyncio.Future[pb.MxCommandReply]] = {}
        self._ids = itertools.count(1)
        self._last_beat = time.monotonic()
        self._ready = asyncio.Event()
        self._hello: wpb.WorkerHello | None = None
        self._ack = asyncio.Event()
        self.fault_message = ""
        self.closing = False
        self.pid = 0
        self.last_heartbeat: wpb.WorkerHeartbeat | None = None
        self._monitor: asyncio.Task[None] | None = None

    # ---------------------------------------------------------------- plumbing
    def _envelope(self) -> wpb.WorkerEnvelope:
        return wpb.WorkerEnvelope(
            protocol_version=self.settings.protocol_version, session_id=self.session_id
        )

    def _send(self, env: wpb.WorkerEnvelope) -> None:
        raise NotImplementedError

    def _hello_envelope(self) -> wpb.WorkerEnvelope:
        env = self._envelope()
        env.gateway_hello.gateway_protocol_version = self.settings.protocol_version
        env.gateway_hello.gateway_version = "mxgw-sim"
        env.gateway_hello.heartbeat_interval.CopyFrom(
            Duration(
                nanos=int(self.settings.heartbeat_interval % 1 * 1e9),
                seconds=int(self.settings.heartbeat_interval),
            )
        )
        return env

    def handle(self, env: wpb.WorkerEnvelope) -> None:
        """Dispatch one envelope from the worker."""
        try:
            body = check_envelope(env, self.settings.protocol_version, self.session_id)
        except FrameError as exc:
            self.fault(f"worker pipe contract violation: {exc}")
            return
        if body == "event":
            self.on_event(env.event.event)
        elif body == "command_reply":
            reply = env.command_reply.reply
            future = self._futures.pop(reply.correlation_id, None)
            if future is not None and not future.done():
                future.set_result(reply)
        elif body == "heartbeat":
            self._last_beat = time.monotonic()
            self.last_heartbeat = env.heartbeat
        elif body == "worker_hello":
            self._hello = env.worker_hello
            self.pid = env.worker_hello.process_id
        elif body == "worker_ready":
            self._last_beat = time.monotonic()
            self._ready.set()
        elif body == "fault":
            fault = env.fault
            log.warning("session %s worker fault: %s", self.session_id, fault.message)
            if fault.fatal:
                self.fault(f"worker fault: {fault.message}")
        elif body == "shutdown_ack":
            self._ack.set()
        else:
            self.fault(f"worker pipe contract violation: unexpected {body} from worker")

    def fault(self, message: str) -> None:
        """Mark the worker dead (once): fail pending commands and tell the session."""
        if self.fault_message:
            return
        self.fault_message = message
        for future in self._futures.values():
            if not future.done():
                future.set_exception(WorkerUnavailable(message))
        self._futures.clear()
        if not self.closing:
            self._on_fault(message)

    async def _check_hello(self, nonce: str) -> None:
        try:
            await asyncio.wait_for(self._ready.wait(), self.settings.startup_timeout)
        except TimeoutError:
            raise WorkerUnavailable("worker did not become ready in time") from None
        if self._hello is None or not secrets.compare_digest(self._hello.nonce, nonce):
            raise WorkerUnavailable("worker hello did not echo the nonce")
        self._monitor = asyncio.create_task(self._watch_heartbeats())

    async def _watch_heartbeats(self) -> None:
        step = min(1.0, self.settings.heartbeat_interval / 2)
        while not self.fault_message and not self.closing:
            await asyncio.sleep(step)
            grace = self.settings.busy_grace if self._futures else self.settings.heartbeat_grace
            silent = time.monotonic() - self._last_beat
            if silent > grace:
                self.fault(f"worker missed heartbeats ({silent:.1f} s without one)")

    # ------------------------------------------------------------------ public
    @property
    def alive(self) -> bool:
        """Whether commands can still be sent."""
        return not self.fault_message and not self.closing

    @property
    def pending(self) -> int:
        """Commands sent and not yet answered."""
        return len(self._futures)

    async def execute(self, request: pb.MxCommandRequest) -> pb.MxCommandReply:
        """Run one command on the worker; raises :class:`WorkerUnavailable` if it is gone."""
        if not self.alive:
            raise WorkerUnavailable(self.fault_message or "worker is shutting down")
        original = request.correlation_id
        internal = f"{next(self._ids)}"
        future: asyncio.Future[pb.MxCommandReply] = asyncio.get_running_loop().create_future()
        self._futures[internal] = future
        env = self._envelope()
        env.command.request.CopyFrom(request)
        env.command.request.correlation_id = internal
        env.command.enqueued_at.GetCurrentTime()
        self._send(env)
        try:
            reply = await future
        except asyncio.CancelledError:
            self._futures.pop(internal, None)
            if self.alive:
                cancel = self._envelope()
                cancel.cancel.correlation_id = internal
                cancel.cancel.reason = "caller gave up"
                self._send(cancel)
            raise
        reply.correlation_id = original
        return reply

    def replicate(self, update: cpb.ReplicaUpdate) -> None:
        """Forward a galaxy change to this worker's replica (process mode only)."""

    def counts(self) -> tuple[int, int, int]:
        """(server handles, items, advised items) the worker holds."""
        return 0, 0, 0

    async def start(self) -> None:
        """Launch the worker and complete the hello/ready handshake."""
        raise NotImplementedError

    def kill(self) -> None:
        """Kill the worker abruptly (a real fault)."""
        raise NotImplementedError

    async def shutdown(self, reason: str) -> None:
        """Ask the worker to stop (shutdown → ack), then release it."""
        raise NotImplementedError

    def _stop_monitor(self) -> None:
        if self._monitor is not None:
            self._monitor.cancel()


class InProcessWorkerHost(WorkerHost):
    """The worker runs in this process as a task; envelopes are passed, not serialized."""

    mode = "in-process"

    def __init__(
        self,
        session_id: str,
        settings: HostSettings,
        on_event: EventSink,
        on_fault: FaultSink,
        worker: Any,
    ) -> None:
        super().__init__(session_id, settings, on_event, on_fault)
        self.worker = worker
        self._inbox: asyncio.Queue[wpb.WorkerEnvelope | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def _send(self, env: wpb.WorkerEnvelope) -> None:
        self._inbox.put_nowait(env)

    async def start(self) -> None:
        nonce = secrets.token_hex(16)
        endpoint = WorkerEndpoint(
            self.worker,
            session_id=self.session_id,
            nonce=nonce,
            send=self.handle,
            protocol_version=self.settings.protocol_version,
        )
        attach_event_sink(self.worker, endpoint.on_event)
        self._task = asyncio.create_task(endpoint.run(self._inbox.get))
        self._task.add_done_callback(self._ended)
        self._send(self._hello_envelope())
        await self._check_hello(nonce)
        self.pid = os.getpid()

    def _ended(self, task: asyncio.Task[None]) -> None:
        if not self.closing:
            reason = "worker stopped"
            if not task.cancelled() and task.exception() is not None:
                reason = f"worker crashed: {task.exception()!r}"
            self.fault(reason)

    def counts(self) -> tuple[int, int, int]:
        return worker_counts(self.worker)

    def kill(self) -> None:
        if self._task is not None:
            self.fault("worker killed")
            self._task.cancel()

    async def shutdown(self, reason: str) -> None:
        was_alive = self.alive
        self.closing = True
        self._stop_monitor()
        if self._task is None:
            return
        if was_alive and not self._task.done():
            env = self._envelope()
            env.shutdown.reason = reason
            self._inbox.put_nowait(env)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ack.wait(), self.settings.shutdown_grace)
        else:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.worker.shutdown(), self.settings.shutdown_grace)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task
        self.fault("session closed")


class ProcessWorkerHost(WorkerHost):
    """The worker is a child process speaking frames over its stdin/stdout."""

    mode = "process"

    def __init__(
        self,
        session_id: str,
        settings: HostSettings,
        on_event: EventSink,
        on_fault: FaultSink,
        on_replica: Callable[[cpb.ReplicaUpdate], None] | None = None,
    ) -> None:
        super().__init__(session_id, settings, on_event, on_fault)
        self._on_replica = on_replica
        self._proc: asyncio.subprocess.Process | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._replica_task: asyncio.Task[None] | None = None
        self._replica: Any = None
        self._counts = (0, 0, 0)

    def counts(self) -> tuple[int, int, int]:
        """As last reported by the child after a command."""
        return self._counts

    def _send(self, env: wpb.WorkerEnvelope) -> None:
        proc = self._proc
        if proc is None or proc.stdin is None or proc.stdin.is_closing():
            return
        proc.stdin.write(encode_frame(env.SerializeToString()))

    async def start(self) -> None:
        nonce = secrets.token_hex(16)
        read_fd, write_fd = os.pipe()  # front -> child replica frames
        back_read, back_write = os.pipe()  # child -> front replica frames
        args = [
            sys.executable,
            "-m",
            "mxgw_sim.worker_process",
            "--session-id",
            self.session_id,
            "--pipe-name",
            "stdio",
            "--protocol-version",
            str(self.settings.protocol_version),
            "--replica-in-fd",
            str(read_fd),
            "--replica-out-fd",
            str(back_write),
        ]
        if self.settings.galaxy_file:
            args += ["--galaxy", self.settings.galaxy_file]
        env = {**os.environ, NONCE_ENV: nonce}
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *args,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env=env,
                pass_fds=(read_fd, back_write),
                limit=MAX_FRAME + 16,
            )
        except BaseException:
            os.close(write_fd)
            os.close(back_read)
            raise
        finally:
            os.close(read_fd)
            os.close(back_write)
        self._replica = os.fdopen(write_fd, "wb", buffering=0)
        self._replica_task = asyncio.create_task(self._replica_loop(back_read))
        self.pid = self._proc.pid
        self._reader_task = asyncio.create_task(self._read_loop())
        self._send(self._hello_envelope())
        try:
            await self._check_hello(nonce)
        except WorkerUnavailable:
            self.kill()
            raise

    async def _read_loop(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        reader = self._proc.stdout
        reason = "worker process ended its pipe"
        try:
            while True:
                payload = await read_frame(reader)
                if payload is None:
                    break
                self.handle(
                    decode_envelope(payload, self.settings.protocol_version, self.session_id)
                )
        except FrameError as exc:
            reason = f"worker pipe contract violation: {exc}"
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()
        code = await self._proc.wait()
        if code < 0:
            reason = f"worker process killed by signal {-code}"
        elif code:
            reason = f"worker process exited with code {code}"
        self.fault(reason)

    async def _replica_loop(self, fd: int) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=MAX_FRAME + 16)
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0)
        )
        try:
            while True:
                payload = await read_frame(reader)
                if payload is None:
                    return
                update = cpb.ReplicaUpdate()
                update.ParseFromString(payload)
                if update.WhichOneof("update") == "counts":
                    c = update.counts
                    self._counts = (c.server_handles, c.items, c.advised)
                elif self._on_replica is not None:
                    self._on_replica(update)
        except FrameError as exc:
            log.warning("session %s: replica pipe: %s", self.session_id, exc)
        finally:
            transport.close()

    def replicate(self, update: cpb.ReplicaUpdate) -> None:
        if self._replica is None or not self.alive:
            return
        try:
            self._replica.write(encode_frame(update.SerializeToString()))
        except (BrokenPipeError, OSError):
            log.warning("session %s: replica pipe closed", self.session_id)

    def kill(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()

    async def shutdown(self, reason: str) -> None:
        was_alive = self.alive
        self.closing = True
        self._stop_monitor()
        proc = self._proc
        if proc is None:
            return
        if was_alive and proc.returncode is None:
            env = self._envelope()
            env.shutdown.reason = reason
            self._send(env)
            acked = asyncio.ensure_future(self._ack.wait())
            exited = asyncio.ensure_future(proc.wait())
            await asyncio.wait(
                (acked, exited),
                timeout=self.settings.shutdown_grace,
                return_when=asyncio.FIRST_COMPLETED,
            )
            acked.cancel()
            exited.cancel()
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), self.settings.shutdown_grace)
        except TimeoutError:
            self.kill()
            await proc.wait()
        if self._reader_task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader_task
        if self._replica is not None:
            with contextlib.suppress(OSError):
                self._replica.close()
        if self._replica_task is not None:
            self._replica_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._replica_task
        self.fault("session closed")


def unavailable(request: pb.MxCommandRequest, message: str) -> pb.MxCommandReply:
    """A WORKER_UNAVAILABLE reply for ``request``."""
    return unavailable_reply(request, message)
