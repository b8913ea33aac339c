"""Events per second from mxgw-sim to one client: StreamEvents vs StreamEventBatches.

Run: ``python benchmarks/sim_events.py [--events 50000]``. Not a test: numbers depend on
the machine, so the script reports each rate as a ratio to a raw baseline measured in the
same run — a bare grpc.aio server (same process layout: a separate process on loopback)
streaming pre-built MxEvent messages as fast as it can, one per message.

The simulator runs as a real ``mxgw-sim`` process with in-process workers. Events are made
by advising ``--fanout`` items on one attribute and writing it in bulk, so every write
yields ``fanout`` data changes plus one write completion.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from typing import Any

import grpc

from mxgateway import to_mx_value
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway.generated import mxaccess_gateway_pb2_grpc as pb_grpc
from mxgateway.generated import mxgw_extensions_pb2 as ext
from mxgateway.generated import mxgw_extensions_pb2_grpc as ext_grpc
from mxgw_sim.testing import start_sim

RAW_SERVER = r"""
import asyncio, json, sys
import grpc
from mxgateway.generated import mxaccess_gateway_pb2 as pb, mxaccess_gateway_pb2_grpc as g

class Raw(g.MxAccessGatewayServicer):
    async def StreamEvents(self, request, context):
        template = pb.MxEvent(family=pb.MX_EVENT_FAMILY_ON_DATA_CHANGE, server_handle=1,
                              item_handle=1, quality=192)
        template.value.int32_value = 1
        template.on_data_change.SetInParent()
        for n in range(1, request.after_worker_sequence + 1):
            event = pb.MxEvent()
            event.CopyFrom(template)
            event.worker_sequence = n
            event.gateway_receive_timestamp.GetCurrentTime()
            yield event

async def main():
    server = grpc.aio.server()
    g.add_MxAccessGatewayServicer_to_server(Raw(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(json.dumps({"endpoint": f"127.0.0.1:{port}"}), flush=True)
    await server.wait_for_termination()

asyncio.run(main())
"""


def _start_raw_server() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-c", RAW_SERVER], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())["endpoint"]


async def raw_baseline(count: int) -> float:
    """Events/s of a bare grpc.aio server process streaming ``count`` events."""
    proc, endpoint = _start_raw_server()
    try:
        async with grpc.aio.insecure_channel(endpoint) as channel:
            stub = pb_grpc.MxAccessGatewayStub(channel)
            started = time.perf_counter()
            received = 0
            async for _ in stub.StreamEvents(pb.StreamEventsRequest(after_worker_sequence=count)):
                received += 1
            elapsed = time.perf_counter() - started
        assert received == count
        return count / elapsed
    finally:
        proc.terminate()
        proc.wait()


async def _prepare(stub: Any, fanout: int) -> tuple[str, int, int]:
    opened = await stub.OpenSession(pb.OpenSessionRequest(client_session_name="bench"))
    sid = opened.session_id

    async def invoke(kind: int, **payload: Any) -> pb.MxCommandReply:
        reply: pb.MxCommandReply = await stub.Invoke(
            pb.MxCommandRequest(session_id=sid, kind=kind, **payload)  # type: ignore[arg-type]
        )
        return reply

    handle = (
        await invoke(pb.MX_COMMAND_KIND_REGISTER, register=pb.RegisterCommand(client_name="b"))
    ).register.server_handle
    added = await invoke(
        pb.MX_COMMAND_KIND_SUBSCRIBE_BULK,
        subscribe_bulk=pb.SubscribeBulkCommand(
            server_handle=handle, tag_addresses=["Pump102.Free"] * fanout
        ),
    )
    item = added.bulk_subscribe.results[0].item_handle
    # take the initial data changes off the queue
    await asyncio.sleep(0.2)
    await invoke(pb.MX_COMMAND_KIND_DRAIN_EVENTS, drain_events=pb.DrainEventsCommand())
    return sid, handle, item


async def _produce(stub: Any, sid: str, handle: int, item: int, writes: int) -> None:
    done = 0
    while done < writes:
        chunk = min(50, writes - done)
        entries = [
            pb.WriteBulkEntry(item_handle=item, value=to_mx_value(done + i + 1, "Integer"))
            for i in range(chunk)
        ]
        await stub.Invoke(
            pb.MxCommandRequest(
                session_id=sid,
                kind=pb.MX_COMMAND_KIND_WRITE_BULK,
                write_bulk=pb.WriteBulkCommand(server_handle=handle, entries=entries),
            )
        )
        done += chunk


async def sim_rate(endpoint: str, events: int, fanout: int, batches: bool) -> float:
    """Events/s one client receives from the simulator over one stream."""
    writes = max(1, events // (fanout + 1))
    expected = writes * (fanout + 1)
    async with grpc.aio.insecure_channel(endpoint) as channel:
        stub = pb_grpc.MxAccessGatewayStub(channel)
        sid, handle, item = await _prepare(stub, fanout)
        if batches:
            call: Any = ext_grpc.MxGatewayExtensionsStub(channel).StreamEventBatches(
                ext.StreamEventBatchesRequest(session_id=sid, max_batch_size=512)
            )
        else:
            call = stub.StreamEvents(pb.StreamEventsRequest(session_id=sid))
        await call.initial_metadata()
        started = time.perf_counter()
        producer = asyncio.create_task(_produce(stub, sid, handle, item, writes))
        received = 0
        async for message in call:
            received += len(message.events) if batches else 1
            if received >= expected:
                break
        elapsed = time.perf_counter() - started
        call.cancel()
        await producer
        await stub.CloseSession(pb.CloseSessionRequest(session_id=sid))
    return received / elapsed


async def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--fanout", type=int, default=50)
    args = parser.parse_args(argv)
    baseline = await raw_baseline(args.events)
    sim = start_sim("--event-queue", "10000000", "--log-level", "WARNING")
    try:
        single = await sim_rate(sim.endpoint, args.events, args.fanout, batches=False)
        batched = await sim_rate(sim.endpoint, args.events, args.fanout, batches=True)
    finally:
        sim.close()
    report = {
        "events": args.events,
        "raw_baseline_events_per_s": round(baseline),
        "stream_events_per_s": round(single),
        "stream_event_batches_per_s": round(batched),
        "stream_events_vs_raw": round(single / baseline, 3),
        "stream_event_batches_vs_raw": round(batched / baseline, 3),
        "batches_vs_stream_events": round(batched / single, 3),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
