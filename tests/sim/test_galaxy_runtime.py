"""GalaxyRuntime: behaviours on a manual clock, ticking, writes, control and replication."""

from __future__ import annotations

import asyncio
import itertools
import math
from typing import Any

import pytest
from galaxysupport import T0, ManualClock

from mxgw_sim.galaxy import (
    AttributeState,
    GalaxyChange,
    GalaxyControlError,
    GalaxyRuntime,
    Resolved,
    WriteContext,
    parse_galaxy,
)

GALAXY = """
version: 1
settings: {epoch: "2026-03-01T00:00:00Z", update-rate: 1s}
areas:
  - name: A
    objects:
      - name: P
        attributes:
          - name: Ramp
            type: double
            behaviour: {ramp: {min: 0, max: 100, period: 100s}}
          - name: IntRamp
            type: integer
            behaviour: {ramp: {min: 0, max: 10, period: 4s}}
          - name: Sine
            type: double
            behaviour: {sine: {amplitude: 10, offset: 50, period: 40s}}
          - {name: Toggle, type: boolean, behaviour: {toggle: {period: 5s}}}
          - {name: IntToggle, type: integer, behaviour: {toggle: {period: 5s}}}
          - name: Walk
            type: double
            behaviour: {random-walk: {seed: 7, step: 0.5, min: 0, max: 10}}
          - {name: SP, type: double, value: 0}
          - name: PV
            type: double
            behaviour: {follows: {source: Me.SP, lag: 2s}}
          - name: Scaled
            type: double
            behaviour: {follows: {source: P.SP, lag: 0s, gain: 2, offset: 1}}
          - {name: Cmd, type: double, value: 0}
          - name: Pos
            type: double
            behaviour: {follows: {source: P.Cmd, lag: 1s, mode: delay}}
          - name: Fast
            type: double
            update-rate: 50ms
            behaviour: {ramp: {min: 0, max: 1, period: 10s}}
          - {name: Arr, type: "integer[]", value: [1, 2, 3]}
"""


def runtime(clock: ManualClock | None = None) -> GalaxyRuntime:
    return GalaxyRuntime(parse_galaxy(GALAXY, "g.yaml"), clock=clock or ManualClock())


def read(rt: GalaxyRuntime, name: str) -> Any:
    return rt.read(("P", name)).value


def write(rt: GalaxyRuntime, reference: str, value: Any) -> None:
    target = rt.resolve(reference)
    assert isinstance(target, Resolved)
    assert rt.write(target, value, WriteContext()).ok


def test_ramp_is_a_sawtooth_from_the_epoch() -> None:
    clock = ManualClock(T0)
    rt = runtime(clock)
    assert read(rt, "Ramp") == 0.0
    clock.advance(25)
    assert read(rt, "Ramp") == 25.0
    clock.advance(75)
    assert read(rt, "Ramp") == 0.0
    clock.advance(1)
    assert read(rt, "IntRamp") == 2  # 1 s of 4 s over 0..10, rounded


def test_values_are_sampled_at_the_update_rate() -> None:
    clock = ManualClock(T0 + 10)
    rt = runtime(clock)
    at_tick = rt.read(("P", "Ramp"))
    clock.advance(0.9)
    later = rt.read(("P", "Ramp"))
    assert later.value == at_tick.value == 10.0
    assert later.timestamp == T0 + 10


def test_sine() -> None:
    clock = ManualClock(T0)
    rt = runtime(clock)
    assert read(rt, "Sine") == pytest.approx(50.0)
    clock.advance(10)
    assert read(rt, "Sine") == pytest.approx(60.0)
    clock.advance(20)
    assert read(rt, "Sine") == pytest.approx(40.0)


def test_toggle() -> None:
    clock = ManualClock(T0)
    rt = runtime(clock)
    seen = []
    for _ in range(3):
        seen.append((read(rt, "Toggle"), read(rt, "IntToggle")))
        clock.advance(5)
    assert seen == [(False, 0), (True, 1), (False, 0)]


def test_random_walk_is_bounded_and_the_same_in_every_replica() -> None:
    early = runtime(ManualClock(T0 + 100))
    late = runtime(ManualClock(T0 + 5000))
    clock = ManualClock(T0 + 100)
    path = []
    rt = runtime(clock)
    for _ in range(50):
        path.append(read(rt, "Walk"))
        clock.advance(1)
    assert all(0 <= v <= 10 for v in path)
    assert all(abs(a - b) <= 0.5 + 1e-9 for a, b in itertools.pairwise(path))
    assert len(set(path)) > 10
    assert read(early, "Walk") == path[0]
    late.clock = clock  # type: ignore[assignment]
    assert read(late, "Walk") == read(rt, "Walk")


def test_follows_with_a_first_order_lag() -> None:
    clock = ManualClock(T0)
    rt = runtime(clock)
    assert read(rt, "PV") == 0.0
    write(rt, "P.SP", 100.0)
    assert read(rt, "PV") == 0.0
    clock.advance(2)
    assert read(rt, "PV") == pytest.approx(100 * (1 - math.exp(-1)))
    clock.advance(10)
    assert read(rt, "PV") == pytest.approx(100 * (1 - math.exp(-6)))
    assert read(rt, "Scaled") == 201.0  # gain 2, offset 1, no lag


def test_follows_with_a_delay() -> None:
    clock = ManualClock(T0)
    rt = runtime(clock)
    write(rt, "P.Cmd", 40.0)
    assert read(rt, "Pos") == 0.0
    clock.advance(1)
    assert read(rt, "Pos") == 40.0


def test_a_written_follower_holds_until_the_next_update_then_relaxes() -> None:
    clock = ManualClock(T0 + 0.2)
    rt = runtime(clock)
    write(rt, "P.PV", 50.0)
    assert read(rt, "PV") == 50.0
    clock.advance(2.8)
    assert 0 < read(rt, "PV") < 50.0


def test_tick_publishes_subscribed_dynamic_attributes_on_change() -> None:
    clock = ManualClock(T0)
    rt = runtime(clock)
    states: list[AttributeState] = []
    assert rt.tick() is None  # nothing subscribed: nothing to do
    sub = rt.subscribe(("P", "Toggle"), states.append)
    assert rt.tick() == T0 + 1
    for _ in range(10):
        clock.advance(1)
        rt.tick()
    assert [s.value for s in states] == [True, False]
    assert states[0].timestamp == T0 + 5
    sub.cancel()
    clock.advance(5)
    rt.tick()
    assert len(states) == 2


def test_writes_publish_and_follows_moves_the_pv() -> None:
    clock = ManualClock(T0)
    rt = runtime(clock)
    pv: list[float] = []
    rt.subscribe(("P", "PV"), lambda s: pv.append(s.value))
    write(rt, "P.SP", 10.0)
    for _ in range(20):
        clock.advance(1)
        rt.tick()
    assert pv[0] == pytest.approx(10 * (1 - math.exp(-0.5)))
    assert pv == sorted(pv) and pv[-1] == pytest.approx(10.0, abs=0.01)


async def test_the_ticking_task_runs_on_real_time() -> None:
    rt = GalaxyRuntime(parse_galaxy(GALAXY, "g.yaml"))
    arrived = asyncio.Event()
    states: list[AttributeState] = []

    def on_state(state: AttributeState) -> None:
        states.append(state)
        if len(states) >= 3:
            arrived.set()

    rt.start()
    try:
        rt.subscribe(("P", "Fast"), on_state)
        async with asyncio.timeout(5):
            await arrived.wait()
    finally:
        await rt.stop()
    assert [s.timestamp for s in states] == sorted(s.timestamp for s in states)


def test_control_operations_and_qualities() -> None:
    clock = ManualClock(T0)
    rt = runtime(clock)
    rt.set_value("P.SP", 5)
    assert read(rt, "SP") == 5.0
    rt.set_value("P.Arr", [4, 5])  # a control operation may name a whole array
    rt.set_value("P.Arr[1]", 9)
    assert read(rt, "Arr") == [9, 5]
    assert rt.set_quality("P.SP", 64).quality == 64
    rt.set_link("P", False)
    assert rt.read(("P", "SP")).quality == 24
    rt.set_scan_state("P", False)
    assert rt.read(("P", "SP")).quality == 28
    rt.set_deployed("P", False)
    state = rt.read(("P", "SP"))
    assert (state.value, state.quality) == (None, 0)
    rt.set_deployed("P", True)
    rt.set_scan_state("P", True)
    rt.set_link("P", True)
    assert rt.set_quality("P.SP", None).quality == 192
    assert rt.object_state("P") == {"on_scan": True, "deployed": True, "connected": True}
    with pytest.raises(GalaxyControlError, match="no object"):
        rt.set_scan_state("Nope", False)
    with pytest.raises(GalaxyControlError, match="no such"):
        rt.set_value("P.Nope", 1)
    with pytest.raises(GalaxyControlError, match="cannot convert"):
        rt.set_value("P.SP", "fast")
    with pytest.raises(GalaxyControlError, match="outside"):
        rt.set_quality("P.SP", 70000)


def test_replicas_agree_through_change_records() -> None:
    clock = ManualClock(T0)
    a, b = runtime(clock), runtime(clock)
    changes: list[GalaxyChange] = []
    a.add_change_listener(changes.append)
    echoed: list[GalaxyChange] = []
    b.add_change_listener(echoed.append)
    write(a, "P.SP", 100.0)
    a.set_scan_state("P", False)
    a.set_quality("P.Cmd", 64)
    a.set_value("P.Arr[2]", 7)
    for change in changes:
        b.apply_external_change(GalaxyChange.from_dict(change.to_dict()))
    assert echoed == []  # external changes are not reported again
    clock.advance(3)
    for name in ("SP", "PV", "Cmd", "Arr"):
        assert a.read(("P", name)) == b.read(("P", name))
    assert b.read(("P", "SP")).quality == 28
    assert [c.kind for c in changes] == ["value", "object", "quality", "value"]


def test_timestamps_are_utc_by_default() -> None:
    rt = runtime(ManualClock(T0 + 0.25))
    stamp = rt.timestamp(T0 + 0.25)
    assert (stamp.seconds, stamp.nanos) == (int(T0), 250_000_000)
