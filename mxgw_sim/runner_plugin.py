"""The simulator's fault controls as ``mxgw-run`` steps (entry-point group ``mxgw_runner``).

Registered as the installed plugin ``mxgw-sim``: ``sim-set-value``, ``sim-set-quality``,
``sim-set-scan``, ``sim-latency``, ``sim-drop-streams``, ``sim-kill-worker`` and more
(see :mod:`mxgw_sim.runner_steps`). Importing this module stays cheap: grpc and the
control bindings load only when a sim step runs, so ``mxgw-run --validate`` stays fast.
"""

from __future__ import annotations

from mxgw_runner.hookspecs import hookimpl
from mxgw_runner.steptypes import StepType


@hookimpl
def mxgw_register_steps() -> list[StepType]:
    """The ``sim-*`` steps, each driving mxgw-sim's control service."""
    from mxgw_sim.runner_steps import step_types

    return step_types()
