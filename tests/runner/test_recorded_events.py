"""The recorder reads an event's fields from the client event only when asked, and what it
shows is exactly what an eagerly adapted event shows (reports and failure text unchanged)."""

from __future__ import annotations

from datetime import UTC, datetime

from mxgateway import to_mx_value
from mxgateway._events import event_from_proto
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgw_runner.engine.recorder import observe
from mxgw_runner.matching import EventExpectation, MatchContext, ObservedEvent, ObservedStatus, scan

ARRIVED = datetime(2026, 11, 26, 12, 0, 1, tzinfo=UTC)
SOURCE = datetime(2026, 11, 26, 12, 0, 0, 250000, tzinfo=UTC)


def raw_change(seq: int, value: object, quality: int = 192) -> pb.MxEvent:
    raw = pb.MxEvent(
        family=pb.MX_EVENT_FAMILY_ON_DATA_CHANGE,
        server_handle=1,
        item_handle=2,
        value=to_mx_value(value),
        quality=quality,
        worker_sequence=seq,
        on_data_change=pb.OnDataChangeEvent(),
        statuses=[pb.MxStatusProxy(success=-1, category=pb.MX_STATUS_CATEGORY_OK)],
    )
    raw.source_timestamp.FromDatetime(SOURCE)
    return raw


def test_a_recorded_change_reads_like_an_eager_one() -> None:
    recorded = observe(
        event_from_proto(raw_change(4, 41.5, 0)), "pv", now_wall=ARRIVED, now_mono=3.0
    )
    ok = ObservedStatus(-1, "Ok", "Unspecified", 0)
    eager = ObservedEvent("data-change", "pv", 41.5, 0, SOURCE, (ok,), 3.0, ARRIVED, 4)
    assert recorded == eager and eager == recorded
    assert recorded is not None
    assert recorded.describe() == eager.describe()
    assert recorded.to_dict() == eager.to_dict()
    assert repr(recorded) == repr(eager)
    masked = recorded.replace(value="***")
    assert masked.value == "***" and masked.item == "pv" and recorded.value == 41.5


def test_a_recorded_write_completion_has_no_value() -> None:
    raw = pb.MxEvent(
        family=pb.MX_EVENT_FAMILY_ON_WRITE_COMPLETE,
        server_handle=1,
        item_handle=2,
        worker_sequence=5,
        on_write_complete=pb.OnWriteCompleteEvent(),
        statuses=[
            pb.MxStatusProxy(
                success=0,
                category=pb.MX_STATUS_CATEGORY_SECURITY_ERROR,
                detected_by=pb.MX_STATUS_SOURCE_RESPONDING_AUTOMATION_OBJECT,
                detail=7,
            )
        ],
    )
    recorded = observe(event_from_proto(raw), "sp", now_wall=ARRIVED, now_mono=1.0)
    assert recorded is not None
    assert (recorded.kind, recorded.value, recorded.quality, recorded.source_timestamp) == (
        "write-complete",
        None,
        None,
        None,
    )
    assert [s.category for s in recorded.statuses] == ["SecurityError"]
    assert not recorded.statuses[0].ok


def test_a_failed_scan_over_recorded_events_explains_the_closest() -> None:
    events = [
        observe(event_from_proto(raw_change(n, v)), "pv", now_wall=ARRIVED, now_mono=float(n))
        for n, v in enumerate([10, 40.9, 30], start=1)
    ]
    recorded = [e for e in events if e is not None]
    eager = [e.replace() for e in recorded]
    expectation = EventExpectation.from_params(
        {"item": "pv", "data-change": {"value": {"approx": 42.5, "tolerance": 0.5}}}
    )
    lazy_result = scan(recorded, 0, expectation, MatchContext(), final=True)
    eager_result = scan(eager, 0, expectation, MatchContext(), final=True)
    assert lazy_result.status == "failed" == eager_result.status
    assert lazy_result.message == eager_result.message
    assert lazy_result.closest is not None and lazy_result.closest.event.value == 40.9


def test_the_recorder_keeps_raw_messages_that_read_like_eager_events() -> None:
    from mxgw_runner.engine.recorder import Recorder

    write_done = pb.MxEvent(
        family=pb.MX_EVENT_FAMILY_ON_WRITE_COMPLETE,
        server_handle=1,
        item_handle=3,
        worker_sequence=3,
        on_write_complete=pb.OnWriteCompleteEvent(),
        statuses=[pb.MxStatusProxy(success=-1, category=pb.MX_STATUS_CATEGORY_OK)],
    )
    alarm = pb.MxEvent(worker_sequence=4, on_alarm_transition=pb.OnAlarmTransitionEvent())
    gap = pb.MxEvent(
        replay_gap=pb.ReplayGap(requested_after_sequence=4, oldest_available_sequence=7)
    )
    family_only = pb.MxEvent(
        family=pb.MX_EVENT_FAMILY_ON_DATA_CHANGE,
        server_handle=1,
        item_handle=2,
        worker_sequence=8,
        value=to_mx_value("text"),
    )
    first = [raw_change(1, 10), raw_change(2, 41.5, 0), write_done]
    second = [raw_change(2, 99), alarm, gap, raw_change(7, [1, 2]), family_only]
    aliases = {(1, 2): "pv", (1, 3): "sp"}
    recorder = Recorder(lambda after: None, lambda server, item: aliases[(server, item)])
    recorder._take_all(first)
    recorder._take_all(second)
    kept = [first[0], first[1], write_done, second[3], family_only]
    recorded = list(recorder.events)
    assert [e.worker_sequence for e in recorded] == [1, 2, 3, 7, 8]  # 2 again: not twice
    for got, raw in zip(recorded, kept, strict=True):
        want = observe(
            event_from_proto(raw),
            aliases[(1, raw.item_handle)],
            now_wall=got.arrival_wall or ARRIVED,
            now_mono=got.arrival_monotonic,
        )
        assert want is not None
        eager = want.replace()  # every field read once, as an eagerly built event holds them
        assert got == eager and got.describe() == eager.describe()
        assert got.to_dict() == eager.to_dict() and repr(got) == repr(eager)
    assert [(g.index, g.lost, g.requested_after, g.oldest_available) for g in recorder.gaps] == [
        (3, 2, 4, 7)
    ]
    assert recorder.last_sequence == 8
