"""The simulated MXAccess core as a host sees it: make a worker, route its events, count.

The hosts and the child process reach the worker only through these calls, so
the worker's own shape can change without touching them.
"""

from __future__ import annotations

from typing import Any

from mxgw_sim.worker_host.base import BatchSink, EventSink


def make_worker(galaxy: Any, session_id: str, settings: Any = None) -> Any:
    """A simulated MXAccess worker for ``session_id`` over the galaxy runtime ``galaxy``."""
    from mxgw_sim.worker import MxWorker  # type: ignore[attr-defined,unused-ignore]

    return MxWorker(galaxy, settings, session_id)


def attach_event_sink(worker: Any, sink: EventSink) -> None:
    """Route the worker's numbered events to ``sink``."""
    worker.on_event = sink


def attach_batch_sink(worker: Any, sink: BatchSink) -> bool:
    """Route each delivery pass's events to ``sink`` as one list, if the worker can;
    returns whether it could (otherwise events keep going to the single-event sink)."""
    if not hasattr(worker, "on_events"):
        return False
    worker.on_events = sink
    return True


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
