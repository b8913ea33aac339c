"""What both worker hosts share: settings, the envelope checks and replies, heartbeats.

:class:`WorkerHost` matches command replies to requests, forwards events, watches
heartbeats (a fault after ``heartbeat_grace`` without one, ``busy_grace`` while a
command runs) and reports a fault exactly once; a subclass only moves envelopes and
starts and stops the worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf.duration_pb2 import Duration

from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway.generated import mxaccess_worker_pb2 as wpb
from mxgw_sim.generated import mxgw_sim_control_pb2 as cpb
from mxgw_sim.worker_process import PROTOCOL_VERSION, FrameError, check_envelope, unavailable_reply

log = logging.getLogger("mxgw_sim.worker_host")

EventSink = Callable[[pb.MxEvent], None]
BatchSink = Callable[[list[Any]], None]
"""Takes a list of events: generated messages or data changes as bytes (see mxgw_sim.wire)."""
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
        on_events: BatchSink | None = None,
    ) -> None:
        self.session_id = session_id
        self.settings = settings
        self.on_event = on_event
        #: Takes a list of events at once (the in-process fast path); None: one by one.
        self.on_events = on_events
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

    def _begin_shutdown(self) -> bool:
        """Mark the host closing and stop watching heartbeats; True if the worker was alive."""
        was_alive = self.alive
        self.closing = True
        self._stop_monitor()
        return was_alive

    def _send_shutdown(self, reason: str) -> None:
        """Ask the worker to stop; it answers with a shutdown ack."""
        env = self._envelope()
        env.shutdown.reason = reason
        self._send(env)


async def reap(task: asyncio.Task[None] | None, *, cancel: bool = False) -> None:
    """Wait for a helper task to end (cancelled first if asked), whatever it ends with."""
    if task is None:
        return
    if cancel:
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


def unavailable(request: pb.MxCommandRequest, message: str) -> pb.MxCommandReply:
    """A WORKER_UNAVAILABLE reply for ``request``."""
    return unavailable_reply(request, message)
