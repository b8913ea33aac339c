"""What a worker holds per MXAccess connection: items, advise state and signed-in users."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol

from mxgateway import MxDataType
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgw_sim.galaxy.coerce import default_of
from mxgw_sim.galaxy.model import User
from mxgw_sim.galaxy.references import Resolved, Selector, Unresolved
from mxgw_sim.galaxy.runtime import AttributeState

__all__ = ["Connection", "Item", "Projection", "project"]


class Cancellable(Protocol):
    """An item's subscription to its attribute's changes."""

    def cancel(self) -> None:
        """Stop the updates (idempotent)."""


@dataclass(frozen=True, slots=True)
class Projection:
    """What one item shows of an attribute state: its value (None = no data) and quality."""

    value: Any
    quality: int
    timestamp: float
    data_type: MxDataType
    is_array: bool

    @property
    def signature(self) -> tuple[Any, int]:
        """Value and quality: a data change is sent when this changes."""
        return (self.value, self.quality)


def project(target: Resolved, state: AttributeState) -> Projection:
    """The part of ``state`` that ``target`` (element, bit, .Quality...) shows."""
    selector = target.selector
    if selector is Selector.QUALITY:
        return Projection(state.quality, 192, state.timestamp, MxDataType.INTEGER, False)
    value = state.value
    data_type = state.data_type
    if value is not None and target.index:
        items = list(value)
        value = items[target.index - 1] if target.index <= len(items) else default_of(data_type)
    if selector is Selector.BIT:
        return Projection(
            None if value is None else bool((int(value) >> target.bit) & 1),
            state.quality,
            state.timestamp,
            MxDataType.BOOLEAN,
            False,
        )
    return Projection(
        value, state.quality, state.timestamp, data_type, selector is Selector.WHOLE_ARRAY
    )


@dataclass(slots=True)
class Item:
    """An item added to a connection, and its advise state."""

    handle: int
    reference: str
    context: str | None
    target: Resolved | Unresolved
    buffered: bool = False
    advised: bool = False
    supervisory: bool = False
    suspended: bool = False
    #: The first data change was delivered, so MXAccess knows the item's type.
    type_known: bool = False
    #: Something changed while suspended.
    dirty: bool = False
    subscription: Cancellable | None = None
    initial_task: asyncio.Task[None] | None = None
    last: Projection | None = None
    #: The last data change event sent (what ReadBulk returns from cache).
    last_event: pb.MxEvent | None = None
    buffer: list[Projection] = field(default_factory=list)

    def release(self) -> None:
        """Stop updates: cancel the runtime subscription and a pending initial data change."""
        if self.subscription is not None:
            self.subscription.cancel()
            self.subscription = None
        if self.initial_task is not None:
            self.initial_task.cancel()
            self.initial_task = None
        self.advised = False
        self.suspended = False
        self.buffer.clear()


@dataclass(slots=True)
class Connection:
    """One Register: a server handle with its items and authenticated users."""

    handle: int
    client_name: str
    buffered_interval: float
    items: dict[int, Item] = field(default_factory=dict)
    users: dict[int, User] = field(default_factory=dict)
    advised_once: bool = False
    next_item: int = 1
    flush_task: asyncio.Task[None] | None = None
    #: Every handle below this one is in use (so the search for the lowest free one starts
    #: here, not at 1: adding 10,000 items stays linear, not quadratic).
    free_from: int = 1

    def allocate_item(self, reuse: bool) -> int:
        """Next item handle: counting from 1, the lowest free one when ``reuse``."""
        if reuse:
            handle = self.free_from
            while handle in self.items:
                handle += 1
            self.free_from = handle + 1
            return handle
        handle = self.next_item
        self.next_item += 1
        return handle

    def release_item(self, handle: int) -> None:
        """Forget an item handle (it becomes the lowest free one if it is lower)."""
        del self.items[handle]
        self.free_from = min(self.free_from, handle)

    def release_all(self) -> None:
        """Forget every item handle."""
        self.items.clear()
        self.free_from = 1

    def advised_count(self) -> int:
        """How many items are advised."""
        return sum(1 for item in self.items.values() if item.advised)
