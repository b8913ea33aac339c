"""The hooks mxgw-run calls on plugins (pluggy project ``mxgw_runner``).

A plugin is a module or object with functions marked ``@hookimpl`` named like
the specs below. pluggy is synchronous: a hook that needs to do async work
returns a coroutine (or awaitable), and the runner awaits it.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from mxgw_runner.model import Scenario, Step
    from mxgw_runner.reports import ReportWriter
    from mxgw_runner.results import ScenarioResult, StepResult
    from mxgw_runner.steptypes import StepType

PROJECT_NAME = "mxgw_runner"
ENTRY_POINT_GROUP = "mxgw_runner"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def mxgw_register_steps() -> list[StepType]:
    """Return the step types this plugin adds.

    Called once, when the plugin manager is built and before any file is
    loaded, so that the loader and the published schema know every step. A
    name already registered by another plugin (or a built-in) is an error that
    names both plugins.
    """
    raise NotImplementedError


@hookspec
def mxgw_scenario_start(scenario: Scenario) -> Awaitable[None] | None:
    """Called after the scenario is loaded and just before its first step runs.

    May return an awaitable, which the runner awaits before the first step.
    Exceptions raised here make the scenario an ``error``.
    """
    raise NotImplementedError


@hookspec
def mxgw_scenario_finish(scenario: Scenario, result: ScenarioResult) -> Awaitable[None] | None:
    """Called once the scenario's cleanup has run and its result is final.

    ``result`` is read-only here. May return an awaitable. Called for every
    scenario that started, whatever its outcome, interrupted ones included.
    """
    raise NotImplementedError


@hookspec
def mxgw_step_start(scenario: Scenario, step: Step, index: int) -> Awaitable[None] | None:
    """Called just before a step runs (``index`` counts from 1 within its scenario).

    May return an awaitable, awaited before the step starts.
    """
    raise NotImplementedError


@hookspec
def mxgw_step_finish(scenario: Scenario, step: Step, result: StepResult) -> Awaitable[None] | None:
    """Called as soon as a step has a result (passed, failed, error or skipped).

    Report writers that stream (the console) use this; may return an awaitable.
    """
    raise NotImplementedError


@hookspec
def mxgw_report_writers() -> list[ReportWriter]:
    """Return extra report writers (each with an option name such as ``report-html``).

    Called once when the CLI builds its options; each writer's ``write`` is
    called with the final :class:`~mxgw_runner.results.RunResult` after the run,
    interrupted runs included.
    """
    raise NotImplementedError
