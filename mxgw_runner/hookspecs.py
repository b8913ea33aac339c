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
    """Return the step types this plugin adds (a list of :class:`StepType`; None: none).

    Called once, when the plugin manager is built and before any file is
    loaded, so that the loader, ``--list-steps`` and the published schema
    (``--print-schema``) know every step. Synchronous: no awaitable here. A name
    already registered by another plugin (or a built-in), a return value that is
    not a list of StepType, or an exception stops ``mxgw-run`` with one line
    naming the plugin (exit 2).
    """
    raise NotImplementedError


@hookspec
def mxgw_scenario_start(scenario: Scenario) -> Awaitable[None] | None:
    """Called after the scenario is loaded and just before its first step runs.

    May return None or an awaitable, which the runner awaits before the first
    step. An exception raised here (or by the awaitable) makes the scenario an
    ``error`` whose steps do not run; its cleanup and ``mxgw_scenario_finish``
    still do.
    """
    raise NotImplementedError


@hookspec
def mxgw_scenario_finish(scenario: Scenario, result: ScenarioResult) -> Awaitable[None] | None:
    """Called once the scenario's cleanup has run and its result is final.

    ``result`` is read-only here. May return None or an awaitable. Called for
    every scenario that started, whatever its outcome, interrupted ones
    included. An exception is added to the scenario's message; the outcome
    stays as it was.
    """
    raise NotImplementedError


@hookspec
def mxgw_step_start(scenario: Scenario, step: Step, index: int) -> Awaitable[None] | None:
    """Called just before a step runs (``index`` counts from 1 within its scenario).

    May return None or an awaitable, awaited before the step starts. An
    exception makes that step an ``error``.
    """
    raise NotImplementedError


@hookspec
def mxgw_step_finish(scenario: Scenario, step: Step, result: StepResult) -> Awaitable[None] | None:
    """Called as soon as a step has a result (passed, failed, error or skipped).

    Report writers that stream (the console) use this. May return None or an
    awaitable. An exception is added to the step's message; its outcome stays.
    """
    raise NotImplementedError


@hookspec
def mxgw_report_writers() -> list[ReportWriter]:
    """Return extra report writers (a list of ``ReportWriter``; None: none).

    Called once, when the CLI builds its options: each writer named ``x`` adds
    ``--report-x FILE``. After the run (interrupted runs included) the writer's
    ``write(run, path, redactor)`` is called with the final
    :class:`~mxgw_runner.results.RunResult` for each option given. Synchronous.
    """
    raise NotImplementedError
