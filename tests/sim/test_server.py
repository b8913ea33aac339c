"""The mxgw-sim process: listening line, argument errors, health, reflection, shutdown."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from simsupport import Connect, SimFactory

from mxgateway import GatewayUnavailableError
from mxgw_sim.testing import SimProcess, sim_command


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mxgw_sim", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_listening_line_describes_the_server(sim: SimProcess) -> None:
    info = sim.info
    assert info["event"] == "listening"
    host, port = info["endpoint"].rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) > 0
    assert info["tls"] is False
    assert info["auth"] is True
    assert info["galaxy"]
    assert info["version"]


def test_auth_off_is_announced(sim_factory: SimFactory) -> None:
    bare = sim_factory(keys=False)
    assert bare.info["auth"] is False


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--lease-seconds", "soon"), "--lease-seconds"),
        (("--listen", "127.0.0.1:99999"), "--listen"),
        (("--listen", "no-port"), "--listen"),
        (("--max-sessions", "0"), "--max-sessions"),
        (("--bogus",), "--bogus"),
    ],
)
def test_bad_argument_is_one_line_and_exit_2(args: tuple[str, ...], named: str) -> None:
    result = _run("serve", *args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert named in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_galaxy_error_names_file_line_and_column(tmp_path: Path) -> None:
    galaxy = tmp_path / "broken.yaml"
    galaxy.write_text("version: 1\nname: X\nareas:\n  - name: [unclosed\n", encoding="utf-8")
    result = _run("serve", "--listen", "127.0.0.1:0", "--galaxy", str(galaxy))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    first = result.stderr.strip().splitlines()[0]
    assert f"{galaxy}:" in first
    location = first.split(f"{galaxy}:", 1)[1].split(":")
    assert location[0].isdigit() and location[1].isdigit()


def test_missing_keys_file_is_one_clear_line(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = _run("serve", "--listen", "127.0.0.1:0", "--api-key-file", str(missing))
    assert result.returncode == 2
    assert str(missing) in result.stderr
    assert "Traceback" not in result.stderr


async def test_health_is_serving_and_reflection_lists_every_service(sim: SimProcess) -> None:
    async with grpc.aio.insecure_channel(sim.endpoint) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in (
            "",
            "mxaccess_gateway.v1.MxAccessGateway",
            "mxgw_sim.control.v1.SimulatorControl",
        ):
            reply = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        call = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
        )
        names: set[str] = set()
        async for response in call:
            names = {s.name for s in response.list_services_response.service}
            break
        call.cancel()
    assert {
        "mxaccess_gateway.v1.MxAccessGateway",
        "mxgw.ext.v1.MxGatewayExtensions",
        "mxgw_sim.control.v1.SimulatorControl",
        "grpc.health.v1.Health",
    } <= names


async def test_sigterm_with_a_stream_open_ends_the_stream_and_exits_0(
    sim_factory: SimFactory, connect: Connect
) -> None:
    server = sim_factory()
    gateway = await connect(server)
    session = await gateway.open_session("shutdown-test")
    handle = await session.register("t")
    item = await session.add_item(handle, "Pump102.Free")
    await session.advise(handle, item)
    stream = session.events()
    first = await asyncio.wait_for(stream.__anext__(), 10)
    assert first.worker_sequence == 1
    os.kill(server.pid, signal.SIGTERM)

    async def drain() -> None:
        async for _ in stream:
            pass

    with pytest.raises(GatewayUnavailableError):
        await asyncio.wait_for(drain(), 15)
    assert await asyncio.to_thread(server.process.wait, 15) == 0
    assert "Traceback" not in server.stderr_text()


def test_sim_command_uses_an_ephemeral_port() -> None:
    command = sim_command(["--log-level", "DEBUG"])
    assert command[command.index("--listen") + 1] == "127.0.0.1:0"


async def test_health_turns_not_serving_on_shutdown(sim_factory: SimFactory) -> None:
    server = sim_factory()
    async with grpc.aio.insecure_channel(server.endpoint) as channel:
        watch = health_pb2_grpc.HealthStub(channel).Watch(
            health_pb2.HealthCheckRequest(service="mxaccess_gateway.v1.MxAccessGateway")
        )
        first = await asyncio.wait_for(watch.read(), 10)
        assert first.status == health_pb2.HealthCheckResponse.SERVING
        os.kill(server.pid, signal.SIGTERM)
        second = await asyncio.wait_for(watch.read(), 10)
        assert second.status == health_pb2.HealthCheckResponse.NOT_SERVING
        watch.cancel()
    assert await asyncio.to_thread(server.process.wait, 15) == 0
