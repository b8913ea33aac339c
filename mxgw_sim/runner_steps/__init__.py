"""The ``sim-*`` steps: mxgw-sim's fault controls inside a scenario.

Each step makes one call on the simulator's control service
(``mxgw_sim.control.v1.SimulatorControl``) and, where it can be undone, registers the
undo as a cleanup action (value, quality and scan put back, latency and dropped write
completions removed). This module holds only names, descriptions and schemas; the
callables load grpc when a sim step first runs.
"""

from __future__ import annotations

from mxgw_runner.steptypes import StepContext, StepOutcome, StepRun, StepType
from mxgw_sim.runner_steps import schemas


def _lazy(name: str) -> StepRun:
    """A run callable that imports :mod:`mxgw_sim.runner_steps.runs` on first use."""

    async def run(ctx: StepContext) -> StepOutcome | None:
        from mxgw_sim.runner_steps import runs

        outcome: StepOutcome | None = await getattr(runs, name)(ctx)
        return outcome

    run.__name__ = name
    run.__qualname__ = name
    return run


def step_types() -> list[StepType]:
    """Every ``sim-*`` step type, in the order ``--list-steps`` shows them."""
    return [
        StepType(
            "sim-set-value",
            schemas.SET_VALUE,
            _lazy("run_set_value"),
            "Force an attribute's value (and quality) in the simulator; cleanup restores it.",
        ),
        StepType(
            "sim-set-quality",
            schemas.SET_QUALITY,
            _lazy("run_set_quality"),
            "Force an attribute's quality in the simulator; cleanup restores it.",
        ),
        StepType(
            "sim-set-scan",
            schemas.SET_SCAN,
            _lazy("run_set_scan"),
            "Put an object on or off scan (off: quality 28); cleanup turns it back.",
        ),
        StepType(
            "sim-latency",
            schemas.LATENCY,
            _lazy("run_latency"),
            "Delay commands and/or events of a session or all; cleanup removes the delay.",
        ),
        StepType(
            "sim-drop-streams",
            schemas.SESSION_ONLY,
            _lazy("run_drop_streams"),
            "End event streams with UNAVAILABLE (the sessions stay open).",
        ),
        StepType(
            "sim-kill-worker",
            schemas.SESSION_ONLY,
            _lazy("run_kill_worker"),
            "Kill a session's worker: the session faults.",
        ),
        StepType(
            "sim-fault-session",
            schemas.FAULT_SESSION,
            _lazy("run_fault_session"),
            "Move a session to Faulted without killing its worker.",
        ),
        StepType(
            "sim-expire-session",
            schemas.SESSION_ONLY,
            _lazy("run_expire_session"),
            "Expire a session's lease now: the simulator closes it.",
        ),
        StepType(
            "sim-drop-write-completions",
            schemas.DROP_WRITE_COMPLETIONS,
            _lazy("run_drop_write_completions"),
            "Writes apply but send no write completion; cleanup delivers them again.",
        ),
        StepType(
            "sim-reset",
            schemas.RESET,
            _lazy("run_reset"),
            "Remove every injected fault and restore the galaxy's configured state.",
        ),
    ]
