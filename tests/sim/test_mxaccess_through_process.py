"""MXACCESS.md through a real ``mxgw-sim`` process: every failure row, every security
classification and every behaviour, as the public ``mxgateway`` client sees them.

The worker-level tests (``test_worker_*.py``) prove the rules on the worker object; these
prove that the same answers survive the gateway front, the wire and the typed client.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from simsupport import Connect, SimFactory, assert_no_sessions, control

from mxgateway import (
    BufferedDataChange,
    DataChange,
    Event,
    MxAccessFailureError,
    MxStatusCategory,
    MxStatusSource,
    OperationComplete,
    SessionFaultedError,
    SessionState,
    WorkerUnavailableError,
    WriteComplete,
    to_mx_value,
)
from mxgateway._client import GatewayClient
from mxgateway._session import Session
from mxgw_sim.generated import mxgw_sim_control_pb2 as cpb
from mxgw_sim.testing import ADMIN_KEY, SimProcess

WAIT = 10.0  # seconds: the bound of every wait on an event
E_INVALIDARG = 0x80070057

Cat = MxStatusCategory
Src = MxStatusSource


class Watch:
    """The typed event stream of one session, collected by a background task, so a test
    can wait for the first event matching a condition (never sleeping on a guess)."""

    def __init__(self, session: Session) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Condition()
        self._stream = session.events()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for event in self._stream:
            async with self._changed:
                self.events.append(event)
                self._changed.notify_all()

    async def wait(
        self, condition: Callable[[Event], bool], *, after: int = 0, limit: float = WAIT
    ) -> Event:
        """The first event (from index ``after``) for which ``condition`` holds."""

        async def find() -> Event:
            async with self._changed:
                seen = after
                while True:
                    for event in self.events[seen:]:
                        if condition(event):
                            return event
                    seen = max(seen, len(self.events))
                    if self._task.done():
                        self._task.result()
                        raise AssertionError("the event stream ended")
                    await self._changed.wait()

        return await asyncio.wait_for(find(), limit)

    async def change(self, item: int, *, after: int = 0, **match: Any) -> DataChange:
        """The first data change of ``item`` (optionally with a given ``value``)."""

        def fits(e: Event) -> bool:
            return (
                isinstance(e, DataChange)
                and e.item_handle == item
                and all(getattr(e, k) == v for k, v in match.items())
            )

        event = await self.wait(fits, after=after)
        assert isinstance(event, DataChange)
        return event

    async def completion(self, item: int, *, after: int = 0) -> WriteComplete:
        """The final (not Pending) write completion of ``item``."""

        def fits(e: Event) -> bool:
            return (
                isinstance(e, WriteComplete)
                and e.item_handle == item
                and (e.status is None or e.status.category is not Cat.PENDING)
            )

        event = await self.wait(fits, after=after)
        assert isinstance(event, WriteComplete)
        return event

    def mark(self) -> int:
        """The index the next event will get (for ``after=``)."""
        return len(self.events)

    async def close(self) -> None:
        """Cancel the stream and its task."""
        self._stream.cancel()
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


@pytest.fixture
async def session(client: GatewayClient) -> AsyncIterator[Session]:
    """An open session of the shared simulator, closed after the test (leak-checked)."""
    opened = await client.open_session("mxaccess")
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def watch(session: Session) -> AsyncIterator[Watch]:
    """The session's event stream, collected."""
    watching = Watch(session)
    try:
        yield watching
    finally:
        await watching.close()


async def subscribe(
    session: Session, watch: Watch, handle: int, ref: str
) -> tuple[int, DataChange]:
    """AddItem + Advise ``ref``; returns the item handle and its initial data change."""
    item = await session.add_item(handle, ref)
    await session.advise(handle, item)
    return item, await watch.change(item)


def assert_status(
    event: Any, category: MxStatusCategory, source: MxStatusSource, detail: int | None = None
) -> None:
    """``event``'s first status has this category, detected-by and (when given) detail."""
    status = event.status
    assert status is not None, event
    assert (status.category, status.detected_by) == (category, source), status
    if detail is not None:
        assert status.detail == detail, status
    assert (status.success == 0) == category.is_error, status


def set_value(sim: SimProcess, reference: str, value: Any, type: str | None = None) -> None:
    """Force a value through the control service."""
    control(
        sim, "SetValue", cpb.SetValueRequest(reference=reference, value=to_mx_value(value, type))
    )


# --------------------------------------------------------------------------- failure rows


async def test_typo_adds_then_fails_after_advise(session: Session, watch: Watch) -> None:
    handle = await session.register("typo")
    item = await session.add_item(handle, "Pump101.Speedd.SP")  # AddItem succeeds
    assert item > 0
    await session.advise(handle, item)
    event = await watch.change(item)
    assert not event.ok
    assert_status(event, Cat.CONFIGURATION_ERROR, Src.RESPONDING_LMX, 1001)
    assert event.quality.is_bad and event.quality.value == 4


@pytest.mark.parametrize(
    ("reference", "quality", "category", "detail"),
    [
        ("Tank02.Level.PV", 0, Cat.COMMUNICATION_ERROR, 1004),  # undeployed object
        ("Field01.Flow.PV", 24, Cat.OK, None),  # field link broken
        ("Pump103.Speed.SP", 28, Cat.OK, None),  # object off scan
    ],
    ids=["undeployed", "link-broken", "off-scan"],
)
async def test_bad_quality_rows(
    session: Session,
    watch: Watch,
    reference: str,
    quality: int,
    category: MxStatusCategory,
    detail: int | None,
) -> None:
    handle = await session.register("quality")
    _, event = await subscribe(session, watch, handle, reference)
    assert event.quality.value & 0xFF == quality
    assert event.quality.is_bad
    assert event.status is not None and event.status.category is category
    if detail is not None:
        assert event.status.detail == detail
        assert not event.ok


async def test_set_scan_off_gives_quality_28_and_on_restores(
    session: Session, watch: Watch, sim: SimProcess
) -> None:
    handle = await session.register("scan")
    item, initial = await subscribe(session, watch, handle, "Pump101.Mode")
    assert initial.quality.is_good
    mark = watch.mark()
    control(sim, "SetScan", cpb.SetScanRequest(object="Pump101", on_scan=False))
    off = await watch.change(item, after=mark)
    assert off.quality.value & 0xFF == 28 and off.value == 1
    mark = watch.mark()
    control(sim, "SetScan", cpb.SetScanRequest(object="Pump101", on_scan=True))
    on = await watch.change(item, after=mark)
    assert on.quality.is_good


async def test_write_before_first_data_change_is_invalid_argument(
    session: Session, watch: Watch
) -> None:
    handle = await session.register("early")
    item = await session.add_item(handle, "Pump102.Free")  # not advised yet
    with pytest.raises(MxAccessFailureError) as refused:
        await session.write(handle, item, 5, type="Integer")
    error = refused.value
    assert error.protocol_code_name == "MXACCESS_FAILURE"
    assert error.operation == "Write"
    assert error.hresult & 0xFFFFFFFF == E_INVALIDARG
    assert error.reply.hresult == error.hresult  # the whole reply is kept
    assert (error.category, error.detected_by) == (Cat.OTHER_ERROR, Src.REQUESTING_LMX)
    assert "first data change" in str(error)
    assert watch.events == []  # refused by Write itself: no completion follows
    await session.advise(handle, item)
    await watch.change(item)
    mark = watch.mark()
    await session.write(handle, item, 5, type="Integer")  # now the type is known
    assert (await watch.completion(item, after=mark)).ok


@pytest.mark.parametrize(
    ("reference", "detail"),
    [("Pump102.ReadOnly", 902), ("Pump102.ViewOnly", 902), ("Pump101.RunHours", 902)],
)
async def test_write_to_read_only_or_view_only_is_operational_error(
    session: Session, watch: Watch, reference: str, detail: int
) -> None:
    handle = await session.register("readonly")
    engineer = await session.authenticate_user(handle, "engineer", "engineer1")
    item, _ = await subscribe(session, watch, handle, reference)
    mark = watch.mark()
    await session.write(handle, item, 1, user_id=engineer)
    done = await watch.completion(item, after=mark)
    assert_status(done, Cat.OPERATIONAL_ERROR, Src.RESPONDING_AUTOMATION_OBJECT, detail)
    assert not any(isinstance(e, DataChange) for e in watch.events[mark:])  # unchanged


async def test_authenticate_with_wrong_password_gives_zero(session: Session) -> None:
    handle = await session.register("auth")
    assert await session.authenticate_user(handle, "operator", "wrong") == 0
    assert await session.authenticate_user(handle, "nobody", "x") == 0
    assert await session.authenticate_user(handle, "operator", "operator1") > 0


@pytest.mark.parametrize("user", ["none", "unauthenticated-id", "without-permission"])
async def test_secured_write_with_missing_user_is_security_error(
    session: Session, watch: Watch, user: str
) -> None:
    handle = await session.register("secured")
    item, _ = await subscribe(session, watch, handle, "Pump102.Secured")
    user_id = {"none": 0, "unauthenticated-id": 4242}.get(user)
    if user_id is None:  # operator has no secured-write permission
        user_id = await session.authenticate_user(handle, "operator", "operator1")
        assert user_id > 0
    mark = watch.mark()
    await session.write_secured(handle, item, 5, current_user_id=user_id, verifier_user_id=user_id)
    done = await watch.completion(item, after=mark)
    assert_status(done, Cat.SECURITY_ERROR, Src.RESPONDING_AUTOMATION_OBJECT, 321)


@pytest.mark.parametrize(
    ("reference", "value"),
    [("Types.Int", "not a number"), ("Types.Int", 1e12), ("Types.Time", 12.5)],
    ids=["text", "out-of-range", "number-into-time"],
)
async def test_unconvertible_value_is_software_error(
    session: Session, watch: Watch, reference: str, value: Any
) -> None:
    handle = await session.register("convert")
    item, _ = await subscribe(session, watch, handle, reference)
    mark = watch.mark()
    await session.write(handle, item, value)
    done = await watch.completion(item, after=mark)
    assert_status(done, Cat.SOFTWARE_ERROR, Src.RESPONDING_AUTOMATION_OBJECT, 1002)


async def test_worker_process_death_faults_the_session(
    sim_factory: SimFactory, connect: Connect
) -> None:
    server = sim_factory("--worker-process")
    gateway = await connect(server)
    session = await gateway.open_session("dies")
    watch = Watch(session)
    try:
        handle = await session.register("dies")
        await subscribe(session, watch, handle, "Pump102.Free")
        (info,) = server.list_sessions(ADMIN_KEY)
        assert info.worker_pid > 0
        control(server, "KillWorker", cpb.SessionSelector(session_id=session.session_id))
        faulted = await asyncio.wait_for(_faulted(server, session.session_id), WAIT)
        assert "killed" in faulted.fault_message
        with pytest.raises((WorkerUnavailableError, SessionFaultedError)):
            await session.register("after")  # its handles are gone with it
    finally:
        await watch.close()
        await session.close()
    assert_no_sessions(server)


async def _faulted(server: SimProcess, session_id: str) -> cpb.SessionInfo:
    while True:
        for info in await asyncio.to_thread(server.list_sessions, ADMIN_KEY):
            if (
                info.session_id == session_id
                and SessionState.from_wire(info.state) is SessionState.FAULTED
            ):
                return info
        await asyncio.sleep(0.05)


# --------------------------------------------------------------------------- security

USERS = {
    "operator": "operator1",
    "operator2": "operator2",
    "supervisor": "supervisor1",
    "engineer": "engineer1",
}


@pytest.mark.parametrize(
    ("reference", "secured", "allowed", "refused", "refusal"),
    [
        ("Pump102.Free", False, (None, None), None, None),
        ("Pump102.Operate", False, ("operator", None), (None, None), Cat.SECURITY_ERROR),
        (
            "Pump102.Secured",
            True,
            ("operator2", "operator2"),
            ("operator", "operator"),
            Cat.SECURITY_ERROR,
        ),
        (
            "Pump102.Verified",
            True,
            ("operator2", "supervisor"),
            ("operator2", "operator2"),
            Cat.SECURITY_ERROR,
        ),
        ("Tank01.Level.HiLimit", False, ("engineer", None), ("operator", None), Cat.SECURITY_ERROR),
        ("Pump103.MaxSpeed", False, ("engineer", None), ("operator", None), Cat.SECURITY_ERROR),
        ("Pump102.Configure", False, None, ("engineer", None), Cat.OPERATIONAL_ERROR),
        ("Pump102.ViewOnly", False, None, ("engineer", None), Cat.OPERATIONAL_ERROR),
    ],
    ids=[
        "FreeAccess",
        "Operate",
        "SecuredWrite",
        "VerifiedWrite",
        "Tune",
        "Configure-off-scan",
        "Configure-on-scan",
        "ViewOnly",
    ],
)
async def test_security_classification(
    session: Session,
    watch: Watch,
    reference: str,
    secured: bool,
    allowed: tuple[str | None, str | None] | None,
    refused: tuple[str | None, str | None] | None,
    refusal: MxStatusCategory | None,
) -> None:
    handle = await session.register("security")
    ids = {
        name: await session.authenticate_user(handle, name, password)
        for name, password in USERS.items()
    }
    assert all(ids.values())
    item, initial = await subscribe(session, watch, handle, reference)

    async def attempt(users: tuple[str | None, str | None], value: int) -> WriteComplete:
        user, verifier = (ids[u] if u else 0 for u in users)
        mark = watch.mark()
        if secured:
            await session.write_secured(
                handle, item, value, current_user_id=user, verifier_user_id=verifier
            )
        else:
            await session.write(handle, item, value, user_id=user)
        return await watch.completion(item, after=mark)

    if refused is not None:
        assert refusal is not None
        bad = await attempt(refused, 11)
        assert_status(bad, refusal, Src.RESPONDING_AUTOMATION_OBJECT)
    if allowed is not None:
        good = await attempt(allowed, 12)
        assert good.ok, good.status
        changed = await watch.change(item, value=12)  # the value really changed
        assert changed.quality.value == initial.quality.value  # off scan stays 28


# --------------------------------------------------------------------------- behaviours


async def test_advise_sends_one_initial_data_change(session: Session, watch: Watch) -> None:
    handle = await session.register("initial")
    item, event = await subscribe(session, watch, handle, "Types.Int")
    assert event.ok and event.value == 42 and event.quality.is_good
    assert event.timestamp is not None and event.timestamp.tzinfo is not None
    await session.add_item(handle, "Types.Double")  # declared, never advised
    string_item, _ = await subscribe(session, watch, handle, "Types.String")
    assert [e.item_handle for e in watch.events if isinstance(e, DataChange)] == [
        item,
        string_item,
    ]


async def test_data_changes_only_for_advised_items(
    session: Session, watch: Watch, sim: SimProcess
) -> None:
    handle = await session.register("advised-only")
    quiet = await session.add_item(handle, "Types.Double")  # declared, never advised
    item, _ = await subscribe(session, watch, handle, "Types.Int")
    barrier, _ = await subscribe(session, watch, handle, "Types.String")
    mark = watch.mark()
    set_value(sim, "Types.Double", 9.5, "Double")
    set_value(sim, "Types.Int", 43, "Integer")
    set_value(sim, "Types.String", "one", "String")  # the barrier: advised, set last
    await watch.change(barrier, value="one", after=mark)
    assert [e.item_handle for e in watch.events[mark:]] == [item, barrier]
    assert all(e.item_handle != quiet for e in watch.events)
    await session.unadvise(handle, item)  # unadvised: quiet from now on
    mark = watch.mark()
    set_value(sim, "Types.Int", 44, "Integer")
    set_value(sim, "Types.String", "two", "String")
    await watch.change(barrier, value="two", after=mark)
    assert [e.item_handle for e in watch.events[mark:]] == [barrier]


async def test_follows_write_sp_and_pv_approaches(session: Session, watch: Watch) -> None:
    handle = await session.register("follows")
    operator = await session.authenticate_user(handle, "operator", "operator1")
    sp, _ = await subscribe(session, watch, handle, "Pump101.Speed.SP")
    pv, first = await subscribe(session, watch, handle, "Pump101.Speed.PV")
    assert first.value == pytest.approx(0.0)
    mark = watch.mark()
    await session.write(handle, sp, 50.0, user_id=operator)
    assert (await watch.completion(sp, after=mark)).ok
    moving = await watch.change(pv, after=mark)
    assert 0.0 < moving.value <= 50.0
    later = await watch.wait(
        lambda e: isinstance(e, DataChange) and e.item_handle == pv and e.value > moving.value,
        after=watch.events.index(moving) + 1,
    )
    assert isinstance(later, DataChange) and later.value <= 50.0


@pytest.mark.parametrize(
    "reference",
    ["Tank01.Level.PV", "Pump101.Motor.Temperature", "Pump101.Vibration"],
    ids=["ramp", "sine", "random-walk"],
)
async def test_dynamic_behaviour_changes_value(
    session: Session, watch: Watch, reference: str
) -> None:
    handle = await session.register("dynamic")
    item, first = await subscribe(session, watch, handle, reference)
    await watch.wait(
        lambda e: isinstance(e, DataChange) and e.item_handle == item and e.value != first.value
    )


async def test_toggle_changes_value(
    sim_factory: SimFactory, connect: Connect, tmp_path: Path
) -> None:
    # The default galaxy toggles every 30 s; a galaxy of its own toggles every 200 ms.
    galaxy = tmp_path / "toggle.yaml"
    galaxy.write_text(
        "version: 1\nname: Toggle\nareas:\n  - name: A\n    objects:\n      - name: Blink\n"
        "        attributes:\n          - name: Lamp\n            type: boolean\n"
        "            update-rate: 100ms\n            behaviour: {toggle: {period: 200ms}}\n",
        encoding="utf-8",
    )
    server = sim_factory("--galaxy", str(galaxy))
    gateway = await connect(server)
    async with await gateway.open_session("toggle") as session:
        watch = Watch(session)
        try:
            handle = await session.register("toggle")
            item, first = await subscribe(session, watch, handle, "Blink.Lamp")
            assert isinstance(first.value, bool)
            flipped = await watch.wait(
                lambda e: (
                    isinstance(e, DataChange)
                    and e.item_handle == item
                    and e.value is not first.value
                )
            )
            assert isinstance(flipped, DataChange) and flipped.value == (not first.value)
        finally:
            await watch.close()
    assert_no_sessions(server)


async def test_suspend_and_activate(session: Session, watch: Watch, sim: SimProcess) -> None:
    handle = await session.register("suspend")
    item, _ = await subscribe(session, watch, handle, "Types.Int")
    barrier, _ = await subscribe(session, watch, handle, "Types.String")
    mark = watch.mark()
    await session.suspend(handle, item)
    await watch.wait(
        lambda e: isinstance(e, OperationComplete) and e.item_handle == item, after=mark
    )
    set_value(sim, "Types.Int", 50, "Integer")
    set_value(sim, "Types.String", "after-suspend", "String")
    await watch.change(barrier, value="after-suspend", after=mark)
    assert not any(isinstance(e, DataChange) and e.item_handle == item for e in watch.events[mark:])
    mark = watch.mark()
    await session.activate(handle, item)
    resumed = await watch.change(item, after=mark)  # Activate re-sends the current value
    assert resumed.value == 50
    set_value(sim, "Types.Int", 51, "Integer")
    await watch.change(item, value=51, after=mark)


async def test_buffered_item_delivers_buffered_data_changes(
    session: Session, watch: Watch, sim: SimProcess
) -> None:
    handle = await session.register("buffered")
    await session.set_buffered_update_interval(handle, 100)
    item = await session.add_buffered_item(handle, "Types.Int")
    await session.advise(handle, item)
    mark = watch.mark()
    for value in (61, 62, 63):
        set_value(sim, "Types.Int", value, "Integer")

    def holds_last(e: Event) -> bool:
        return (
            isinstance(e, BufferedDataChange)
            and e.item_handle == item
            and isinstance(e.value, list)
            and 63 in e.value
        )

    batch = await watch.wait(holds_last, after=mark)
    assert isinstance(batch, BufferedDataChange)
    assert batch.quality.is_good
    values = [
        v
        for e in watch.events[mark:]
        if isinstance(e, BufferedDataChange) and e.item_handle == item
        for v in e.value
    ]
    assert [v for v in values if v in (61, 62, 63)] == [61, 62, 63]  # in order


@pytest.mark.parametrize(("written", "stored"), [(2.5, 2), (3.5, 4), (7.4, 7), ("17", 17)])
async def test_written_value_is_coerced_to_the_attribute_type(
    session: Session, watch: Watch, written: Any, stored: int
) -> None:
    handle = await session.register("coerce")
    item, _ = await subscribe(session, watch, handle, "Types.Int")
    mark = watch.mark()
    await session.write(handle, item, written)
    changed = await watch.change(item, after=mark)
    assert changed.value == stored and isinstance(changed.value, int)
    assert (await watch.completion(item, after=mark)).ok


async def test_bare_array_name_is_communication_error_1003(session: Session, watch: Watch) -> None:
    handle = await session.register("array")
    item, event = await subscribe(session, watch, handle, "Types.IntArray")
    assert event.status is not None and not event.ok
    assert (event.status.category, event.status.detail) == (Cat.COMMUNICATION_ERROR, 1003)
    assert event.item_handle == item
    _, whole = await subscribe(session, watch, handle, "Types.IntArray[]")  # brackets work
    assert whole.ok and list(whole.value) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    "when",
    [
        pytest.param("ahead", id="after-start"),
        pytest.param("back-dated", id="before-start"),
    ],
)
async def test_write2_timestamp_becomes_the_source_timestamp(
    session: Session, watch: Watch, when: str
) -> None:
    handle = await session.register("write2")
    item, _ = await subscribe(session, watch, handle, "Types.Int")
    if when == "ahead":
        stamp = datetime.now(UTC).replace(microsecond=250000) + timedelta(days=1)
    else:
        stamp = datetime(2026, 1, 2, 5, 6, 7, 250000, tzinfo=UTC)
    mark = watch.mark()
    await session.write2(handle, item, 77, stamp)
    changed = await watch.change(item, value=77, after=mark)
    assert (await watch.completion(item, after=mark)).ok
    assert changed.timestamp == stamp


async def test_bulk_subscribe_and_write_keep_input_order(session: Session, watch: Watch) -> None:
    handle = await session.register("bulk")
    refs = ["Types.Int", "Pump101.Speedd.SP", "Types.Double", "Types.String"]
    results = await session.subscribe_bulk(handle, refs)
    assert [r.tag_address for r in results] == refs
    assert all(r.was_successful for r in results)  # a typo shows only in its data change
    handles = [r.item_handle for r in results]
    assert len(set(handles)) == 4
    for h in handles:
        await watch.change(h)
    typo = await watch.change(handles[1])
    assert_status(typo, Cat.CONFIGURATION_ERROR, Src.RESPONDING_LMX, 1001)
    mark = watch.mark()
    writes = await session.write_bulk(
        handle,
        [(handles[3], "bulk"), (9999, 1), (handles[0], 5), (handles[2], 1.5)],
    )
    assert [w.item_handle for w in writes] == [handles[3], 9999, handles[0], handles[2]]
    assert [w.was_successful for w in writes] == [True, False, True, True]
    assert writes[1].error_message
    for h, value in ((handles[3], "bulk"), (handles[0], 5), (handles[2], 1.5)):
        await watch.change(h, value=value, after=mark)
        assert (await watch.completion(h, after=mark)).ok
