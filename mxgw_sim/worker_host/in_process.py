"""The default host: the worker's endpoint runs as a task in the server's own loop.

Envelopes go to it over an asyncio queue and come back through a direct callback,
never serialized. Events skip the envelope altogether: each delivery pass of the worker
reaches the session as one list (wrapping every event in an envelope only to unwrap it
again at once cost more than making the event).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from typing import Any

from mxgateway.generated import mxaccess_worker_pb2 as wpb
from mxgw_sim.wire import AnyEvent, messages, sequence_of
from mxgw_sim.worker_host.adapter import attach_batch_sink, attach_event_sink, worker_counts
from mxgw_sim.worker_host.base import (
    BatchSink,
    EventSink,
    FaultSink,
    HostSettings,
    WorkerHost,
    reap,
)
from mxgw_sim.worker_process import WorkerEndpoint


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
        on_events: BatchSink | None = None,
    ) -> None:
        super().__init__(session_id, settings, on_event, on_fault, on_events)
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

        def events(batch: list[AnyEvent]) -> None:
            endpoint.saw_event(sequence_of(batch[-1]))
            if self.on_events is not None:
                self.on_events(batch)
            else:
                for event in messages(batch):
                    self.on_event(event)

        attach_batch_sink(self.worker, events)
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
        was_alive = self._begin_shutdown()
        if self._task is None:
            return
        if was_alive and not self._task.done():
            self._send_shutdown(reason)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ack.wait(), self.settings.shutdown_grace)
        else:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.worker.shutdown(), self.settings.shutdown_grace)
        await reap(self._task, cancel=True)
        self.fault("session closed")
