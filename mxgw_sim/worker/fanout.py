"""Data changes fanned out to every item of a worker advising the changed attribute.

A worker holds one galaxy subscription per advised attribute (:class:`Fanout`), not one per
item: a change is projected and encoded once, and each item advising the attribute gets its
event as bytes, the change's template joined with the item's handles; the whole change goes
to the event pump as one list (:meth:`~mxgw_sim.worker.events.EventPump.put_change`).
Items keep the order in which they were advised, as they had with one subscription each.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from mxgateway import MxStatusCategory, MxStatusSource
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgw_sim.galaxy.coerce import encode
from mxgw_sim.galaxy.outcomes import DETAIL_NOT_DEPLOYED
from mxgw_sim.galaxy.references import Resolved
from mxgw_sim.galaxy.runtime import AttributeKey, AttributeState, Subscription
from mxgw_sim.wire import int32_field, timestamp_field, varint
from mxgw_sim.worker.replies import status
from mxgw_sim.worker.state import Connection, Item, Projection, project

if TYPE_CHECKING:
    from mxgw_sim.worker.items import ItemCore

__all__ = ["DataChanges", "Fanout", "Membership", "handle_fields"]

_FAMILY_DATA = pb.MX_EVENT_FAMILY_ON_DATA_CHANGE
#: Field 1 (family) of a data change, the tags of fields 4 (value) and 7 (a status), and
#: field 20 (the empty OnDataChange body), as the generated classes write them.
_FAMILY_FIELD = int32_field(1, _FAMILY_DATA)
_VALUE_TAG = b"\x22"
_STATUS_TAG = b"\x3a"
_BODY_FIELD = b"\xa2\x01\x00"
#: MxValue fields 11 (int32_value, a varint) and 14 (double_value, 64 bits) on the wire.
_INT32_TAG = b"\x58"
_DOUBLE_TAG = b"\x71"
_DOUBLE = struct.Struct("<d")
#: Value types whose encoding may be reused while the same object comes again.
_IMMUTABLE = frozenset({bool, int, float, str})
#: An advised item: its connection, itself and its handle fields on the wire.
Member = tuple[Connection, Item, bytes]
#: (projection, template message, wire bytes before the handles, between the handles and
#: the sequence, after the stamps)
Template = tuple[Projection, pb.MxEvent, bytes, bytes, bytes]


@lru_cache(maxsize=65_536)
def handle_fields(server_handle: int, item_handle: int) -> bytes:
    """MxEvent fields 2 and 3 (server and item handle) on the wire."""
    return int32_field(2, server_handle) + int32_field(3, item_handle)


class Membership:
    """An item's place in a :class:`Fanout`; ``cancel()`` leaves it (idempotent)."""

    __slots__ = ("_fanout", "_item")

    def __init__(self, fanout: Fanout, item: Item) -> None:
        self._fanout = fanout
        self._item = item

    def cancel(self) -> None:
        """Stop this item's updates; the last item to leave ends the galaxy subscription."""
        self._fanout.leave(self._item)


class Fanout:
    """The items of one worker advising one attribute, behind one galaxy subscription."""

    def __init__(self, changes: DataChanges, key: AttributeKey) -> None:
        self._changes = changes
        self.key = key
        self.members: dict[int, Member] = {}
        self._subscription: Subscription = changes.core.runtime.subscribe(key, self.changed)

    def join(self, conn: Connection, item: Item) -> Membership:
        """Add ``item`` (after the items already advising)."""
        self.members[id(item)] = (conn, item, handle_fields(conn.handle, item.handle))
        return Membership(self, item)

    def leave(self, item: Item) -> None:
        """Remove ``item``; unsubscribe once no item is left."""
        if self.members.pop(id(item), None) is not None and not self.members:
            self._subscription.cancel()
            self._changes.fanouts.pop(self.key, None)

    def changed(self, state: AttributeState) -> None:
        """The galaxy's callback: one change for every member."""
        self._changes.deliver(list(self.members.values()), state)


class DataChanges:
    """Makes the data change events of one worker (see the module docstring)."""

    def __init__(self, core: ItemCore) -> None:
        self.core = core
        self.fanouts: dict[AttributeKey, Fanout] = {}
        self._last_encoded: tuple[Any, Any, bool, pb.MxValue] | None = None
        #: The last projection made: (state, selector, index, bit, projection).
        self._last_projection: tuple[AttributeState, Any, int, int, Projection] | None = None
        self._last_template: Template | None = None
        self._ok_field: tuple[pb.MxStatusProxy | None, bytes] = (None, b"")
        #: (data type, int or float) -> MxValue fields 1-5 and the value's tag.
        self._scalar_prefixes: dict[tuple[Any, type], bytes] = {}

    def subscribe(self, key: AttributeKey, conn: Connection, item: Item) -> Membership:
        """Send ``item`` the changes of attribute ``key`` from now on."""
        fanout = self.fanouts.get(key)
        if fanout is None:
            fanout = self.fanouts[key] = Fanout(self, key)
        return fanout.join(conn, item)

    def deliver(
        self, members: Iterable[Member], state: AttributeState, *, force: bool = False
    ) -> None:
        """Send each member the change to ``state`` (unless it shows nothing new).

        Without ``force`` only advised items whose type is known get it, and a suspended
        item is marked dirty instead. Buffered items collect the change for their batch.
        """
        heads: list[bytes] = []
        sent: Template | None = None
        template = self._last_template
        shape: Resolved | None = None  # the target ``shown`` was projected for
        shown: Projection | None = None
        for _conn, item, handles in members:
            if not force:
                if not item.advised or not item.type_known:
                    continue
                if item.suspended:
                    item.dirty = True
                    continue
            target = item.target
            # Items showing the same part of the state share one projection and template.
            if target is not shape:
                assert isinstance(target, Resolved)
                if (
                    shape is None
                    or target.selector is not shape.selector
                    or target.index != shape.index
                    or target.bit != shape.bit
                ):
                    shown = self._project(target, state)
                shape = target
            assert shown is not None
            last = item.last
            if (
                not force
                and last is not None
                and (
                    last is shown
                    # last.signature == shown.signature, without making the two tuples
                    or (
                        (last.value is shown.value or last.value == shown.value)
                        and last.quality == shown.quality
                    )
                )
            ):
                continue
            item.last = shown
            if template is None or template[0] is not shown:
                template = self._template(shown)
            # What ReadBulk answers from: value, quality, time and statuses.
            item.last_event = template[1]
            if item.buffered:
                item.buffer.append(shown)
                continue
            if template is not sent:
                # a new template: the handles so far go with the previous one
                if heads and sent is not None:
                    self.core.pump.put_change(sent[2], heads, sent[3], sent[4])
                    heads = []
                sent = template
            heads.append(handles)
        if heads and sent is not None:
            self.core.pump.put_change(sent[2], heads, sent[3], sent[4])

    def _project(self, target: Resolved, state: AttributeState) -> Projection:
        """What ``target`` shows of ``state``; the last projection is reused for the same
        state object and the same part of it."""
        last = self._last_projection
        if (
            last is not None
            and last[0] is state
            and last[1] is target.selector
            and last[2] == target.index
            and last[3] == target.bit
        ):
            return last[4]
        shown = project(target, state)
        self._last_projection = (state, target.selector, target.index, target.bit, shown)
        return shown

    def _template(self, shown: Projection) -> Template:
        """The change's event template, written field by field (fields 4-7; family and
        body are constants), and the message ReadBulk answers from."""
        value = self._value_bytes(shown)
        stamp = self.core.runtime.timestamp(shown.timestamp)
        common = b"".join(
            (
                _VALUE_TAG,
                varint(len(value)),
                value,
                int32_field(5, shown.quality),
                timestamp_field(6, stamp.seconds, stamp.nanos),
                self._statuses(shown),
            )
        )
        message = pb.MxEvent.FromString(_FAMILY_FIELD + common + _BODY_FIELD)
        template = self._last_template = (shown, message, _FAMILY_FIELD, common, _BODY_FIELD)
        return template

    def _statuses(self, shown: Projection) -> bytes:
        """Field 7 (the statuses) on the wire: OK, or not deployed when there is no value."""
        ok = self.core.ok_status
        if shown.value is None:
            proxy = status(
                MxStatusCategory.COMMUNICATION_ERROR,
                MxStatusSource.RESPONDING_NMX,
                detail=DETAIL_NOT_DEPLOYED,
                text="the object is not deployed",
            )
        elif self._ok_field[0] is ok:
            return self._ok_field[1]
        else:
            proxy = ok
        data = proxy.SerializeToString()
        field = _STATUS_TAG + varint(len(data)) + data
        if proxy is ok:
            self._ok_field = (ok, field)
        return field

    def _value_bytes(self, shown: Projection) -> bytes:
        """The serialized ``MxValue`` of a projection. A scalar int32 or double of a data
        type seen before is its learned fields 1-5 and the new value (``to_mx_value``
        costs about a tenth of a change); anything else goes through :meth:`_encoded`."""
        value = shown.value
        kind = type(value)
        if (kind is int or kind is float) and not shown.is_array:
            prefix = self._scalar_prefixes.get((shown.data_type, kind))
            if prefix is not None:
                if kind is float:
                    if value - value == 0.0:  # finite: NaN and infinity go the long way
                        return prefix + _DOUBLE.pack(value)
                elif -0x80000000 <= value <= 0x7FFFFFFF:
                    return prefix + varint(value)
            encoded = self._encoded(shown)
            data = encoded.SerializeToString()
            if prefix is None:
                self._learn(shown, encoded, data)
            return data
        return self._encoded(shown).SerializeToString()

    def _learn(self, shown: Projection, encoded: pb.MxValue, data: bytes) -> None:
        """Remember the fields before the value of a scalar int32 or double encoding, when
        they depend on nothing but the data type (no diagnostic, not null)."""
        value = shown.value
        field = encoded.WhichOneof("kind")
        if encoded.raw_diagnostic or encoded.is_null:
            return
        if field == "int32_value" and type(value) is int and -0x80000000 <= value <= 0x7FFFFFFF:
            tail = _INT32_TAG + varint(value)
        elif field == "double_value" and type(value) is float:
            tail = _DOUBLE_TAG + _DOUBLE.pack(value)
        else:
            return
        bare = pb.MxValue()
        bare.CopyFrom(encoded)
        bare.ClearField(field)
        prefix = bare.SerializeToString() + tail[:1]
        if prefix + tail[1:] == data:
            self._scalar_prefixes[(shown.data_type, type(value))] = prefix

    def _encoded(self, shown: Projection) -> pb.MxValue:
        """The wire value of a projection; the last one is reused when the same immutable
        value comes again."""
        value = shown.value
        last = self._last_encoded
        if (
            last is not None
            and last[0] is value
            and last[1] is shown.data_type
            and last[2] == shown.is_array
        ):
            return last[3]
        encoded = encode(value, shown.data_type, shown.is_array)
        if type(value) in _IMMUTABLE:
            self._last_encoded = (value, shown.data_type, shown.is_array, encoded)
        return encoded
