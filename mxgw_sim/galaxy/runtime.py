"""The live Galaxy workers share: reading (:class:`LiveGalaxy`), writes, control, replication.

One :class:`GalaxyRuntime` serves every worker of a process. Writes are checked (read-only,
security, scan state, coercion) and published to subscribers; control operations force
values, qualities and object states; every local change is reported to change listeners so
replicas in other processes can apply it with :meth:`GalaxyRuntime.apply_external_change`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from mxgateway import MxDataType, MxStatusCategory, MxStatusSource
from mxgw_sim.galaxy.changes import GalaxyChange
from mxgw_sim.galaxy.coerce import CoercionError, coerce, coerce_scalar, default_of
from mxgw_sim.galaxy.live import (
    AttributeKey,
    AttributeState,
    Clock,
    GalaxyControlError,
    LiveAttribute,
    LiveGalaxy,
    Subscription,
)
from mxgw_sim.galaxy.model import Classification, Galaxy
from mxgw_sim.galaxy.outcomes import (
    DETAIL_CONVERSION,
    DETAIL_NOT_DEPLOYED,
    DETAIL_ON_SCAN,
    DETAIL_READ_ONLY,
    DETAIL_SECURITY,
    WriteOutcome,
)
from mxgw_sim.galaxy.references import Resolved, Selector, Unresolved, UnresolvedKind
from mxgw_sim.galaxy.security import WriteContext, check_write_security

__all__ = [
    "AttributeKey",
    "AttributeState",
    "Clock",
    "GalaxyControlError",
    "GalaxyRuntime",
    "Subscription",
]

ChangeListener = Callable[[GalaxyChange], None]


class GalaxyRuntime(LiveGalaxy):
    """Live state of a :class:`Galaxy`, with writes, control operations and replication."""

    def __init__(self, galaxy: Galaxy, *, clock: Clock | None = None) -> None:
        super().__init__(galaxy, clock=clock)
        self._listeners: list[ChangeListener] = []

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
        if self._listeners:  # the change record encodes the value: only when someone listens
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

    def _merge(self, live: LiveAttribute, target: Resolved, value: Any, now: float) -> Any:
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

    def _set_quality(self, live: LiveAttribute, quality: int | None, when: float) -> None:
        live.quality_override = quality
        live.quality_time = when
        live.stamp = when
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
