"""The engine's building blocks (cleanup stack, signal state) and a plugin step run by it."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from mxgw_runner.engine import Engine, EngineOptions
from mxgw_runner.engine.cleanup import CleanupOutcome, CleanupStack, Undo, unwind_above
from mxgw_runner.engine.signals import Interrupts
from mxgw_runner.hookspecs import hookimpl
from mxgw_runner.loader import load_scenario
from mxgw_runner.model import Scenario, Step
from mxgw_runner.plugins import build_plugin_manager, collect_step_types
from mxgw_runner.results import ScenarioResult, StepResult
from mxgw_runner.steptypes import StepContext, StepOutcome, StepType


async def test_cleanup_runs_every_entry_newest_first_even_after_failures() -> None:
    ran: list[str] = []
    stack = CleanupStack()

    def entry(name: str, fail: bool = False) -> Undo:
        async def undo() -> None:
            ran.append(name)
            if fail:
                raise RuntimeError(f"{name} broke")

        return undo

    stack.push("close-session", "s", entry("close"))
    stack.push("unregister", "c", entry("unregister", fail=True))
    stack.push("unadvise", "sp", entry("unadvise", fail=True))
    outcomes = await stack.unwind(1.0)

    assert ran == ["unadvise", "unregister", "close"]
    assert [(o.action, o.outcome) for o in outcomes] == [
        ("unadvise", "failed"),
        ("unregister", "failed"),
        ("close-session", "passed"),
    ]
    assert outcomes[0].message == "unadvise broke"
    assert len(stack) == 0


async def test_each_entry_has_its_own_timeout() -> None:
    stack = CleanupStack()
    never = asyncio.Event()
    closed = asyncio.Event()

    async def hang() -> None:
        await never.wait()

    async def close() -> None:
        closed.set()

    stack.push("close-session", "s", close)
    stack.push("restore", "sp = 1", hang)
    outcomes = await stack.unwind(0.05)
    assert [o.outcome for o in outcomes] == ["timed-out", "passed"]
    assert closed.is_set()


async def test_cancelling_the_cleanup_reports_what_was_left() -> None:
    stack = CleanupStack()
    started = asyncio.Event()
    seen: list[CleanupOutcome] = []

    async def slow() -> None:
        started.set()
        await asyncio.Event().wait()

    async def fine() -> None:
        return None

    stack.push("close-session", "s", fine)
    stack.push("unadvise", "sp", fine)
    stack.push("restore", "sp = 1", slow)
    task = asyncio.create_task(stack.unwind(10.0, on_outcome=seen.append))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [(o.action, o.outcome) for o in seen] == [
        ("restore", "abandoned"),
        ("unadvise", "abandoned"),
        ("close-session", "abandoned"),
    ]


async def test_explicit_undo_runs_what_was_pushed_above_it() -> None:
    ran: list[str] = []
    stack = CleanupStack()

    def entry(name: str) -> Undo:
        async def undo() -> None:
            ran.append(name)

        return undo

    stack.push("close-session", "s1", entry("close"))
    stack.push("unregister", "c", entry("unregister"))
    stack.push("restore", "sp = 0", entry("restore"))
    outcomes = await unwind_above(stack, "unregister", "c", 1.0)
    assert ran == ["restore"]
    assert [o.action for o in outcomes] == ["restore"]
    assert [e.action for e in stack.entries] == ["close-session"]
    assert stack.drop("close-session", "s1")
    assert not stack.drop("close-session", "s1")


async def test_first_signal_stops_the_steps_a_second_ctrl_c_the_cleanup() -> None:
    interrupts = Interrupts()
    steps = asyncio.create_task(asyncio.Event().wait())
    cleanup = asyncio.create_task(asyncio.Event().wait())
    interrupts.steps_task = steps
    interrupts.handle(signal.SIGINT)
    await asyncio.sleep(0)
    assert steps.cancelled() and not cleanup.done()
    assert interrupts.exit_code == 130
    interrupts.cleanup_task = cleanup
    interrupts.handle(signal.SIGINT)
    await asyncio.gather(cleanup, return_exceptions=True)
    assert cleanup.cancelled()
    assert interrupts.abandon_cleanup


async def test_sigterm_twice_still_lets_cleanup_finish() -> None:
    interrupts = Interrupts()
    cleanup = asyncio.create_task(asyncio.Event().wait())
    interrupts.cleanup_task = cleanup
    interrupts.handle(signal.SIGTERM)
    interrupts.handle(signal.SIGTERM)
    assert not interrupts.abandon_cleanup
    assert interrupts.exit_code == 143
    interrupts.handle(signal.SIGTERM)  # a third signal of any kind gives up
    await asyncio.gather(cleanup, return_exceptions=True)
    assert cleanup.cancelled()


class _StampPlugin:
    """A plugin with one step that binds a variable and registers an undo."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    @hookimpl
    def mxgw_register_steps(self) -> list[StepType]:
        async def run(ctx: StepContext) -> StepOutcome:
            async def undo() -> None:
                self.calls.append(f"undo {ctx.params['label']}")

            ctx.push_cleanup("unstamp", str(ctx.params["label"]), undo)
            return StepOutcome(observed_value=ctx.params["label"])

        schema = {
            "type": "object",
            "properties": {"label": {"type": "string"}},
            "required": ["label"],
            "additionalProperties": False,
        }
        return [StepType("stamp", schema, run, "Stamp a label.")]

    @hookimpl
    def mxgw_step_finish(self, scenario: Scenario, step: Step, result: StepResult) -> None:
        self.calls.append(f"{step.kind} {result.status}")

    @hookimpl
    async def mxgw_scenario_finish(self, scenario: Scenario, result: ScenarioResult) -> None:
        await asyncio.sleep(0)  # hooks may be coroutines; the engine awaits them
        self.calls.append(f"finished {result.status}")


async def test_plugin_steps_run_through_the_same_hook_and_may_register_cleanup(
    tmp_path: Path,
) -> None:
    plugin = _StampPlugin()
    pm = build_plugin_manager(entry_points=False)
    pm.register(plugin, name="stamp-plugin")
    registry = collect_step_types(pm)
    path = tmp_path / "plugin.yaml"
    path.write_text(
        "vars: {suffix: again}\n"
        "steps:\n"
        "  - stamp: {label: first}\n"
        "  - stamp: {label: 'first-${suffix}'}\n"
        "  - wait: 1ms\n",
        encoding="utf-8",
    )
    scenario = load_scenario(path, registry=registry)
    result = await Engine(registry, pm, EngineOptions()).run([scenario])

    (outcome,) = result.scenarios
    assert outcome.status == "passed"
    assert [s.observed_value for s in outcome.steps[:2]] == ["first", "first-again"]
    assert plugin.calls == [
        "stamp passed",
        "stamp passed",
        "wait passed",
        "undo first-again",
        "undo first",
        "finished passed",
    ]
    assert [(c.action, c.status) for c in outcome.cleanup] == [
        ("unstamp", "passed"),
        ("unstamp", "passed"),
    ]


async def test_a_signal_while_a_scenario_starts_runs_none_of_its_steps(tmp_path: Path) -> None:
    interrupts = Interrupts()

    class SignalAtStart:
        @hookimpl
        def mxgw_scenario_start(self, scenario: Scenario) -> None:
            interrupts.handle(signal.SIGINT)

    pm = build_plugin_manager(entry_points=False)
    pm.register(SignalAtStart(), name="signal-at-start")
    registry = collect_step_types(pm)
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    for path in (first, second):
        path.write_text("steps:\n  - wait: 10s\n  - wait: 10s\n", encoding="utf-8")
    scenarios = [load_scenario(p, registry=registry) for p in (first, second)]
    engine = Engine(registry, pm, EngineOptions(), interrupts=interrupts)
    result = await asyncio.wait_for(engine.run(scenarios), 5)

    assert result.interrupted_by == "SIGINT"
    assert [s.status for s in result.scenarios] == ["interrupted", "skipped"]
    assert [s.status for s in result.scenarios[0].steps] == ["interrupted", "skipped"]
