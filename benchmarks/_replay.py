"""A minimal gateway that replays pre-built, pre-serialized events as fast as gRPC can send.

It is the baseline for measuring the client side alone: the simulator spends most of its time
making events, so against it a client's rate says more about the simulator than about the
client. This server runs in its own process (its own core on a two-core machine) and serves:

* ``OpenSession``: the session name ``replay:<events>:<batch size>`` says what its event
  streams carry (``<events>`` data changes with sequences 1..N; batches of ``<batch size>``);
* ``StreamEvents``: those events one per message;
* ``StreamEventBatches`` (the extension): the same events, ``<batch size>`` per message;
* ``CloseSession``;
* ``Invoke``: one canned OK reply (an AddItem answer) to any command, the transport's limit
  for a command round trip.

Every message is serialized once, before the first stream, so sending costs gRPC only.
Run ``python -m benchmarks._replay``; it prints ``{"endpoint": ...}`` on stdout once serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc

from mxgateway import to_mx_value
from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway.generated import mxgw_extensions_pb2 as ext

GATEWAY = "mxaccess_gateway.v1.MxAccessGateway"
EXTENSIONS = "mxgw.ext.v1.MxGatewayExtensions"


def build_events(count: int) -> list[pb.MxEvent]:
    """``count`` data changes of one integer item, as the simulator would send them."""
    template = pb.MxEvent(
        family=pb.MX_EVENT_FAMILY_ON_DATA_CHANGE, server_handle=1, item_handle=1, quality=192
    )
    template.on_data_change.SetInParent()
    template.statuses.add(
        success=-1,
        category=pb.MX_STATUS_CATEGORY_OK,
        detected_by=pb.MX_STATUS_SOURCE_REQUESTING_LMX,
    )
    template.source_timestamp.GetCurrentTime()
    template.worker_timestamp.CopyFrom(template.source_timestamp)
    template.gateway_receive_timestamp.CopyFrom(template.source_timestamp)
    events = []
    for n in range(1, count + 1):
        event = pb.MxEvent()
        event.CopyFrom(template)
        event.worker_sequence = n
        event.value.CopyFrom(to_mx_value(n % 1_000_000, "Integer"))
        events.append(event)
    return events


class Replay:
    """Pre-serialized streams per (event count, batch size), built on first use."""

    def __init__(self) -> None:
        self._sessions: dict[str, tuple[int, int]] = {}
        self._singles: dict[int, list[bytes]] = {}
        self._batches: dict[tuple[int, int], list[bytes]] = {}

    def _events(self, count: int) -> list[pb.MxEvent]:
        return build_events(count)

    def singles(self, count: int) -> list[bytes]:
        """Each event serialized on its own (StreamEvents)."""
        if count not in self._singles:
            self._singles[count] = [e.SerializeToString() for e in self._events(count)]
        return self._singles[count]

    def batches(self, count: int, size: int) -> list[bytes]:
        """The events serialized ``size`` per MxEventBatch (StreamEventBatches)."""
        key = (count, size)
        if key not in self._batches:
            events = self._events(count)
            self._batches[key] = [
                ext.MxEventBatch(events=events[i : i + size]).SerializeToString()
                for i in range(0, count, size)
            ]
        return self._batches[key]

    # ------------------------------------------------------------------ handlers

    _INVOKE_REPLY = pb.MxCommandReply(
        kind=pb.MX_COMMAND_KIND_ADD_ITEM,
        protocol_status=pb.ProtocolStatus(code=pb.PROTOCOL_STATUS_CODE_OK),
        add_item=pb.AddItemReply(item_handle=1),
    ).SerializeToString()

    async def invoke(self, request: pb.MxCommandRequest, context: Any) -> bytes:
        return self._INVOKE_REPLY

    async def open_session(self, request: pb.OpenSessionRequest, context: Any) -> bytes:
        _, count, size = [*request.client_session_name.split(":"), "0", "0"][:3]
        sid = "session-" + uuid.uuid4().hex
        self._sessions[sid] = (int(count or 0), int(size or 256))
        # Build now, so the first stream is not timed building.
        self.singles(int(count or 0))
        self.batches(int(count or 0), int(size or 256))
        return pb.OpenSessionReply(
            session_id=sid,
            backend_name="replay",
            gateway_protocol_version=3,
            worker_protocol_version=3,
            protocol_status=pb.ProtocolStatus(code=pb.PROTOCOL_STATUS_CODE_OK),
        ).SerializeToString()

    async def close_session(self, request: pb.CloseSessionRequest, context: Any) -> bytes:
        self._sessions.pop(request.session_id, None)
        return pb.CloseSessionReply(
            session_id=request.session_id,
            final_state=pb.SESSION_STATE_CLOSED,
            protocol_status=pb.ProtocolStatus(code=pb.PROTOCOL_STATUS_CODE_OK),
        ).SerializeToString()

    async def stream_events(
        self, request: pb.StreamEventsRequest, context: Any
    ) -> AsyncIterator[bytes]:
        count, _ = self._sessions[request.session_id]
        for message in self.singles(count)[request.after_worker_sequence :]:
            yield message

    async def stream_batches(
        self, request: ext.StreamEventBatchesRequest, context: Any
    ) -> AsyncIterator[bytes]:
        count, size = self._sessions[request.session_id]
        skip = request.after_worker_sequence
        if skip:
            # A resume: serve the rest as fresh batches (rare; not the measured path).
            events = self._events(count)[skip:]
            for i in range(0, len(events), size):
                yield ext.MxEventBatch(events=events[i : i + size]).SerializeToString()
            return
        for message in self.batches(count, size):
            yield message


def _identity(data: bytes) -> bytes:
    return data


def handlers(replay: Replay) -> list[Any]:
    """Generic handlers sending pre-serialized bytes (no per-message serialization)."""
    gateway = grpc.method_handlers_generic_handler(
        GATEWAY,
        {
            "OpenSession": grpc.unary_unary_rpc_method_handler(
                replay.open_session,
                request_deserializer=pb.OpenSessionRequest.FromString,
                response_serializer=_identity,
            ),
            "CloseSession": grpc.unary_unary_rpc_method_handler(
                replay.close_session,
                request_deserializer=pb.CloseSessionRequest.FromString,
                response_serializer=_identity,
            ),
            "Invoke": grpc.unary_unary_rpc_method_handler(
                replay.invoke,
                request_deserializer=pb.MxCommandRequest.FromString,
                response_serializer=_identity,
            ),
            "StreamEvents": grpc.unary_stream_rpc_method_handler(
                replay.stream_events,
                request_deserializer=pb.StreamEventsRequest.FromString,
                response_serializer=_identity,
            ),
        },
    )
    extensions = grpc.method_handlers_generic_handler(
        EXTENSIONS,
        {
            "StreamEventBatches": grpc.unary_stream_rpc_method_handler(
                replay.stream_batches,
                request_deserializer=ext.StreamEventBatchesRequest.FromString,
                response_serializer=_identity,
            ),
        },
    )
    return [gateway, extensions]


async def serve() -> None:
    """Serve on 127.0.0.1 (a free port) until killed; print the endpoint once listening."""
    server = grpc.aio.server(
        options=[("grpc.max_send_message_length", 64 * 1024 * 1024)],
    )
    server.add_generic_rpc_handlers(handlers(Replay()))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(json.dumps({"endpoint": f"127.0.0.1:{port}"}), flush=True)
    await server.wait_for_termination()


@contextlib.contextmanager
def replay_server() -> Iterator[str]:
    """Start the replay server in a child process; yields its endpoint, stops it after."""
    root = Path(__file__).resolve().parent.parent  # where the benchmarks package lives
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks._replay"], stdout=subprocess.PIPE, text=True, cwd=root
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the replay server exited before listening")
        yield str(json.loads(line)["endpoint"])
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
