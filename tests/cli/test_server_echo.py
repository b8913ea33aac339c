"""A gateway that echoes the caller's API key in its error texts and replies: the CLI must
still never print it (status details, reply diagnostics, ``--raw`` replies, stream errors).

The gateway here is a real gRPC server on 127.0.0.1 (port 0) in the test process; the CLI
runs as its own process against it.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from cli_helpers import KEY_ENV, CliRun, run_cli

from mxgateway.generated import mxaccess_gateway_pb2 as pb
from mxgateway.generated import mxaccess_gateway_pb2_grpc as pb_grpc

KEY = "mxgw_echo_Th1sKeyMustNeverBePrinted"


def _token(context: grpc.ServicerContext) -> str:
    metadata = dict(context.invocation_metadata())
    return str(metadata.get("authorization", ""))


class EchoingGateway(pb_grpc.MxAccessGatewayServicer):
    """Leaks the bearer token everywhere a careless gateway could."""

    def OpenSession(self, request: Any, context: grpc.ServicerContext) -> Any:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"rejected {_token(context)}")

    def Invoke(self, request: Any, context: grpc.ServicerContext) -> Any:
        leak = f"refused for {_token(context)}"
        return pb.MxCommandReply(
            session_id=request.session_id,
            kind=request.kind,
            protocol_status=pb.ProtocolStatus(
                code=pb.PROTOCOL_STATUS_CODE_MXACCESS_FAILURE, message=leak
            ),
            hresult=-2147220992,
            statuses=[
                pb.MxStatusProxy(
                    success=0,
                    category=pb.MX_STATUS_CATEGORY_SECURITY_ERROR,
                    detected_by=pb.MX_STATUS_SOURCE_RESPONDING_LMX,
                    detail=321,
                    raw_category=6,
                    raw_detected_by=1,
                    diagnostic_text=leak,
                )
            ],
            diagnostic_message=leak,
        )

    def StreamEvents(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        context.abort(grpc.StatusCode.NOT_FOUND, f"no session for {_token(context)}")
        yield pb.MxEvent()  # pragma: no cover - abort raises


@pytest.fixture(scope="module")
def echo_endpoint() -> Iterator[str]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    pb_grpc.add_MxAccessGatewayServicer_to_server(EchoingGateway(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(grace=None).wait()


def _run(endpoint: str, *args: str) -> CliRun:
    return run_cli(
        *args[:1], "--endpoint", endpoint, "--api-key-env", KEY_ENV, *args[1:], env={KEY_ENV: KEY}
    )


def _clean(run: CliRun) -> None:
    assert KEY not in run.stdout and KEY not in run.stderr, run.stdout + run.stderr
    assert "<redacted>" in run.stdout + run.stderr


def test_status_details_echoing_the_key_are_scrubbed(echo_endpoint: str) -> None:
    for extra in ([], ["--json"]):
        run = _run(echo_endpoint, "open-session", *extra).expect(8)
        _clean(run)


def test_reply_texts_echoing_the_key_are_scrubbed(echo_endpoint: str) -> None:
    s = ["--session-id", "session-" + "0" * 32]
    for extra in ([], ["--json"], ["--json", "--raw"]):
        run = _run(echo_endpoint, "register", *s, *extra).expect(5)
        _clean(run)
    raw = _run(echo_endpoint, "register", *s, "--json", "--raw").doc["error"]
    assert raw["raw"]["diagnosticMessage"] == "refused for Bearer <redacted>"
    assert raw["statuses"][0]["category"] == "SECURITY_ERROR"


def test_stream_errors_echoing_the_key_are_scrubbed(echo_endpoint: str) -> None:
    s = ["--session-id", "session-" + "0" * 32]
    for extra in ([], ["--json"]):
        run = _run(echo_endpoint, "stream-events", *s, "--timeout", "5", *extra).expect(6)
        _clean(run)
