"""The mxgw-run engine: step executor, event recorder, cleanup stack, signals and timeouts.

Importing this package imports neither grpc nor ``mxgateway``; steps and the
engine load the client only when a scenario actually talks to a gateway.
"""

from mxgw_runner.engine.cleanup import CleanupOutcome, CleanupStack
from mxgw_runner.engine.context import RunContext, engine_context
from mxgw_runner.engine.outcomes import ExpectationFailed
from mxgw_runner.engine.recorder import EventStreamLost, Recorder
from mxgw_runner.engine.runner import Engine, EngineOptions
from mxgw_runner.engine.scenario import ScenarioRun
from mxgw_runner.engine.signals import Interrupts
from mxgw_runner.engine.state import ItemState, SessionState, StepUsageError

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
