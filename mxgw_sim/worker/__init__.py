"""The simulated MXAccess worker: one per session, over a shared galaxy runtime."""

from mxgw_sim.worker.events import EventSink
from mxgw_sim.worker.settings import WorkerSettings
from mxgw_sim.worker.worker import ConnectionSnapshot, MxWorker, WorkerSnapshot

__all__ = ["ConnectionSnapshot", "EventSink", "MxWorker", "WorkerSettings", "WorkerSnapshot"]
