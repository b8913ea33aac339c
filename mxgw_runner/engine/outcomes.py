"""How the engine judges what a step raised: failed check, invalid scenario or gateway error.

* :class:`~mxgw_runner.errors.StepFailed` (and :class:`ExpectationFailed`), and an
  MXAccess refusal of a command: the check failed (exit 1).
* :class:`~mxgw_runner.errors.ScenarioError`, :class:`StepUsageError`, a value
  that cannot be converted: the scenario is invalid (exit 2).
* gRPC errors, a faulted session, a lost event stream, anything unexpected: the
  check could not be made (exit 3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mxgw_runner.engine.recorder import EventStreamLost
from mxgw_runner.engine.state import StepUsageError
from mxgw_runner.errors import ScenarioError, StepFailed
from mxgw_runner.matching import ObservedEvent
from mxgw_runner.results import Outcome


class ExpectationFailed(StepFailed):
    """An event expectation did not hold; carries the item's recent events and the closest."""

    def __init__(
        self,
        message: str,
        *,
        expected: str | None = None,
        timeline: Sequence[ObservedEvent] = (),
        closest: ObservedEvent | None = None,
        closest_explanation: str | None = None,
    ) -> None:
        super().__init__(message, expected=expected)
        self.timeline = list(timeline)
        self.closest = closest
        self.closest_explanation = closest_explanation


@dataclass(frozen=True, slots=True)
class Judgement:
    """A step's outcome and message from what it raised; ``invalid`` selects exit code 2."""

    outcome: Outcome
    message: str
    invalid: bool = False


def judge(exc: BaseException) -> Judgement:
    """Classify an exception raised by a step (never CancelledError or TimeoutError)."""
    if isinstance(exc, StepFailed):
        return Judgement(Outcome.FAILED, exc.message)
    if isinstance(exc, ScenarioError):
        return Judgement(Outcome.ERROR, str(exc), invalid=True)
    if isinstance(exc, StepUsageError):
        return Judgement(Outcome.ERROR, str(exc), invalid=True)
    if isinstance(exc, EventStreamLost):
        return Judgement(Outcome.ERROR, str(exc))
    # mxgateway is imported lazily: --validate and --plan never load grpc.
    import mxgateway

    if isinstance(exc, mxgateway.MxAccessFailureError):
        return Judgement(Outcome.FAILED, str(exc))
    if isinstance(exc, mxgateway.DeadlineExceededError):
        # The command's deadline is the step's timeout: a gateway slower than the scenario
        # allows fails the check (exit 1), as a timed-out expectation does.
        return Judgement(Outcome.FAILED, f"timed out: the gateway did not answer in time ({exc})")
    if isinstance(exc, mxgateway.ValueConversionError):
        return Judgement(Outcome.ERROR, str(exc), invalid=True)
    if isinstance(exc, mxgateway.AuthenticationError):
        # the gateway's own words ("missing bearer token") do not say what to do about it
        return Judgement(
            Outcome.ERROR,
            f"{exc}; give the gateway's API key with --api-key-env NAME "
            "(the environment variable that holds it)",
        )
    if isinstance(exc, mxgateway.MxGatewayError):
        return Judgement(Outcome.ERROR, str(exc))
    return Judgement(Outcome.ERROR, f"internal error: {type(exc).__name__}: {exc}")


def describe_error(exc: BaseException) -> str:
    """Short text of an exception for cleanup outcomes."""
    text = str(exc)
    return text if text else type(exc).__name__
