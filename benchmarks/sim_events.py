"""Events per second from mxgw-sim to one client: StreamEvents and StreamEventBatches.

Run: ``python -m benchmarks.sim_events [--quick] [--events 50000]``. Not a test: numbers
depend on the machine, so each rate is reported as a ratio to the transport's limit measured
in the same run: the replay server (``benchmarks/_replay.py``, a separate process sending
pre-serialized events) read through the raw generated stub, one event per message for
StreamEvents and in batches of 256 for StreamEventBatches.

The simulator runs as a real ``mxgw-sim`` process with in-process workers. Events are made
by advising ``--fanout`` items on one attribute and writing it in bulk, so every write
yields ``fanout`` data changes plus one write completion. The end-to-end batched rate is
set against the 300,000 events/s goal, with the simulator's CPU time per event next to it
(the goal needs at most 3.3 us of it per event on one core; the client alone is measured
by ``benchmarks/event_throughput.py``).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

if not __package__:  # run as a file (python benchmarks/x.py): import from the repo root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import grpc

from benchmarks._common import Result, bench_parser, print_results, rate, simulator
from benchmarks._replay import replay_server
from benchmarks.event_throughput import raw_stream
from mxgateway import to_mx_value
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway.generated import mxaccess_gateway_pb2_grpc as pb_grpc
from mxgateway.generated import mxgw_extensions_pb2 as ext
from mxgateway.generated import mxgw_extensions_pb2_grpc as ext_grpc


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


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def sim_rate(
    endpoint: str,
    events: int,
    fanout: int,
    batches: bool,
    cpu: list[float] | None = None,
    pid: int | None = None,
    batch_size: int = 512,
) -> float:
    """Events/s one client receives from the simulator over one stream."""
    writes = max(1, events // (fanout + 1))
    expected = writes * (fanout + 1)
    async with grpc.aio.insecure_channel(endpoint) as channel:
        stub = pb_grpc.MxAccessGatewayStub(channel)
        sid, handle, item = await _prepare(stub, fanout)
        if batches:
            call: Any = ext_grpc.MxGatewayExtensionsStub(channel).StreamEventBatches(
                ext.StreamEventBatchesRequest(session_id=sid, max_batch_size=batch_size)
            )
        else:
            call = stub.StreamEvents(pb.StreamEventsRequest(session_id=sid))
        await call.initial_metadata()
        started = time.perf_counter()
        cpu_started = process_cpu(pid) if pid else 0.0
        producer = asyncio.create_task(_produce(stub, sid, handle, item, writes))
        received = 0
        async for message in call:
            received += len(message.events) if batches else 1
            if received >= expected:
                break
        elapsed = time.perf_counter() - started
        if pid and cpu is not None:
            cpu.append((process_cpu(pid) - cpu_started) / received)
        call.cancel()
        await producer
        await stub.CloseSession(pb.CloseSessionRequest(session_id=sid))
    return received / elapsed


async def run(quick: bool = False, events: int | None = None, fanout: int = 50) -> list[Result]:
    """Measure the simulator's rates and the transport limits; returns the table rows."""
    count = events or (2_000 if quick else 50_000)
    single_count = max(1, count // 2)
    with replay_server() as endpoint:
        await raw_stream(endpoint, single_count, batches=False)  # warm up
        raw_single = single_count / await raw_stream(endpoint, single_count, batches=False)
        raw_batches = count / await raw_stream(endpoint, count, batches=True)
    cpu: list[float] = []
    with simulator("--event-queue", "10000000") as sim:
        single = await sim_rate(sim.endpoint, single_count, fanout, batches=False)
        batched = await sim_rate(sim.endpoint, count, fanout, batches=True, cpu=cpu, pid=sim.pid)
    return [
        Result(
            "sim: StreamEvents end to end / transport limit",
            rate(1, 1 / raw_single),
            rate(1, 1 / single),
            single / raw_single,
            "reported",
            None,
            f"{single_count} events, fan-out {fanout}, raw stub reading",
        ),
        Result(
            "sim: StreamEventBatches end to end / transport limit",
            rate(1, 1 / raw_batches),
            rate(1, 1 / batched),
            batched / raw_batches,
            "reported",
            None,
            f"{count} events, fan-out {fanout}, batches of up to 512",
        ),
        Result(
            "sim: StreamEventBatches end to end events/s",
            "300.0 k/s (goal)",
            rate(1, 1 / batched),
            batched / 300_000,
            ">= 300 k/s",
            batched >= 300_000,
            f"simulator CPU {cpu[0] * 1e6:.2f} us/event (300 k/s needs <= 3.33)",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = bench_parser(__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=None)
    parser.add_argument("--fanout", type=int, default=50)
    args = parser.parse_args(argv)
    print_results(asyncio.run(run(args.quick, args.events, args.fanout)), as_json=args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
