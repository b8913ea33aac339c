"""Workers as child processes (--worker-process): real crashes, heartbeats, replication,
and the pipe contract's framing and envelope checks."""

from __future__ import annotations

import asyncio
import os
import signal
import struct
from typing import Any

import grpc
import pytest
from simsupport import Connect, SimFactory, advised, control

from mxgateway import from_mx_value, to_mx_value
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway.generated import mxaccess_worker_pb2 as wpb
from mxgw_sim.generated import mxgw_sim_control_pb2 as cpb
from mxgw_sim.testing import ADMIN_KEY, SimProcess
from mxgw_sim.worker_process import (
    MAX_FRAME,
    FrameError,
    check_envelope,
    encode_frame,
    read_frame,
)


def _register(session_id: str) -> pb.MxCommandRequest:
    return pb.MxCommandRequest(
        session_id=session_id,
        kind=pb.MX_COMMAND_KIND_REGISTER,
        register=pb.RegisterCommand(client_name="after"),
    )


async def _session_info(server: SimProcess, session_id: str) -> cpb.SessionInfo:
    for info in await asyncio.to_thread(server.list_sessions, ADMIN_KEY):
        if info.session_id == session_id:
            return info
    raise AssertionError(f"{session_id} not listed")


async def _wait_faulted(server: SimProcess, session_id: str) -> cpb.SessionInfo:
    async def poll() -> cpb.SessionInfo:
        while True:
            info = await _session_info(server, session_id)
            if info.state == pb.SESSION_STATE_FAULTED:
                return info
            await asyncio.sleep(0.05)

    return await asyncio.wait_for(poll(), 30)


async def _stream_error(stream: Any) -> str:
    async def drain() -> None:
        async for _ in stream:
            pass

    with pytest.raises(Exception) as ended:
        await asyncio.wait_for(drain(), 30)
    return str(ended.value)


@pytest.fixture(scope="module")
def process_sim(sim_keys_file: Any) -> Any:
    """One simulator with child-process workers and a fast heartbeat for this module."""
    from mxgw_sim.testing import start_sim

    server = start_sim(
        "--api-key-file",
        str(sim_keys_file),
        "--worker-process",
        "--heartbeat-interval",
        "0.2",
        "--heartbeat-grace",
        "1.5",
        "--log-level",
        "WARNING",
    )
    try:
        yield server
    finally:
        server.close()


async def test_kill_9_of_the_child_faults_the_session(
    process_sim: SimProcess, connect: Connect
) -> None:
    gateway = await connect(process_sim)
    session = await gateway.open_session("crash")
    handle, item = await advised(session)
    info = await _session_info(process_sim, session.session_id)
    assert info.worker_mode == "process"
    assert info.worker_pid not in (0, process_sim.pid)
    stream = gateway.stream_events_raw(session.session_id)
    await session.write(handle, item, 9, type="Integer")
    await asyncio.wait_for(stream.__anext__(), 10)
    os.kill(info.worker_pid, signal.SIGKILL)
    faulted = await _wait_faulted(process_sim, session.session_id)
    assert "signal 9" in faulted.fault_message
    assert "ABORTED" in await _stream_error(stream)
    reply = await gateway.invoke_raw(_register(session.session_id))
    assert reply.protocol_status.code == pb.PROTOCOL_STATUS_CODE_WORKER_UNAVAILABLE
    closed = await session.close()
    assert int(closed) == pb.SESSION_STATE_CLOSED
    assert process_sim.wait_for_sessions(0, ADMIN_KEY) == []


async def test_kill_worker_from_control(process_sim: SimProcess, connect: Connect) -> None:
    gateway = await connect(process_sim)
    session = await gateway.open_session("ctl-kill")
    pid = (await _session_info(process_sim, session.session_id)).worker_pid
    reply = control(process_sim, "KillWorker", cpb.SessionSelector(session_id=session.session_id))
    assert str(pid) in reply.message
    await _wait_faulted(process_sim, session.session_id)
    with pytest.raises(ProcessLookupError):
        for _ in range(100):  # the child is really gone (reaped by the simulator)
            os.kill(pid, 0)
            await asyncio.sleep(0.05)
    await session.close()
    assert process_sim.wait_for_sessions(0, ADMIN_KEY) == []


async def test_missed_heartbeats_fault_the_session(
    process_sim: SimProcess, connect: Connect
) -> None:
    gateway = await connect(process_sim)
    session = await gateway.open_session("frozen")
    pid = (await _session_info(process_sim, session.session_id)).worker_pid
    os.kill(pid, signal.SIGSTOP)  # a hung worker: alive, silent
    try:
        faulted = await _wait_faulted(process_sim, session.session_id)
    finally:
        os.kill(pid, signal.SIGCONT)
    assert "heartbeat" in faulted.fault_message
    await session.close()
    assert process_sim.wait_for_sessions(0, ADMIN_KEY) == []


async def test_writes_and_control_changes_reach_every_replica(
    process_sim: SimProcess, connect: Connect
) -> None:
    gateway = await connect(process_sim)
    writer = await gateway.open_session("writer")
    reader = await gateway.open_session("reader")
    try:
        w_handle, w_item = await advised(writer, "Pump102.Free")
        await advised(reader, "Pump102.Free")
        stream = gateway.stream_events_raw(reader.session_id)
        await writer.write(w_handle, w_item, 4242, type="Integer")
        values: list[Any] = []

        async def until(expected: Any) -> None:
            async for event in stream:
                if event.family == pb.MX_EVENT_FAMILY_ON_DATA_CHANGE:
                    values.append(from_mx_value(event.value))
                    if values[-1] == expected:
                        return

        await asyncio.wait_for(until(4242), 10)
        value = to_mx_value(77, "Integer")
        control(process_sim, "SetValue", cpb.SetValueRequest(reference="Pump102.Free", value=value))
        await asyncio.wait_for(until(77), 10)
        stream.cancel()
    finally:
        await writer.close()
        await reader.close()
    control(process_sim, "Reset", cpb.ResetRequest())
    assert process_sim.wait_for_sessions(0, ADMIN_KEY) == []


# ------------------------------------------------------------------ pipe contract units
async def _frames(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


async def test_zero_length_frame_is_rejected() -> None:
    reader = await _frames(struct.pack("<I", 0))
    with pytest.raises(FrameError):
        await read_frame(reader)


async def test_oversized_frame_is_rejected() -> None:
    reader = await _frames(struct.pack("<I", MAX_FRAME + 1))
    with pytest.raises(FrameError):
        await read_frame(reader)
    with pytest.raises(FrameError):
        encode_frame(b"")


async def test_frames_round_trip_little_endian() -> None:
    frame = encode_frame(b"abc")
    assert frame[:4] == b"\x03\x00\x00\x00"
    reader = await _frames(frame)
    assert await read_frame(reader) == b"abc"
    assert await read_frame(reader) is None


def test_envelopes_are_checked() -> None:
    good = wpb.WorkerEnvelope(protocol_version=3, session_id="s")
    good.heartbeat.process_id = 1
    assert check_envelope(good, 3, "s") == "heartbeat"
    for version, session, body in ((2, "s", True), (3, "other", True), (3, "s", False)):
        env = wpb.WorkerEnvelope(protocol_version=version, session_id=session)
        if body:
            env.heartbeat.process_id = 1
        with pytest.raises(FrameError):
            check_envelope(env, 3, "s")


async def test_shared_sim_rejects_control_kill_of_unknown_session(sim: SimProcess) -> None:
    with pytest.raises(grpc.RpcError) as info:
        control(sim, "KillWorker", cpb.SessionSelector(session_id="session-" + "f" * 32))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND  # type: ignore[attr-defined]


def test_listening_line_reports_worker_processes(process_sim: SimProcess) -> None:
    assert process_sim.info["worker_process"] is True


async def test_sigint_closes_sessions_and_their_children(
    sim_factory: SimFactory, connect: Connect
) -> None:
    server = sim_factory("--worker-process")
    gateway = await connect(server)
    session = await gateway.open_session("interrupted")
    pid = (await _session_info(server, session.session_id)).worker_pid
    os.kill(server.pid, signal.SIGINT)
    assert await asyncio.to_thread(server.process.wait, 30) == 0
    with pytest.raises(ProcessLookupError):
        for _ in range(100):
            os.kill(pid, 0)
            await asyncio.sleep(0.05)
    assert "Traceback" not in server.stderr_text()
