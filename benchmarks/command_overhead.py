"""Command overhead: the client's typed ``Session`` calls over raw generated-stub calls.

Both sides run the same commands against the same ``mxgw-sim`` process, in alternating
rounds: AddItem then RemoveItem of one item, ``calls`` times. The raw side builds the
``MxCommandRequest`` itself and awaits ``stub.Invoke``; the typed side calls
``session.add_item`` / ``session.remove_item`` (request building, correlation id, API-key
metadata, status check and typed result included). Goal: typed <= 1.10x raw per command.
Short rounds, many of them: on a shared machine long rounds catch different bursts of load.

A second figure is the simulator's command round trip against the transport's limit: the
same raw AddItem/RemoveItem pairs against ``mxgw-sim`` and against the replay server, which
answers every Invoke with a canned reply (so it costs gRPC only).

Run ``python -m benchmarks.command_overhead [--quick] [--calls N] [--rounds R]``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import grpc

from benchmarks._common import (
    Result,
    bench_parser,
    fmt_ms,
    interleaved,
    print_results,
    simulator,
)
from benchmarks._replay import replay_server
from mxgateway import GatewayClient, Session
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway.generated import mxaccess_gateway_pb2_grpc as pb_grpc

ITEM = "Types.Int"


async def raw_round(stub: Any, sid: str, server: int, calls: int) -> float:
    """Seconds per command (AddItem, RemoveItem alternately) through the raw stub."""
    started = time.perf_counter()
    for _ in range(calls):
        added = await stub.Invoke(
            pb.MxCommandRequest(
                session_id=sid,
                kind=pb.MX_COMMAND_KIND_ADD_ITEM,
                add_item=pb.AddItemCommand(server_handle=server, item_reference=ITEM),
            ),
            timeout=30.0,
        )
        if added.protocol_status.code != pb.PROTOCOL_STATUS_CODE_OK:
            raise RuntimeError(f"AddItem failed: {added.protocol_status.message}")
        await stub.Invoke(
            pb.MxCommandRequest(
                session_id=sid,
                kind=pb.MX_COMMAND_KIND_REMOVE_ITEM,
                remove_item=pb.RemoveItemCommand(
                    server_handle=server, item_handle=added.add_item.item_handle
                ),
            ),
            timeout=30.0,
        )
    return (time.perf_counter() - started) / (2 * calls)


async def typed_round(session: Session, server: int, calls: int) -> float:
    """Seconds per command through ``Session.add_item`` / ``Session.remove_item``."""
    started = time.perf_counter()
    for _ in range(calls):
        handle = await session.add_item(server, ITEM)
        await session.remove_item(server, handle)
    return (time.perf_counter() - started) / (2 * calls)


async def measure(endpoint: str, calls: int, rounds: int) -> tuple[float, float]:
    """Median seconds per command: (raw, typed)."""
    async with (
        grpc.aio.insecure_channel(endpoint) as channel,
        await GatewayClient.connect(endpoint, plaintext=True) as client,
    ):
        stub = pb_grpc.MxAccessGatewayStub(channel)
        raw_session = await client.open_session("bench-raw")
        raw_server = await raw_session.register("bench")
        session = await client.open_session("bench-typed")
        server = await session.register("bench")
        try:
            await raw_round(stub, raw_session.session_id, raw_server, max(1, calls // 10))
            await typed_round(session, server, max(1, calls // 10))
            return await interleaved(
                rounds,
                lambda: raw_round(stub, raw_session.session_id, raw_server, calls),
                lambda: typed_round(session, server, calls),
            )
        finally:
            await raw_session.close()
            await session.close()


async def measure_transport(sim: str, replay: str, calls: int, rounds: int) -> tuple[float, float]:
    """Median seconds per raw command: (replay server, simulator)."""
    async with (
        grpc.aio.insecure_channel(sim) as sim_channel,
        grpc.aio.insecure_channel(replay) as replay_channel,
        await GatewayClient.connect(sim, plaintext=True) as client,
    ):
        sim_stub = pb_grpc.MxAccessGatewayStub(sim_channel)
        replay_stub = pb_grpc.MxAccessGatewayStub(replay_channel)
        session = await client.open_session("bench-transport")
        server = await session.register("bench")
        try:
            await raw_round(replay_stub, "replay", 1, max(1, calls // 10))
            return await interleaved(
                rounds,
                lambda: raw_round(replay_stub, "replay", 1, calls),
                lambda: raw_round(sim_stub, session.session_id, server, calls),
            )
        finally:
            await session.close()


async def run(
    quick: bool = False, calls: int | None = None, rounds: int | None = None
) -> list[Result]:
    """Measure and return the table row."""
    calls = calls or (20 if quick else 25)
    rounds = rounds or (1 if quick else 60)
    with simulator() as sim, replay_server() as replay:
        raw, typed = await measure(sim.endpoint, calls, rounds)
        limit, sim_raw = await measure_transport(sim.endpoint, replay, calls, rounds)
    ratio = typed / raw
    return [
        Result(
            "sim: command round trip (raw stub) / transport limit",
            fmt_ms(limit),
            fmt_ms(sim_raw),
            sim_raw / limit,
            "(reported)",
            None,
            "AddItem+RemoveItem against mxgw-sim vs a canned-reply server, same run",
        ),
        Result(
            "command: typed Session call / raw stub Invoke",
            fmt_ms(raw),
            fmt_ms(typed),
            ratio,
            "<= 1.10",
            ratio <= 1.10,
            f"AddItem+RemoveItem, {calls} pairs x {rounds} rounds, mxgw-sim process",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = bench_parser(__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args(argv)
    print_results(asyncio.run(run(args.quick, args.calls, args.rounds)), as_json=args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
