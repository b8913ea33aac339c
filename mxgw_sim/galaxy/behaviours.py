"""Attribute behaviours as pure functions of time since the simulator's epoch (and a seed).

Two processes hosting replicas of one galaxy compute the same values at the same tick, with
no communication. ``follows`` is the exception: it depends on what was written to its
source, so the runtime keeps its state (see :class:`FollowState`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mxgateway import MxDataType
from mxgw_sim.galaxy.model import Behaviour, Ramp, RandomWalk, Sine, Static, Toggle

__all__ = ["WALK_BLOCK", "FollowState", "behaviour_value", "is_dynamic", "shape_number"]

#: A random walk restarts from a seeded point every this many steps, so any step can be
#: computed from at most this many increments (and replicas agree without history).
WALK_BLOCK = 4096
_MASK = (1 << 64) - 1


def is_dynamic(behaviour: Behaviour) -> bool:
    """True when the value changes by itself over time."""
    return not isinstance(behaviour, Static)


def _splitmix(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _unit(seed: int, n: int, salt: int) -> float:
    """A uniform number in [0, 1) determined by (seed, n, salt)."""
    return _splitmix((seed * 0x100000001B3) ^ (n * 0x9E3779B1) ^ salt) / float(1 << 64)


@dataclass(slots=True)
class _WalkCache:
    block: int = -1
    position: int = -1
    value: float = 0.0


_walk_caches: dict[RandomWalk, _WalkCache] = {}


def _walk(walk: RandomWalk, step: int) -> float:
    """Value after ``step`` steps (the walk reflects at its bounds)."""
    span = walk.max - walk.min
    block, offset = divmod(step, WALK_BLOCK)
    cache = _walk_caches.setdefault(walk, _WalkCache())
    if cache.block != block or cache.position > offset:
        cache.block = block
        cache.position = 0
        cache.value = walk.min + span * _unit(walk.seed, block, 0xB10C)
    value = cache.value
    for position in range(cache.position + 1, offset + 1):
        n = block * WALK_BLOCK + position
        value += walk.step * (2.0 * _unit(walk.seed, n, 0x57E9) - 1.0)
        if value > walk.max:
            value = walk.max - (value - walk.max)
        if value < walk.min:
            value = walk.min + (walk.min - value)
        value = min(max(value, walk.min), walk.max)
    cache.position = offset
    cache.value = value
    return value


def shape_number(value: float, data_type: MxDataType) -> Any:
    """A computed number in the attribute's type (rounded for integers, bool for booleans)."""
    if data_type is MxDataType.BOOLEAN:
        return value != 0
    if data_type in (MxDataType.FLOAT, MxDataType.DOUBLE):
        return float(value)
    return round(value)


def behaviour_value(
    behaviour: Behaviour, elapsed: float, rate: float, data_type: MxDataType
) -> Any:
    """The value of a time-driven behaviour ``elapsed`` seconds after the epoch.

    ``rate`` is the attribute's update period; the random walk takes one step per update.
    Returns None for behaviours that are not functions of time (static, follows).
    """
    if isinstance(behaviour, Ramp):
        phase = (elapsed % behaviour.period) / behaviour.period
        return shape_number(behaviour.min + (behaviour.max - behaviour.min) * phase, data_type)
    if isinstance(behaviour, Sine):
        angle = 2.0 * math.pi * elapsed / behaviour.period
        return shape_number(behaviour.offset + behaviour.amplitude * math.sin(angle), data_type)
    if isinstance(behaviour, Toggle):
        on = int(elapsed // behaviour.period) % 2 == 1
        return on if data_type is MxDataType.BOOLEAN else int(on)
    if isinstance(behaviour, RandomWalk):
        return shape_number(_walk(behaviour, round(elapsed / rate)), data_type)
    return None


@dataclass(slots=True)
class FollowState:
    """First-order lag state of a ``follows`` attribute.

    Between anchors the output relaxes exponentially from ``value`` (at ``time``) towards
    ``target``; the runtime re-anchors whenever the source changes, so the output is exact
    for sources that change by writes, and replicas that see the same writes agree.
    """

    time: float
    value: float
    target: float

    def at(self, when: float, lag: float) -> float:
        """The output at ``when`` (not before the anchor)."""
        if lag <= 0 or when <= self.time:
            return self.target if lag <= 0 else self.value
        return self.target + (self.value - self.target) * math.exp(-(when - self.time) / lag)

    def retarget(self, when: float, lag: float, target: float) -> None:
        """The source changed to ``target`` at ``when``."""
        self.value = self.at(when, lag)
        self.time = max(when, self.time)
        self.target = target
