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

The shared part is in :mod:`.base`, the two hosts in :mod:`.in_process` and
:mod:`.child_process`, and the calls into the simulated worker in :mod:`.adapter`;
everything is re-exported here.
"""

from __future__ import annotations

from mxgw_sim.worker_host.adapter import attach_event_sink, make_worker, worker_counts
from mxgw_sim.worker_host.base import (
    EventSink,
    FaultSink,
    HostSettings,
    WorkerHost,
    WorkerUnavailable,
    log,
    unavailable,
)
from mxgw_sim.worker_host.child_process import ProcessWorkerHost
from mxgw_sim.worker_host.in_process import InProcessWorkerHost

__all__ = [
    "EventSink",
    "FaultSink",
    "HostSettings",
    "InProcessWorkerHost",
    "ProcessWorkerHost",
    "WorkerHost",
    "WorkerUnavailable",
    "attach_event_sink",
    "log",
    "make_worker",
    "unavailable",
    "worker_counts",
]
