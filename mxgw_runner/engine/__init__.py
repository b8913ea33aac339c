"""The mxgw-run engine: step executor, event recorder, cleanup stack, signals and timeouts.

Importing this package imports neither grpc nor ``mxgateway``; steps and the
engine load the client only when a scenario actually talks to a gateway. The names
below load their module on first use, so a step module importing
``mxgw_runner.engine.context`` (as every built-in step does, also under ``--validate``)
does not pull in the runner and scenario executor.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mxgw_runner.engine.cleanup import CleanupOutcome, CleanupStack
    from mxgw_runner.engine.context import RunContext, engine_context
    from mxgw_runner.engine.outcomes import ExpectationFailed
    from mxgw_runner.engine.recorder import EventStreamLost, Recorder
    from mxgw_runner.engine.runner import Engine, EngineOptions
    from mxgw_runner.engine.scenario import ScenarioRun
    from mxgw_runner.engine.signals import Interrupts
    from mxgw_runner.engine.state import ItemState, SessionState, StepUsageError

_MODULE_OF = {
    "CleanupOutcome": "cleanup",
    "CleanupStack": "cleanup",
    "Engine": "runner",
    "EngineOptions": "runner",
    "EventStreamLost": "recorder",
    "ExpectationFailed": "outcomes",
    "Interrupts": "signals",
    "ItemState": "state",
    "Recorder": "recorder",
    "RunContext": "context",
    "ScenarioRun": "scenario",
    "SessionState": "state",
    "StepUsageError": "state",
    "engine_context": "context",
}

__all__ = [
    "CleanupOutcome",
    "CleanupStack",
    "Engine",
    "EngineOptions",
    "EventStreamLost",
    "ExpectationFailed",
    "Interrupts",
    "ItemState",
    "Recorder",
    "RunContext",
    "ScenarioRun",
    "SessionState",
    "StepUsageError",
    "engine_context",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
