"""Scale: a 10,000-item checklist end to end, 100 concurrent sessions, memory per item.

* **Checklist**: against an ``mxgw-sim`` process serving a generated galaxy of ``--items``
  integer attributes (each with its own initial value): connect, open a session, start the
  batched event stream, AddItemBulk and AdviseItemBulk of every item, wait for every
  item's initial data change and check its value, UnsubscribeBulk, close. Goal < 5 s. The
  baseline is the same work through the raw generated stubs.
* **Concurrent sessions**: ``--sessions`` sessions at once on one simulator, each opening,
  registering, adding and advising one item, waiting for its initial value, and closing;
  against the same sessions one after another.
* **Memory per advised item**: the simulator process's resident set before the checklist's
  items are advised and after (``/proc/<pid>/status``), divided by the item count.

Run ``python -m benchmarks.scale [--quick] [--items N] [--sessions N]``.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import grpc

from benchmarks._common import Result, bench_parser, fmt_s, median, print_results, simulator
from mxgateway import DataChange, GatewayClient
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway.generated import mxaccess_gateway_pb2_grpc as pb_grpc
from mxgateway.generated import mxgw_extensions_pb2 as ext
from mxgateway.generated import mxgw_extensions_pb2_grpc as ext_grpc

PER_OBJECT = 100
OPTIONS = [("grpc.max_receive_message_length", 64 * 1024 * 1024)]


def write_galaxy(path: Path, items: int) -> list[tuple[str, int]]:
    """A galaxy of ``items`` static integer attributes; returns (reference, initial value)."""
    objects = (items + PER_OBJECT - 1) // PER_OBJECT
    lines = ["version: 1", "name: Bench", "areas:", "  - name: Area1", "    objects:"]
    expected: list[tuple[str, int]] = []
    for o in range(objects):
        lines.append(f"      - name: Obj{o:04d}")
        lines.append("        attributes:")
        for a in range(min(PER_OBJECT, items - o * PER_OBJECT)):
            value = o * PER_OBJECT + a + 7
            lines.append(f"          - {{name: A{a:03d}, type: integer, value: {value}}}")
            expected.append((f"Obj{o:04d}.A{a:03d}", value))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return expected


def rss_bytes(pid: int) -> int:
    """Resident set size of a process (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


async def typed_checklist(
    endpoint: str, expected: list[tuple[str, int]], sim_pid: int | None = None
) -> tuple[float, int]:
    """Seconds for the checklist through the typed client; and the simulator's RSS growth
    while the items were advised (0 when ``sim_pid`` is None)."""
    refs = [ref for ref, _ in expected]
    started = time.perf_counter()
    async with await GatewayClient.connect(endpoint, plaintext=True) as client:
        session = await client.open_session("bench-checklist")
        before = rss_bytes(sim_pid) if sim_pid else 0
        async with session.events(batch=True) as stream:
            server = await session.register("bench")
            added = await session.add_item_bulk(server, refs)
            handles = [r.item_handle for r in added if r.was_successful]
            if len(handles) != len(refs):
                raise RuntimeError(f"{len(refs) - len(handles)} items could not be added")
            want = {r.item_handle: value for r, (_, value) in zip(added, expected, strict=True)}
            advised = await session.advise_item_bulk(server, handles)
            if not all(r.was_successful for r in advised):
                raise RuntimeError("some items could not be advised")
            wrong = 0
            async for event in stream:
                if isinstance(event, DataChange) and event.item_handle in want:
                    if event.value != want.pop(event.item_handle) or not event.quality.is_good:
                        wrong += 1
                    if not want:
                        break
        grown = rss_bytes(sim_pid) - before if sim_pid else 0
        await session.unsubscribe_bulk(server, handles)
        await session.close()
    if wrong:
        raise RuntimeError(f"{wrong} items had the wrong initial value")
    return time.perf_counter() - started, grown


async def raw_checklist(endpoint: str, expected: list[tuple[str, int]]) -> float:
    """Seconds for the same checklist through the raw generated stubs."""
    refs = [ref for ref, _ in expected]
    started = time.perf_counter()
    async with grpc.aio.insecure_channel(endpoint, options=OPTIONS) as channel:
        stub = pb_grpc.MxAccessGatewayStub(channel)
        sid = (await stub.OpenSession(pb.OpenSessionRequest(client_session_name="raw"))).session_id
        call = ext_grpc.MxGatewayExtensionsStub(channel).StreamEventBatches(
            ext.StreamEventBatchesRequest(session_id=sid)
        )

        async def invoke(kind: int, **payload: Any) -> pb.MxCommandReply:
            reply: pb.MxCommandReply = await stub.Invoke(
                pb.MxCommandRequest(session_id=sid, kind=kind, **payload),  # type: ignore[arg-type]
                timeout=60.0,
            )
            return reply

        server = (
            await invoke(pb.MX_COMMAND_KIND_REGISTER, register=pb.RegisterCommand(client_name="b"))
        ).register.server_handle
        added = await invoke(
            pb.MX_COMMAND_KIND_ADD_ITEM_BULK,
            add_item_bulk=pb.AddItemBulkCommand(server_handle=server, tag_addresses=refs),
        )
        results = added.bulk_subscribe.results
        handles = [r.item_handle for r in results]
        want = {r.item_handle: value for r, (_, value) in zip(results, expected, strict=True)}
        await invoke(
            pb.MX_COMMAND_KIND_ADVISE_ITEM_BULK,
            advise_item_bulk=pb.AdviseItemBulkCommand(server_handle=server, item_handles=handles),
        )
        async for batch in call:
            for event in batch.events:
                if (
                    event.HasField("on_data_change")
                    and event.item_handle in want
                    and event.value.int32_value != want.pop(event.item_handle)
                ):
                    raise RuntimeError("wrong initial value")
            if not want:
                break
        call.cancel()
        await invoke(
            pb.MX_COMMAND_KIND_UNSUBSCRIBE_BULK,
            unsubscribe_bulk=pb.UnsubscribeBulkCommand(server_handle=server, item_handles=handles),
        )
        await stub.CloseSession(pb.CloseSessionRequest(session_id=sid))
    return time.perf_counter() - started


async def one_session(client: GatewayClient, n: int) -> None:
    """Open, register, add and advise one item, wait for its initial value, close."""
    session = await client.open_session(f"bench-{n}")
    try:
        async with session.events() as stream:
            server = await session.register("bench")
            handle = await session.add_item(server, "Types.Int")
            await session.advise(server, handle)
            async for event in stream:
                if isinstance(event, DataChange) and event.item_handle == handle:
                    break
        await session.unadvise(server, handle)
        await session.remove_item(server, handle)
        await session.unregister(server)
    finally:
        await session.close()


async def sessions_bench(endpoint: str, count: int) -> tuple[float, float]:
    """Seconds for ``count`` sessions one after another, then all at once."""
    async with await GatewayClient.connect(endpoint, plaintext=True) as client:
        await one_session(client, -1)  # warm up
        started = time.perf_counter()
        for n in range(count):
            await one_session(client, n)
        sequential = time.perf_counter() - started
        started = time.perf_counter()
        await asyncio.gather(*(one_session(client, n) for n in range(count)))
        concurrent = time.perf_counter() - started
    return sequential, concurrent


async def run(
    quick: bool = False, items: int | None = None, sessions: int | None = None
) -> list[Result]:
    """Measure the three scale figures; returns their table rows."""
    items = items or (200 if quick else 10_000)
    sessions = sessions or (5 if quick else 100)
    rounds = 1 if quick else 3
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        galaxy = Path(tmp) / "bench-galaxy.yaml"
        expected = write_galaxy(galaxy, items)
        with simulator(
            "--galaxy",
            str(galaxy),
            "--max-sessions",
            str(sessions + 8),
            "--event-queue",
            str(max(10_000, 4 * items)),
        ) as sim:
            typed_s: list[float] = []
            raw_s: list[float] = []
            grown: list[int] = []
            for n in range(rounds):
                if n % 2:
                    raw_s.append(await raw_checklist(sim.endpoint, expected))
                t, g = await typed_checklist(sim.endpoint, expected, sim.pid)
                typed_s.append(t)
                grown.append(g)
                if not n % 2:
                    raw_s.append(await raw_checklist(sim.endpoint, expected))
            typed, raw = median(typed_s), median(raw_s)
            results.append(
                Result(
                    f"scale: {items}-item checklist (add, advise, initial value)",
                    f"{fmt_s(raw)} raw stubs",
                    fmt_s(typed),
                    typed / raw,
                    "< 5 s",
                    typed < 5.0,
                    "bulk commands, batched events, mxgw-sim process; ratio is typed / raw",
                )
            )
            # The first round's growth: later rounds reuse memory the first one freed.
            per_item = grown[0] / items
            results.append(
                Result(
                    "scale: simulator memory per advised item",
                    f"{rss_bytes(sim.pid) / 2**20:.1f} MiB RSS after",
                    f"{per_item:,.0f} B/item",
                    None,
                    "reported",
                    None,
                    f"RSS growth over {items} added+advised items, first round",
                )
            )
            sequential, concurrent = await sessions_bench(sim.endpoint, sessions)
            results.append(
                Result(
                    f"scale: {sessions} concurrent sessions / one after another",
                    fmt_s(sequential),
                    fmt_s(concurrent),
                    concurrent / sequential,
                    "reported (< 1 = concurrency pays)",
                    None,
                    "open, register, add, advise, initial value, undo, close",
                )
            )
    return results


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = bench_parser(__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=None)
    parser.add_argument("--sessions", type=int, default=None)
    args = parser.parse_args(argv)
    print_results(asyncio.run(run(args.quick, args.items, args.sessions)), as_json=args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
