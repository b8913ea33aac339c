"""Live attribute state of a galaxy: values, qualities, behaviours, subscriptions, ticking.

:class:`LiveGalaxy` is the reading half of :class:`mxgw_sim.galaxy.GalaxyRuntime`. Workers
subscribe callbacks per attribute; behaviours are ticked by one asyncio task (:meth:`run`)
that sleeps until the next update of a *subscribed* dynamic attribute, so an idle galaxy
costs nothing. Dynamic values are sampled at multiples of the update rate counted from the
epoch, which is what makes replicas in different processes agree. Tests drive :meth:`tick`
with a manual clock instead of running the task.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from mxgateway import MxDataType
from mxgw_sim.galaxy.behaviours import FollowState, behaviour_value, is_dynamic, shape_number
from mxgw_sim.galaxy.model import AttributeDef, Follows, Galaxy, ObjectDef
from mxgw_sim.galaxy.references import Resolved, Unresolved, resolve_reference

__all__ = [
    "AttributeKey",
    "AttributeState",
    "Clock",
    "GalaxyControlError",
    "LiveAttribute",
    "LiveGalaxy",
    "LiveObject",
    "Subscription",
    "utc_timestamp",
]

#: (object full name, attribute name)
AttributeKey = tuple[str, str]
#: Returns the current Unix time in seconds.
Clock = Callable[[], float]
Listener = Callable[["AttributeState"], None]

QUALITY_OUT_OF_SERVICE = 28
_HISTORY = 4096


def utc_timestamp(when: float) -> Timestamp:
    """A protobuf Timestamp of a Unix time (no time zone shift)."""
    stamp = Timestamp()
    seconds = math.floor(when)
    stamp.seconds = seconds
    stamp.nanos = min(round((when - seconds) * 1e9), 999_999_999)
    return stamp


class GalaxyControlError(ValueError):
    """A control operation named something that does not exist or gave a bad value."""


@dataclass(frozen=True, slots=True)
class AttributeState:
    """One attribute at one moment: ``value`` is None when there is no data (undeployed)."""

    key: AttributeKey
    value: Any
    quality: int
    timestamp: float
    data_type: MxDataType
    is_array: bool


@dataclass(slots=True)
class LiveAttribute:
    obj: ObjectDef
    attr: AttributeDef
    value: Any
    value_time: float
    written_at: float | None = None
    quality_override: int | None = None
    quality_time: float = 0.0
    #: When the last value or quality change applied to this attribute was stamped: a
    #: back-dated Write2 keeps its own timestamp even though other times are later.
    stamp: float = 0.0
    follow: FollowState | None = None
    history: deque[tuple[float, Any]] | None = None
    followers: list[LiveAttribute] = field(default_factory=list)
    source: LiveAttribute | None = None
    subscribers: list[Listener] = field(default_factory=list)
    published: tuple[Any, int] | None = None
    last_boundary: float = -math.inf

    @property
    def key(self) -> AttributeKey:
        return (self.obj.name, self.attr.name)


@dataclass(slots=True)
class LiveObject:
    on_scan: bool
    deployed: bool
    connected: bool
    changed: float


class Subscription:
    """What :meth:`LiveGalaxy.subscribe` returns; ``cancel()`` stops the callbacks."""

    def __init__(self, runtime: LiveGalaxy, live: LiveAttribute, listener: Listener) -> None:
        self._runtime = runtime
        self._live = live
        self._listener = listener
        self.active = True

    def cancel(self) -> None:
        """Stop delivering updates (idempotent)."""
        if self.active:
            self.active = False
            with contextlib.suppress(ValueError):
                self._live.subscribers.remove(self._listener)
            self._runtime._wake()


class LiveGalaxy:
    """Current value, quality and timestamp of every attribute of a :class:`Galaxy`."""

    def __init__(self, galaxy: Galaxy, *, clock: Clock | None = None) -> None:
        self.galaxy = galaxy
        self.settings = galaxy.settings
        self.clock: Clock = clock or time.time
        start = self.clock()
        self._objects = {
            name: LiveObject(obj.on_scan, obj.deployed, obj.link.connected, start)
            for name, obj in galaxy.objects.items()
        }
        self._lives: dict[AttributeKey, LiveAttribute] = {}
        for obj, attr in galaxy.attributes():
            self._lives[(obj.name, attr.name)] = LiveAttribute(
                obj, attr, attr.value, start, quality_time=start, stamp=start
            )
        self._link_followers()
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    def _link_followers(self) -> None:
        for live in self._lives.values():
            behaviour = live.attr.behaviour
            if not isinstance(behaviour, Follows):
                continue
            target = resolve_reference(self.galaxy, behaviour.source, live.obj.name)
            assert isinstance(target, Resolved), "the loader checks follows sources"
            source = self._lives[target.key]
            live.source = source
            source.followers.append(live)
            if behaviour.mode == "delay" and source.history is None:
                source.history = deque([(-math.inf, source.value)], maxlen=_HISTORY)
        start = self.clock()
        for live in self._lives.values():
            if live.source is not None:
                self._value(live, start)  # anchors the lag at its settled start value

    # ------------------------------------------------------------------ time

    def now(self) -> float:
        """Current time from the runtime's clock (Unix seconds)."""
        return self.clock()

    def rate_of(self, attr: AttributeDef) -> float:
        """Update period of an attribute (its own, else the galaxy default)."""
        return attr.update_rate or self.settings.update_rate

    def _boundary(self, when: float, rate: float) -> float:
        epoch = self.settings.epoch
        return epoch + math.floor((when - epoch) / rate) * rate

    def timestamp(self, when: float) -> Timestamp:
        """A source timestamp for ``when``, shifted to local time when the setting says so."""
        if self.settings.timestamps == "local":
            when += self._local_offset(when)
        return utc_timestamp(when)

    def _local_offset(self, when: float) -> float:
        if self.settings.local_offset is not None:
            return self.settings.local_offset
        return float(time.localtime(when).tm_gmtoff)

    # ------------------------------------------------------------------ lookup

    def resolve(self, reference: str, context: str | None = None) -> Resolved | Unresolved:
        """Resolve an item reference (see :mod:`mxgw_sim.galaxy.references`)."""
        return resolve_reference(self.galaxy, reference, context)

    def _live(self, key: AttributeKey) -> LiveAttribute:
        try:
            return self._lives[key]
        except KeyError:
            raise GalaxyControlError(f"no attribute {key[0]}.{key[1]}") from None

    def _object_live(self, name: str) -> tuple[ObjectDef, LiveObject]:
        obj = self.galaxy.object(name)
        if obj is None:
            raise GalaxyControlError(f"no object {name!r}")
        return obj, self._objects[obj.name]

    def object_state(self, name: str) -> dict[str, bool]:
        """Scan, deploy and link state of an object."""
        _, live = self._object_live(name)
        return {"on_scan": live.on_scan, "deployed": live.deployed, "connected": live.connected}

    # ------------------------------------------------------------------ reading

    def read(self, key: AttributeKey) -> AttributeState:
        """The attribute's state now."""
        return self._state(self._live(key), self.now())

    def _quality(self, live: LiveAttribute) -> tuple[int, float]:
        state = self._objects[live.obj.name]
        if not state.deployed:
            return self.settings.undeployed_quality, state.changed
        if not state.on_scan:
            return QUALITY_OUT_OF_SERVICE, state.changed
        if not state.connected:
            return live.obj.link.quality_on_fault, state.changed
        if live.quality_override is not None:
            return live.quality_override, live.quality_time
        return live.attr.quality, live.quality_time

    def _state(self, live: LiveAttribute, now: float) -> AttributeState:
        quality, quality_time = self._quality(live)
        attr = live.attr
        if not self._objects[live.obj.name].deployed:
            return AttributeState(
                live.key, None, quality, quality_time, attr.data_type, attr.is_array
            )
        value, value_time = self._value(live, now)
        # The source timestamp is that of the latest change: a behaviour's tick, the last
        # applied write or quality change (whatever time it carried), or the object's own
        # condition (off scan, link down) when that is what sets the quality.
        stamp = live.stamp if value_time == live.value_time else max(value_time, live.stamp)
        if quality_time != live.quality_time:
            stamp = max(stamp, quality_time)
        return AttributeState(live.key, value, quality, stamp, attr.data_type, attr.is_array)

    def _value(self, live: LiveAttribute, now: float) -> tuple[Any, float]:
        behaviour = live.attr.behaviour
        if not is_dynamic(behaviour):
            return live.value, live.value_time
        rate = self.rate_of(live.attr)
        tick = self._boundary(now, rate)
        if live.written_at is not None and live.written_at >= tick:
            return live.value, live.value_time
        if isinstance(behaviour, Follows):
            return self._follow(live, behaviour, tick), tick
        value = behaviour_value(behaviour, tick - self.settings.epoch, rate, live.attr.data_type)
        return value, tick

    def _source_number(self, live: LiveAttribute, when: float) -> float:
        assert live.source is not None
        value, _ = self._value(live.source, when)
        return float(value) if value is not None else 0.0

    def _follow(self, live: LiveAttribute, behaviour: Follows, when: float) -> Any:
        source = live.source
        assert source is not None
        if behaviour.mode == "delay":
            value = self._delayed(source, when - behaviour.lag)
            if isinstance(value, int | float) and not isinstance(value, bool):
                value = behaviour.gain * value + behaviour.offset
                return shape_number(value, live.attr.data_type)
            return value
        target = behaviour.gain * self._source_number(live, when) + behaviour.offset
        state = live.follow
        if state is None:
            state = live.follow = FollowState(when, target, target)
        elif target != state.target:
            state.retarget(when, behaviour.lag, target)
        return shape_number(state.at(when, behaviour.lag), live.attr.data_type)

    def _delayed(self, source: LiveAttribute, when: float) -> Any:
        if is_dynamic(source.attr.behaviour) or source.history is None:
            return self._value(source, when)[0]
        found = source.history[0][1]
        for stamp, value in source.history:
            if stamp > when:
                break
            found = value
        return found

    # ------------------------------------------------------------------ subscriptions

    def subscribe(self, key: AttributeKey, listener: Listener) -> Subscription:
        """Call ``listener`` with the new state whenever value or quality changes."""
        live = self._live(key)
        live.subscribers.append(listener)
        if live.published is None:
            state = self._state(live, self.now())
            live.published = (state.value, state.quality)
            live.last_boundary = self._boundary(self.now(), self.rate_of(live.attr))
        self._wake()
        return Subscription(self, live, listener)

    def subscriber_count(self) -> int:
        """How many callbacks are subscribed in total (for diagnostics and leak checks)."""
        return sum(len(live.subscribers) for live in self._lives.values())

    def _publish(self, live: LiveAttribute, now: float, *, force: bool = False) -> None:
        state = self._state(live, now)
        current = (state.value, state.quality)
        if not force and current == live.published:
            return
        live.published = current
        for listener in list(live.subscribers):
            listener(state)

    def _publish_object(self, name: str, now: float) -> None:
        for live in self._lives.values():
            if live.obj.name == name and live.subscribers:
                self._publish(live, now)

    def tick(self, now: float | None = None) -> float | None:
        """Publish every subscribed dynamic attribute whose next update is due.

        Returns the time of the next update due, or None when nothing dynamic is subscribed.
        """
        now = self.now() if now is None else now
        next_due: float | None = None
        for live in self._lives.values():
            if not live.subscribers or not is_dynamic(live.attr.behaviour):
                continue
            rate = self.rate_of(live.attr)
            tick = self._boundary(now, rate)
            if tick > live.last_boundary:
                live.last_boundary = tick
                self._publish(live, now)
            due = tick + rate
            next_due = due if next_due is None else min(next_due, due)
        return next_due

    def _wake(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()

    async def run(self) -> None:
        """Tick behaviours until cancelled; sleeps while nothing dynamic is subscribed."""
        self._wakeup = asyncio.Event()
        try:
            while True:
                due = self.tick()
                self._wakeup.clear()
                timeout = None if due is None else max(due - self.now(), 0.0) + 0.001
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), timeout)
        finally:
            self._wakeup = None

    def start(self) -> asyncio.Task[None]:
        """Start :meth:`run` as a task on the running loop (once)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.run(), name="galaxy-ticker")
        return self._task

    async def stop(self) -> None:
        """Stop the ticking task started by :meth:`start`."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _apply_value(self, live: LiveAttribute, value: Any, when: float, now: float) -> None:
        for follower in live.followers:
            behaviour = follower.attr.behaviour
            assert isinstance(behaviour, Follows)
            if behaviour.mode == "lag" and follower.follow is not None:
                target = behaviour.gain * float(value) + behaviour.offset
                follower.follow.retarget(when, behaviour.lag, target)
        live.value = value
        live.value_time = when
        live.stamp = when
        if live.history is not None:
            live.history.append((when, value))
        if is_dynamic(live.attr.behaviour):
            live.written_at = now
            if isinstance(live.attr.behaviour, Follows) and live.follow is not None:
                live.follow.value = float(value)
                live.follow.time = when
        self._publish(live, now)
