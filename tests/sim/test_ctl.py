"""``mxgw-sim ctl`` as users run it: a subprocess against a real simulator."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from typing import Any

from simsupport import advised

from mxgateway import from_mx_value
from mxgateway._client import GatewayClient
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgw_sim.testing import ADMIN_KEY, USER_KEY, SimProcess


def ctl(
    sim: SimProcess, *args: str, key: str | None = ADMIN_KEY
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MXGW_API_KEY"}
    if key:
        env["MXGW_API_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "mxgw_sim", "ctl", "--endpoint", sim.endpoint, "--plaintext", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def ctl_json(sim: SimProcess, *args: str) -> Any:
    result = ctl(sim, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


async def test_list_sessions_json_is_sorted_and_complete(
    client: GatewayClient, sim: SimProcess
) -> None:
    session = await client.open_session("listed")
    try:
        await advised(session)
        result = await asyncio.to_thread(ctl, sim, "list-sessions", "--json")
        assert result.returncode == 0, result.stderr
        text = result.stdout.strip()
        data = json.loads(text)
        assert text == json.dumps(data, sort_keys=True)
        (entry,) = [s for s in data["sessions"] if s["session_id"] == session.session_id]
        assert entry["client_name"] == "listed"
        assert entry["state"] == "SESSION_STATE_READY"
        assert entry["server_handles"] == 1
        assert entry["items"] == 1
        assert entry["advised"] == 1
        assert entry["stream_attached"] is False
        for name in ("age_seconds", "idle_seconds", "pending_events"):
            assert name in entry
    finally:
        await session.close()


async def test_set_value_reaches_an_advised_item(client: GatewayClient, sim: SimProcess) -> None:
    async with await client.open_session("set-value") as session:
        await advised(session, "Pump102.ReadOnly")
        reply = await asyncio.to_thread(
            ctl_json, sim, "set-value", "Pump102.ReadOnly", "31", "--type", "Integer"
        )
        assert reply["affected"] == 1
        values = await _values(session, 31)
        assert values[-1] == 31
        await asyncio.to_thread(ctl_json, sim, "reset")
        assert (await _values(session, 3))[-1] == 3


async def _values(session: Any, expected: Any) -> list[Any]:
    seen: list[Any] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for event in await session.drain_events():
            raw = event.raw
            if raw.family == pb.MX_EVENT_FAMILY_ON_DATA_CHANGE:
                seen.append(from_mx_value(raw.value))
        if seen and seen[-1] == expected:
            return seen
        await asyncio.sleep(0.05)
    raise AssertionError(f"never saw {expected!r}; saw {seen!r}")


async def test_set_quality_and_scan(client: GatewayClient, sim: SimProcess) -> None:
    async with await client.open_session("quality") as session:
        await advised(session, "Pump101.Mode")
        assert ctl_json(sim, "set-quality", "Pump101.Mode", "24")["affected"] == 1
        assert await _quality(session, 24)
        assert ctl_json(sim, "set-scan", "Pump101", "off")["affected"] == 1
        assert await _quality(session, 28)
        ctl_json(sim, "reset")


async def _quality(session: Any, expected: int) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for event in await session.drain_events():
            if (
                event.raw.family == pb.MX_EVENT_FAMILY_ON_DATA_CHANGE
                and event.raw.quality == expected
            ):
                return True
        await asyncio.sleep(0.05)
    return False


async def test_latency_slows_commands(client: GatewayClient, sim: SimProcess) -> None:
    session = await client.open_session("slow")
    try:
        ctl_json(sim, "latency", "--commands", "300ms", "--session", session.session_id)
        started = time.monotonic()
        await session.register("slow")
        assert time.monotonic() - started >= 0.3
        ctl_json(sim, "latency", "--session", session.session_id)
        started = time.monotonic()
        await session.register("fast")
        assert time.monotonic() - started < 0.3
    finally:
        await session.close()


async def test_kill_worker_and_fault_session_fault_in_process_sessions(
    client: GatewayClient, sim: SimProcess
) -> None:
    one = await client.open_session("kill")
    two = await client.open_session("fault")
    try:
        ctl_json(sim, "kill-worker", one.session_id)
        ctl_json(sim, "fault-session", two.session_id, "--message", "injected")
        states = {s["session_id"]: s for s in ctl_json(sim, "list-sessions")["sessions"]}
        assert states[one.session_id]["state"] == "SESSION_STATE_FAULTED"
        assert states[two.session_id]["fault_message"] == "injected"
        for session in (one, two):
            reply = await client.invoke_raw(
                pb.MxCommandRequest(
                    session_id=session.session_id,
                    kind=pb.MX_COMMAND_KIND_REGISTER,
                    register=pb.RegisterCommand(client_name="x"),
                )
            )
            assert reply.protocol_status.code == pb.PROTOCOL_STATUS_CODE_WORKER_UNAVAILABLE
    finally:
        await one.close()
        await two.close()


async def test_drop_write_completions(client: GatewayClient, sim: SimProcess) -> None:
    async with await client.open_session("no-completions") as session:
        handle, item = await advised(session)
        ctl_json(sim, "drop-write-completions", "--session", session.session_id)
        await session.write(handle, item, 11, type="Integer")
        await _values(session, 11)  # the value changes...
        families = [e.raw.family for e in await session.drain_events()]
        assert pb.MX_EVENT_FAMILY_ON_WRITE_COMPLETE not in families  # ...silently
        ctl_json(sim, "drop-write-completions", "--session", session.session_id, "--off")


async def test_expire_and_drop_streams(client: GatewayClient, sim: SimProcess) -> None:
    session = await client.open_session("expire")
    assert ctl_json(sim, "drop-streams")["affected"] >= 0
    assert ctl_json(sim, "expire-session", session.session_id)["affected"] == 1
    assert session.session_id not in {
        s["session_id"] for s in ctl_json(sim, "list-sessions")["sessions"]
    }
    await session.close()  # idempotent on the expired session


def test_errors_are_one_line_with_exit_status(sim: SimProcess) -> None:
    missing = ctl(sim, "kill-worker", "session-" + "0" * 32)
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        f"mxgw-sim ctl: NOT_FOUND: session session-{'0' * 32} not found"
    ]
    denied = ctl(sim, "list-sessions", key=USER_KEY)
    assert denied.returncode == 1
    assert "PERMISSION_DENIED" in denied.stderr
    assert USER_KEY not in denied.stderr
    usage = ctl(sim, "latency", "--commands", "soon")
    assert usage.returncode == 2
    assert len(usage.stderr.strip().splitlines()) == 1


def test_human_output(sim: SimProcess) -> None:
    result = ctl(sim, "reset")
    assert result.returncode == 0
    assert result.stdout.startswith("reset")
