"""The live Galaxy: current value, quality and timestamp of every attribute.

One :class:`GalaxyRuntime` serves every worker of a process. Workers subscribe callbacks per
attribute; behaviours are ticked by one asyncio task (:meth:`GalaxyRuntime.run`) that sleeps
until the next update of a *subscribed* dynamic attribute, so an idle galaxy costs nothing.
Dynamic values are sampled at multiples of the update rate counted from the epoch, which is
what makes replicas in different processes agree. Tests drive :meth:`tick` with a manual
clock instead of running the task.
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

from mxgateway import MxDataType, MxStatusCategory, MxStatusSource
from mxgw_sim.galaxy.behaviours import FollowState, behaviour_value, is_dynamic, shape_number
from mxgw_sim.galaxy.changes import GalaxyChange
from mxgw_sim.galaxy.coerce import CoercionError, coerce, coerce_scalar, default_of
from mxgw_sim.galaxy.model import (
    AttributeDef,
    Classification,
    Follows,
    Galaxy,
    ObjectDef,
)
from mxgw_sim.galaxy.outcomes import (
    DETAIL_CONVERSION,
    DETAIL_NOT_DEPLOYED,
    DETAIL_ON_SCAN,
    DETAIL_READ_ONLY,
    DETAIL_SECURITY,
    WriteOutcome,
)
from mxgw_sim.galaxy.references import (
    Resolved,
    Selector,
    Unresolved,
    UnresolvedKind,
    resolve_reference,
)
from mxgw_sim.galaxy.security import WriteContext, check_write_security

__all__ = [
    "AttributeKey",
    "AttributeState",
    "Clock",
    "GalaxyControlError",
    "GalaxyRuntime",
    "Subscription",
]

#: (object full name, attribute name)
AttributeKey = tuple[str, str]
#: Returns the current Unix time in seconds.
Clock = Callable[[], float]
Listener = Callable[["AttributeState"], None]
ChangeListener = Callable[[GalaxyChange], None]

QUALITY_OUT_OF_SERVICE = 28
_HISTORY = 4096


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
class _Live:
    obj: ObjectDef
    attr: AttributeDef
    value: Any
    value_time: float
    written_at: float | None = None
    quality_override: int | None = None
    quality_time: float = 0.0
    follow: FollowState | None = None
    history: deque[tuple[float, Any]] | None = None
    followers: list[_Live] = field(default_factory=list)
    source: _Live | None = None
    subscribers: list[Listener] = field(default_factory=list)
    published: tuple[Any, int] | None = None
    last_boundary: float = -math.inf

    @property
    def key(self) -> AttributeKey:
        return (self.obj.name, self.attr.name)


@dataclass(slots=True)
class _ObjectLive:
    on_scan: bool
    deployed: bool
    connected: bool
    changed: float


class Subscription:
    """What :meth:`GalaxyRuntime.subscribe` returns; ``cancel()`` stops the callbacks."""

    def __init__(self, runtime: GalaxyRuntime, live: _Live, listener: Listener) -> None:
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


class GalaxyRuntime:
    """Live state of a :class:`Galaxy`, with writes, control operations and replication."""

    def __init__(self, galaxy: Galaxy, *, clock: Clock | None = None) -> None:
        self.galaxy = galaxy
        self.settings = galaxy.settings
        self.clock: Clock = clock or time.time
        start = self.clock()
        self._objects = {
            name: _ObjectLive(obj.on_scan, obj.deployed, obj.link.connected, start)
            for name, obj in galaxy.objects.items()
        }
        self._lives: dict[AttributeKey, _Live] = {}
        for obj, attr in galaxy.attributes():
            self._lives[(obj.name, attr.name)] = _Live(
                obj, attr, attr.value, start, quality_time=start
            )
        self._link_followers()
        self._listeners: list[ChangeListener] = []
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
        """A protobuf Timestamp for ``when``, shifted to local time when the setting says so."""
        if self.settings.timestamps == "local":
            when += self._local_offset(when)
        stamp = Timestamp()
        seconds = math.floor(when)
        stamp.seconds = seconds
        stamp.nanos = min(round((when - seconds) * 1e9), 999_999_999)
        return stamp

    def _local_offset(self, when: float) -> float:
        if self.settings.local_offset is not None:
            return self.settings.local_offset
        return float(time.localtime(when).tm_gmtoff)

    # ------------------------------------------------------------------ lookup

    def resolve(self, reference: str, context: str | None = None) -> Resolved | Unresolved:
        """Resolve an item reference (see :mod:`mxgw_sim.galaxy.references`)."""
        return resolve_reference(self.galaxy, reference, context)

    def _live(self, key: AttributeKey) -> _Live:
        try:
            return self._lives[key]
        except KeyError:
            raise GalaxyControlError(f"no attribute {key[0]}.{key[1]}") from None

    def _object_live(self, name: str) -> tuple[ObjectDef, _ObjectLive]:
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

    def _quality(self, live: _Live) -> tuple[int, float]:
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

    def _state(self, live: _Live, now: float) -> AttributeState:
        quality, quality_time = self._quality(live)
        attr = live.attr
        if not self._objects[live.obj.name].deployed:
            return AttributeState(
                live.key, None, quality, quality_time, attr.data_type, attr.is_array
            )
        value, value_time = self._value(live, now)
        return AttributeState(
            live.key, value, quality, max(value_time, quality_time), attr.data_type, attr.is_array
        )

    def _value(self, live: _Live, now: float) -> tuple[Any, float]:
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

    def _source_number(self, live: _Live, when: float) -> float:
        assert live.source is not None
        value, _ = self._value(live.source, when)
        return float(value) if value is not None else 0.0

    def _follow(self, live: _Live, behaviour: Follows, when: float) -> Any:
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

    def _delayed(self, source: _Live, when: float) -> Any:
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

    def _publish(self, live: _Live, now: float, *, force: bool = False) -> None:
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

    # ------------------------------------------------------------------ writes

    def write(self, target: Resolved, value: Any, ctx: WriteContext) -> WriteOutcome:
        """An MXAccess write: checks, coercion, then the new value is published.

        ``value`` is the decoded Python value of the written MxValue.
        """
        live = self._live(target.key)
        attr = live.attr
        state = self._objects[live.obj.name]
        if not state.deployed:
            return WriteOutcome(
                MxStatusCategory.COMMUNICATION_ERROR,
                MxStatusSource.RESPONDING_NMX,
                DETAIL_NOT_DEPLOYED,
                f"{live.obj.name} is not deployed",
            )
        if (
            not attr.writable
            or attr.classification is Classification.VIEW_ONLY
            or target.selector is Selector.QUALITY
        ):
            return WriteOutcome(
                MxStatusCategory.OPERATIONAL_ERROR,
                MxStatusSource.RESPONDING_AUTOMATION_OBJECT,
                DETAIL_READ_ONLY,
                f"{target.reference} is read-only",
            )
        security = self.check_security(target, ctx)
        if not security.ok:
            return security
        if attr.classification is Classification.CONFIGURE and state.on_scan:
            return WriteOutcome(
                MxStatusCategory.OPERATIONAL_ERROR,
                MxStatusSource.RESPONDING_AUTOMATION_OBJECT,
                DETAIL_ON_SCAN,
                f"{live.obj.name} must be off scan to write a Configure attribute",
            )
        now = self.now()
        try:
            new_value = self._merge(live, target, value, now)
        except CoercionError as exc:
            return WriteOutcome(
                MxStatusCategory.SOFTWARE_ERROR,
                MxStatusSource.RESPONDING_AUTOMATION_OBJECT,
                DETAIL_CONVERSION,
                str(exc),
            )
        when = ctx.timestamp if ctx.timestamp is not None else now
        self._apply_value(live, new_value, when, now)
        self._notify(GalaxyChange.value_change(live.key, new_value, when, attr))
        return WriteOutcome.success()

    def check_security(self, target: Resolved, ctx: WriteContext) -> WriteOutcome:
        """Galaxy security alone: success, or the SecurityError a write would complete with.

        ``ctx.supervisory`` is honoured as given (the worker applies its own setting).
        """
        verdict = check_write_security(
            self.galaxy.security,
            self._live(target.key).attr.classification,
            ctx,
            supervisory_bypass=True,
        )
        if verdict.allowed:
            return WriteOutcome.success()
        return WriteOutcome(
            MxStatusCategory.SECURITY_ERROR,
            MxStatusSource.RESPONDING_AUTOMATION_OBJECT,
            DETAIL_SECURITY,
            verdict.reason,
        )

    def _merge(self, live: _Live, target: Resolved, value: Any, now: float) -> Any:
        """The attribute's whole new value after writing ``value`` to ``target``'s part."""
        attr = live.attr
        if target.selector in (Selector.VALUE, Selector.WHOLE_ARRAY):
            return coerce(value, attr.data_type, attr.is_array)
        current = self._value(live, now)[0]
        if target.selector is Selector.ELEMENT:
            items = list(current or [])
            while len(items) < target.index:
                items.append(default_of(attr.data_type))
            items[target.index - 1] = coerce_scalar(value, attr.data_type)
            return items
        # Selector.BIT, of the value or of one element
        on = coerce_scalar(value, MxDataType.BOOLEAN)
        base = current[target.index - 1] if target.index else current
        mask = 1 << target.bit
        number = (int(base) | mask) if on else (int(base) & ~mask)
        if number >= 2**31:
            number -= 2**32
        if target.index:
            items = list(current)
            items[target.index - 1] = number
            return items
        return number

    def _apply_value(self, live: _Live, value: Any, when: float, now: float) -> None:
        for follower in live.followers:
            behaviour = follower.attr.behaviour
            assert isinstance(behaviour, Follows)
            if behaviour.mode == "lag" and follower.follow is not None:
                target = behaviour.gain * float(value) + behaviour.offset
                follower.follow.retarget(when, behaviour.lag, target)
        live.value = value
        live.value_time = when
        if live.history is not None:
            live.history.append((when, value))
        if is_dynamic(live.attr.behaviour):
            live.written_at = now
            if isinstance(live.attr.behaviour, Follows) and live.follow is not None:
                live.follow.value = float(value)
                live.follow.time = when
        self._publish(live, now)

    # ------------------------------------------------------------------ control operations

    def _resolve_control(self, reference: str) -> Resolved:
        target = self.resolve(reference)
        if isinstance(target, Unresolved) and target.kind is UnresolvedKind.BARE_ARRAY:
            target = self.resolve(reference + "[]")  # control operations may name whole arrays
        if isinstance(target, Unresolved):
            raise GalaxyControlError(f"{reference!r}: {target.reason}")
        if target.selector is Selector.QUALITY:
            raise GalaxyControlError(f"{reference!r}: set the quality with set_quality")
        return target

    def set_value(
        self,
        reference: str,
        value: Any,
        *,
        quality: int | None = None,
        timestamp: float | None = None,
    ) -> AttributeState:
        """Force a value (no security or writability checks), optionally with a quality."""
        target = self._resolve_control(reference)
        live = self._live(target.key)
        now = self.now()
        try:
            new_value = self._merge(live, target, value, now)
        except CoercionError as exc:
            raise GalaxyControlError(f"{reference!r}: {exc}") from None
        when = timestamp if timestamp is not None else now
        if quality is not None:
            live.quality_override = quality
            live.quality_time = when
        self._apply_value(live, new_value, when, now)
        self._notify(GalaxyChange.value_change(live.key, new_value, when, live.attr, quality))
        return self._state(live, now)

    def set_quality(self, reference: str, quality: int | None) -> AttributeState:
        """Override an attribute's quality (None restores the configured one)."""
        target = self._resolve_control(reference)
        if quality is not None and not 0 <= quality <= 0xFFFF:
            raise GalaxyControlError(f"quality {quality} is outside 0..65535")
        live = self._live(target.key)
        now = self.now()
        self._set_quality(live, quality, now)
        self._notify(GalaxyChange.quality_change(live.key, quality, now))
        return self._state(live, now)

    def _set_quality(self, live: _Live, quality: int | None, when: float) -> None:
        live.quality_override = quality
        live.quality_time = when
        self._publish(live, when)

    def set_scan_state(self, object_name: str, on_scan: bool) -> None:
        """Put an object on or off scan (off scan: quality 28 on all its attributes)."""
        self._set_object(object_name, "on_scan", on_scan)

    def set_deployed(self, object_name: str, deployed: bool) -> None:
        """Deploy or undeploy an object (undeployed: no value, quality 0 or 4)."""
        self._set_object(object_name, "deployed", deployed)

    def set_link(self, object_name: str, connected: bool) -> None:
        """Connect or break an object's field link (broken: its quality-on-fault, 24)."""
        self._set_object(object_name, "connected", connected)

    def _set_object(self, name: str, field_name: str, flag: bool, *, notify: bool = True) -> None:
        obj, live = self._object_live(name)
        now = self.now()
        if getattr(live, field_name) != flag:
            setattr(live, field_name, flag)
            live.changed = now
        self._publish_object(obj.name, now)
        if notify:
            self._notify(GalaxyChange.object_change(obj.name, field_name, flag, now))

    # ------------------------------------------------------------------ replication

    def add_change_listener(self, listener: ChangeListener) -> Callable[[], None]:
        """Call ``listener`` for every local write and control change; returns a remover.

        Behaviour ticks are not reported: replicas compute them themselves.
        """
        self._listeners.append(listener)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return remove

    def _notify(self, change: GalaxyChange) -> None:
        for listener in list(self._listeners):
            listener(change)

    def apply_external_change(self, change: GalaxyChange) -> None:
        """Apply a change made by a replica in another process (not reported again)."""
        now = self.now()
        if change.kind == "object":
            self._set_object(change.object, change.field, bool(change.flag), notify=False)
            return
        live = self._live((change.object, change.field))
        if change.kind == "quality":
            self._set_quality(live, change.quality, change.timestamp)
            return
        try:
            value = coerce(change.python_value(), live.attr.data_type, live.attr.is_array)
        except CoercionError as exc:
            raise GalaxyControlError(f"{change.object}.{change.field}: {exc}") from None
        if change.quality is not None:
            live.quality_override = change.quality
            live.quality_time = change.timestamp
        self._apply_value(live, value, change.timestamp, now)
