"""Typed MXAccess events over the raw ``MxEvent`` messages.

Each event is a light view holding only the raw message: every field is read from it on
access (values and timestamps are decoded only when asked for), so converting a stream costs
one small object per event, little more than iterating the raw messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias

from mxgateway._quality import Quality
from mxgateway._status import MxStatus, first_failure, statuses_from_proto
from mxgateway._types import MxDataType
from mxgateway._values import from_mx_value
from mxgateway.generated import mxaccess_gateway_pb2 as pb

__all__ = [
    "ActiveAlarm",
    "AlarmSnapshotComplete",
    "AlarmTransition",
    "BufferedDataChange",
    "DataChange",
    "Event",
    "OperationComplete",
    "ReplayGap",
    "UnknownEvent",
    "WriteComplete",
    "event_from_proto",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_new = object.__new__


def _timestamp(ts: Any) -> datetime | None:
    if not ts.seconds and not ts.nanos:
        return None
    result: datetime = _EPOCH + timedelta(seconds=ts.seconds, microseconds=ts.nanos // 1000)
    return result


class _EventBase:
    """Fields every event shares; subclasses only add accessors.

    A view over one raw message: read-only (``raw`` and every field are properties), equal to
    another event of the same class over an equal message, and unhashable like the message.
    """

    __slots__ = ("_raw",)
    _raw: pb.MxEvent

    def __init__(self, raw: pb.MxEvent, worker_sequence: int | None = None) -> None:
        if worker_sequence is not None and worker_sequence != raw.worker_sequence:
            copy = pb.MxEvent()
            copy.CopyFrom(raw)
            copy.worker_sequence = worker_sequence
            raw = copy
        self._raw = raw

    @classmethod
    def _wrap(cls, raw: pb.MxEvent) -> Any:
        event = _new(cls)
        event._raw = raw
        return event

    @property
    def raw(self) -> pb.MxEvent:
        """The raw ``MxEvent`` message."""
        return self._raw

    @property
    def worker_sequence(self) -> int:
        """The per-session worker sequence (0 for the replay-gap sentinel)."""
        return self._raw.worker_sequence

    __hash__ = None  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, _EventBase)
        return bool(self._raw == other._raw)

    @property
    def server_handle(self) -> int:
        """The MXAccess server handle the event belongs to."""
        return self._raw.server_handle

    @property
    def item_handle(self) -> int:
        """The MXAccess item handle the event belongs to."""
        return self._raw.item_handle

    @property
    def statuses(self) -> list[MxStatus]:
        """The MXAccess statuses of the event (clients read the first)."""
        return statuses_from_proto(self._raw.statuses)

    @property
    def status(self) -> MxStatus | None:
        """The first status, or None."""
        return MxStatus.from_proto(self._raw.statuses[0]) if self._raw.statuses else None

    @property
    def ok(self) -> bool:
        """True when no status reports a failure."""
        return first_failure(self.statuses) is None

    @property
    def worker_timestamp(self) -> datetime | None:
        """When the worker saw the event (UTC)."""
        return _timestamp(self._raw.worker_timestamp)

    @property
    def hresult(self) -> int | None:
        """The HRESULT the event carried, if any."""
        return self._raw.hresult if self._raw.HasField("hresult") else None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(worker_sequence={self.worker_sequence}, "
            f"server_handle={self.server_handle}, item_handle={self.item_handle}"
            f"{self._repr_extra()})"
        )

    def _repr_extra(self) -> str:
        return ""


class _ValueEvent(_EventBase):
    """An event that carries a value, a quality and a source timestamp."""

    __slots__ = ()

    @property
    def value(self) -> Any:
        """The decoded value (see ``from_mx_value``); decoded on each access."""
        return from_mx_value(self._raw.value)

    @property
    def quality(self) -> Quality:
        """The OPC DA quality."""
        return Quality(self._raw.quality)

    @property
    def timestamp(self) -> datetime | None:
        """The source timestamp (UTC)."""
        return _timestamp(self._raw.source_timestamp)

    def _repr_extra(self) -> str:
        return f", value={self.value!r}, quality={self._raw.quality}"


class DataChange(_ValueEvent):
    """OnDataChange: a new value, quality and timestamp of an advised item."""

    __slots__ = ()


class BufferedDataChange(_ValueEvent):
    """OnBufferedDataChange: a buffered update, with the buffer's data type."""

    __slots__ = ()

    @property
    def data_type(self) -> MxDataType:
        """The data type MXAccess reported for the buffer."""
        return MxDataType.from_wire(self._raw.on_buffered_data_change.data_type)


class WriteComplete(_EventBase):
    """OnWriteComplete: the outcome of a write, in its statuses."""

    __slots__ = ()

    def _repr_extra(self) -> str:
        status = self.status
        return f", status={status.describe() if status else None!r}"


class OperationComplete(_EventBase):
    """OperationComplete: another asynchronous operation finished."""

    __slots__ = ()


class AlarmTransition(_EventBase):
    """An alarm was raised, acknowledged, cleared or retriggered."""

    __slots__ = ()

    @property
    def transition(self) -> pb.OnAlarmTransitionEvent:
        """The raw transition body."""
        return self._raw.on_alarm_transition

    @property
    def alarm_full_reference(self) -> str:
        """The alarm's full reference."""
        return self._raw.on_alarm_transition.alarm_full_reference

    @property
    def kind(self) -> str:
        """``"RAISE"``, ``"ACKNOWLEDGE"``, ``"CLEAR"`` or ``"RETRIGGER"``."""
        number = self._raw.on_alarm_transition.transition_kind
        return pb.AlarmTransitionKind.Name(number).removeprefix("ALARM_TRANSITION_KIND_")

    @property
    def raw_severity(self) -> int:
        """Severity on the native MXAccess scale."""
        return self._raw.on_alarm_transition.raw_severity

    @property
    def transition_timestamp(self) -> datetime | None:
        """When the transition happened (UTC)."""
        return _timestamp(self._raw.on_alarm_transition.transition_timestamp)

    def _repr_extra(self) -> str:
        return f", alarm={self.alarm_full_reference!r}, kind={self.kind}"

    @classmethod
    def from_transition(cls, transition: pb.OnAlarmTransitionEvent) -> AlarmTransition:
        """Wrap a bare transition (from the alarm feed) in an ``MxEvent`` of its family."""
        raw = pb.MxEvent(family=pb.MX_EVENT_FAMILY_ON_ALARM_TRANSITION)
        raw.on_alarm_transition.CopyFrom(transition)
        return cls._wrap(raw)  # type: ignore[no-any-return]


class ReplayGap(_EventBase):
    """The replay-gap sentinel: events after ``requested_after_sequence`` and before
    ``oldest_available_sequence`` were evicted and are lost."""

    __slots__ = ()

    @property
    def requested_after_sequence(self) -> int:
        """The resume point the stream was asked for."""
        return self._raw.replay_gap.requested_after_sequence

    @property
    def oldest_available_sequence(self) -> int:
        """The first sequence still held; resume after ``oldest_available_sequence - 1``."""
        return self._raw.replay_gap.oldest_available_sequence

    @property
    def lost(self) -> int:
        """How many events are lost."""
        return max(0, self.oldest_available_sequence - self.requested_after_sequence - 1)

    def __repr__(self) -> str:
        return (
            f"ReplayGap(requested_after_sequence={self.requested_after_sequence}, "
            f"oldest_available_sequence={self.oldest_available_sequence})"
        )


class UnknownEvent(_EventBase):
    """An event of a family this client version does not know (a newer contract)."""

    __slots__ = ()


Event: TypeAlias = (
    DataChange
    | WriteComplete
    | OperationComplete
    | BufferedDataChange
    | AlarmTransition
    | ReplayGap
    | UnknownEvent
)

_BY_BODY: dict[str | None, type[Event]] = {
    "on_data_change": DataChange,
    "on_write_complete": WriteComplete,
    "operation_complete": OperationComplete,
    "on_buffered_data_change": BufferedDataChange,
    "on_alarm_transition": AlarmTransition,
}
_BY_FAMILY: dict[int, type[Event]] = {
    pb.MX_EVENT_FAMILY_ON_DATA_CHANGE: DataChange,
    pb.MX_EVENT_FAMILY_ON_WRITE_COMPLETE: WriteComplete,
    pb.MX_EVENT_FAMILY_OPERATION_COMPLETE: OperationComplete,
    pb.MX_EVENT_FAMILY_ON_BUFFERED_DATA_CHANGE: BufferedDataChange,
    pb.MX_EVENT_FAMILY_ON_ALARM_TRANSITION: AlarmTransition,
}


def event_from_proto(raw: pb.MxEvent) -> Event:
    """The typed event for a raw ``MxEvent`` (the sentinel becomes ``ReplayGap``).

    The body decides the type; the family only when there is no body (its numbers 1-4 are
    inferred, the body's are known).
    """
    cls = _BY_BODY.get(raw.WhichOneof("body"))
    if cls is None:
        cls = ReplayGap if raw.HasField("replay_gap") else _BY_FAMILY.get(raw.family, UnknownEvent)
    event = _new(cls)
    event._raw = raw
    return event


def events_from_protos(raws: Iterable[pb.MxEvent]) -> list[Event]:
    """``event_from_proto`` of each message, in one loop (the batched stream's hot path).

    A batch's events mostly share a body, so each message is first asked whether it has the
    previous one's (``HasField`` costs half a ``WhichOneof``); the body decides as before.
    """
    get = _BY_BODY.get
    out: list[Event] = []
    append = out.append
    body: str = "on_data_change"
    body_cls: Any = DataChange
    for raw in raws:
        if raw.HasField(body):  # type: ignore[arg-type]
            cls: Any = body_cls
        else:
            which = raw.WhichOneof("body")
            cls = get(which)
            if cls is None:
                append(event_from_proto(raw))
                continue
            body, body_cls = str(which), cls
        event = _new(cls)
        event._raw = raw
        append(event)
    return out


# --------------------------------------------------------------------------- alarm feed


@dataclass(frozen=True, slots=True, repr=False)
class ActiveAlarm:
    """An alarm active (or awaiting acknowledgement) now, from the alarm feed or a query."""

    raw: pb.ActiveAlarmSnapshot

    @property
    def alarm_full_reference(self) -> str:
        """The alarm's full reference."""
        return self.raw.alarm_full_reference

    @property
    def state(self) -> str:
        """E.g. ``"ACTIVE_UNACKNOWLEDGED"``."""
        return pb.AlarmConditionState.Name(self.raw.state).removeprefix("ALARM_CONDITION_STATE_")

    @property
    def raw_severity(self) -> int:
        """Severity on the native MXAccess scale."""
        return self.raw.raw_severity

    def __repr__(self) -> str:
        return f"ActiveAlarm(alarm={self.alarm_full_reference!r}, state={self.state})"


@dataclass(frozen=True, slots=True)
class AlarmSnapshotComplete:
    """Marks the end of the alarm feed's initial snapshot; live transitions follow."""

    active_alarm_count: int
    raw: pb.AlarmSnapshotComplete
