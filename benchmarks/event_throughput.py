"""Event throughput of the client alone, and of the runner's recorder and matcher on top.

The events come from the replay server (``benchmarks/_replay.py``: a separate process that
sends pre-serialized events as fast as gRPC can), so what is measured is the receiving side:

1. typed events through ``Session.events()`` over raw generated-stub iteration of the same
   StreamEvents stream (goal >= 0.8x);
2. typed events through ``Session.events(batch=True)`` (the StreamEventBatches extension):
   events per second to one client (goal >= 300,000/s), and its ratio to raw stub
   iteration of the same batches, both per event (``async for event in stream``) and a
   list per message (``async for batch in stream.batches()``);
3. the runner's recorder (adapting every event to an ``ObservedEvent``) and then the
   ``expect-event`` matcher scanning the whole log for the last value, over the client's
   typed batched stream alone (goal >= 0.7x).

Run ``python -m benchmarks.event_throughput [--quick] [--events N] [--rounds R]``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from benchmarks._common import Result, bench_parser, interleaved, median, print_results, rate
from benchmarks._replay import replay_server
from mxgateway import EventStream, GatewayClient
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway.generated import mxaccess_gateway_pb2_grpc as pb_grpc
from mxgateway.generated import mxgw_extensions_pb2 as ext
from mxgateway.generated import mxgw_extensions_pb2_grpc as ext_grpc

BATCH = 256
"""Events per batch: the simulator's default ``max_batch_size``."""

OPTIONS = [("grpc.max_receive_message_length", 64 * 1024 * 1024)]


def _name(count: int) -> str:
    return f"replay:{count}:{BATCH}"


async def raw_stream(endpoint: str, count: int, *, batches: bool) -> float:
    """Seconds for the raw generated stub to receive ``count`` events."""
    async with grpc.aio.insecure_channel(endpoint, options=OPTIONS) as channel:
        stub = pb_grpc.MxAccessGatewayStub(channel)
        opened = await stub.OpenSession(pb.OpenSessionRequest(client_session_name=_name(count)))
        sid = opened.session_id
        received = 0
        started = time.perf_counter()
        if batches:
            ext_stub = ext_grpc.MxGatewayExtensionsStub(channel)
            request = ext.StreamEventBatchesRequest(session_id=sid, max_batch_size=BATCH)
            async for batch in ext_stub.StreamEventBatches(request):
                for _ in batch.events:
                    received += 1
        else:
            async for _ in stub.StreamEvents(pb.StreamEventsRequest(session_id=sid)):
                received += 1
        elapsed = time.perf_counter() - started
        await stub.CloseSession(pb.CloseSessionRequest(session_id=sid))
    if received != count:
        raise RuntimeError(f"raw stream gave {received} events, expected {count}")
    return elapsed


async def _timed_typed(
    endpoint: str,
    count: int,
    consume: Callable[[EventStream], Awaitable[int]],
    what: str,
    *,
    batches: bool,
    cpu: list[float] | None,
) -> float:
    """Seconds for ``consume`` to take ``count`` typed events from a session's stream
    (``cpu`` gets this process's CPU seconds for them: steadier than wall time on a busy
    machine)."""
    async with await GatewayClient.connect(endpoint, plaintext=True) as client:
        session = await client.open_session(_name(count))
        started = time.perf_counter()
        cpu_started = time.process_time()
        async with session.events(batch=batches) as stream:
            received = await consume(stream)
        elapsed = time.perf_counter() - started
        if cpu is not None:
            cpu.append(time.process_time() - cpu_started)
        await session.close()
    if received != count:
        raise RuntimeError(f"{what} gave {received} events, expected {count}")
    return elapsed


async def _one_by_one(stream: EventStream) -> int:
    received = 0
    async for _ in stream:
        received += 1
    return received


async def _by_message(stream: EventStream) -> int:
    received = 0
    async for batch in stream.batches():
        for _ in batch:
            received += 1
    return received


async def typed_stream(
    endpoint: str, count: int, *, batches: bool, cpu: list[float] | None = None
) -> float:
    """Seconds for ``Session.events()`` to yield ``count`` typed events, one at a time."""
    return await _timed_typed(
        endpoint, count, _one_by_one, "typed stream", batches=batches, cpu=cpu
    )


async def typed_batches(endpoint: str, count: int, cpu: list[float] | None = None) -> float:
    """Seconds for ``Session.events(batch=True).batches()`` to hand over ``count`` typed
    events, a list per received message (the way to read for throughput)."""
    return await _timed_typed(
        endpoint, count, _by_message, "typed batches", batches=True, cpu=cpu
    )


async def recorder_stream(endpoint: str, count: int, cpu: list[float] | None = None) -> float:
    """Seconds for the runner's recorder to log ``count`` events and a matcher to find the
    last value (scanning the whole log, as an ``expect-event`` after a long wait does)."""
    from mxgw_runner.engine.recorder import Recorder
    from mxgw_runner.matching import EventExpectation, MatchContext, Scanner

    expectation = EventExpectation.from_params(
        {"item": "v", "data-change": {"value": count % 1_000_000}}
    )
    async with await GatewayClient.connect(endpoint, plaintext=True) as client:
        session = await client.open_session(_name(count))

        def open_stream(after: int) -> Any:
            return session.events(after, batch=True)

        recorder = Recorder(open_stream, lambda server, item: "v")
        started = time.perf_counter()
        cpu_started = time.process_time()
        recorder.start()
        while len(recorder.events) < count:
            if not await recorder.wait_for_events(len(recorder.events), 30.0):
                raise RuntimeError(f"recorder stalled at {len(recorder.events)} events")
        result = Scanner(expectation, 0, MatchContext()).feed(recorder.events)
        elapsed = time.perf_counter() - started
        if cpu is not None:
            cpu.append(time.process_time() - cpu_started)
        await recorder.stop()
        await session.close()
    if result.status != "matched":
        raise RuntimeError(f"the matcher did not find the last value: {result.message}")
    return elapsed


async def run(
    quick: bool = False, events: int | None = None, rounds: int | None = None
) -> list[Result]:
    """Measure all three; returns their table rows."""
    count = events or (2_000 if quick else 100_000)
    single_count = max(1, count // 5)  # one message per event is slow: keep the run short
    rounds = rounds or (1 if quick else 5)
    results: list[Result] = []
    with replay_server() as endpoint:
        # Warm both paths (channel set-up, imports, the server's pre-serialization).
        await raw_stream(endpoint, single_count, batches=False)
        await typed_stream(endpoint, count, batches=True)

        base, ours = await interleaved(
            rounds,
            lambda: raw_stream(endpoint, single_count, batches=False),
            lambda: typed_stream(endpoint, single_count, batches=False),
        )
        results.append(
            Result(
                "events: typed Session.events() / raw stub StreamEvents",
                rate(single_count, base),
                rate(single_count, ours),
                base / ours,
                ">= 0.80",
                base / ours >= 0.8,
                f"{single_count} events, one per message, replay server",
            )
        )

        typed_cpu: list[float] = []
        base_b, ours_b = await interleaved(
            rounds,
            lambda: raw_stream(endpoint, count, batches=True),
            lambda: typed_stream(endpoint, count, batches=True, cpu=typed_cpu),
        )
        typed_us = median(typed_cpu) / count * 1e6
        per_s = count / ours_b
        results.append(
            Result(
                "events: typed events(batch=True) / raw stub StreamEventBatches",
                rate(count, base_b),
                rate(count, ours_b),
                base_b / ours_b,
                ">= 0.80",
                base_b / ours_b >= 0.8,
                f"{count} events, {BATCH} per batch",
            )
        )
        results.append(
            Result(
                "events: batched typed events/s to one client",
                "300.0 k/s (goal)",
                rate(count, ours_b),
                per_s / 300_000,
                ">= 300 k/s",
                per_s >= 300_000,
                f"client side alone (replay server); client CPU {typed_us:.2f} us/event",
            )
        )

        lists_cpu: list[float] = []
        base_l, ours_l = await interleaved(
            rounds,
            lambda: raw_stream(endpoint, count, batches=True),
            lambda: typed_batches(endpoint, count, lists_cpu),
        )
        lists_us = median(lists_cpu) / count * 1e6
        results.append(
            Result(
                "events: typed events(batch=True).batches() / raw stub StreamEventBatches",
                rate(count, base_l),
                rate(count, ours_l),
                base_l / ours_l,
                ">= 0.80",
                base_l / ours_l >= 0.8,
                f"{count} events, a list per message; client CPU {lists_us:.2f} us/event",
            )
        )

        alone_cpu: list[float] = []
        recorder_cpu: list[float] = []
        base_r, ours_r = await interleaved(
            rounds,
            lambda: typed_stream(endpoint, count, batches=True, cpu=alone_cpu),
            lambda: recorder_stream(endpoint, count, recorder_cpu),
        )
        alone_us = median(alone_cpu) / count * 1e6
        recorder_us = median(recorder_cpu) / count * 1e6
        results.append(
            Result(
                "events: runner recorder + matcher / client alone",
                rate(count, base_r),
                rate(count, ours_r),
                base_r / ours_r,
                ">= 0.70",
                base_r / ours_r >= 0.7,
                f"{count} events batched, then one scan of the whole log; client CPU "
                f"{recorder_us:.2f} vs {alone_us:.2f} us/event",
            )
        )
    return results


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = bench_parser(__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args(argv)
    print_results(asyncio.run(run(args.quick, args.events, args.rounds)), as_json=args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
