"""The ``--worker-process`` host: the worker is a child ``python -m mxgw_sim.worker_process``.

Envelopes travel as length-prefixed frames over the child's stdin/stdout; a second pair
of pipes carries galaxy replica updates (and the child's item counts). Killing the
child is a real fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import sys
from collections.abc import Callable
from typing import Any

from mxgateway.generated import mxaccess_worker_pb2 as wpb
from mxgw_sim.generated import mxgw_sim_control_pb2 as cpb
from mxgw_sim.worker_host.base import (
    EventSink,
    FaultSink,
    HostSettings,
    WorkerHost,
    WorkerUnavailable,
    reap,
)
from mxgw_sim.worker_process import (
    MAX_FRAME,
    NONCE_ENV,
    FrameError,
    decode_envelope,
    encode_frame,
    read_frame,
)

log = logging.getLogger("mxgw_sim.worker_host")


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
        was_alive = self._begin_shutdown()
        proc = self._proc
        if proc is None:
            return
        if was_alive and proc.returncode is None:
            self._send_shutdown(reason)
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
        await reap(self._reader_task)
        if self._replica is not None:
            with contextlib.suppress(OSError):
                self._replica.close()
        await reap(self._replica_task, cancel=True)
        self.fault("session closed")
