"""Helpers to run a real ``mxgw-sim`` process from tests and tools.

::

    with running_sim("--api-key", key) as sim:
        ...  # sim.endpoint, sim.pid, sim.list_sessions(api_key=key)

:func:`start_sim` spawns ``python -m mxgw_sim serve --listen 127.0.0.1:0 ...``, reads the
one ``listening`` JSON line from its stdout and returns a :class:`SimProcess`;
:meth:`SimProcess.stop` sends SIGTERM and waits for the exit status. The control-service
helpers use a synchronous channel, so they work inside and outside an event loop.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import grpc

from mxgw_sim.generated import mxgw_sim_control_pb2 as cpb
from mxgw_sim.generated import mxgw_sim_control_pb2_grpc as cpb_grpc

START_TIMEOUT = 30.0

#: Test keys: ``admin`` (control service), ``user`` (everything but admin), ``reader``
#: (open sessions and read, no writes). Never use them outside tests.
ADMIN_KEY = "mxgw_admin_0123456789abcdef"
USER_KEY = "mxgw_user_fedcba9876543210"
READ_KEY = "mxgw_reader_00aa11bb22cc33dd"
TEST_KEYS: list[dict[str, Any]] = [
    {"name": "admin", "key": ADMIN_KEY, "scopes": ["admin"]},
    {
        "name": "user",
        "key": USER_KEY,
        "scopes": [
            "session:open",
            "session:close",
            "invoke:read",
            "invoke:write",
            "invoke:secure",
            "events:read",
            "metadata:read",
        ],
    },
    {
        "name": "reader",
        "key": READ_KEY,
        "scopes": ["session:open", "session:close", "invoke:read", "events:read"],
    },
]


def write_keys_file(path: Path) -> Path:
    """Write :data:`TEST_KEYS` as a JSON keys file for ``--api-key-file``."""
    path.write_text(json.dumps({"keys": TEST_KEYS}, indent=2), encoding="utf-8")
    return path


class SimStartError(RuntimeError):
    """The simulator exited or stayed silent instead of printing its listening line."""


@dataclass
class SimProcess:
    """A running ``mxgw-sim`` child process and what its listening line said."""

    process: subprocess.Popen[bytes]
    info: dict[str, Any]
    stderr_file: IO[bytes]
    ca_file: str | None = None
    args: list[str] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        """``host:port`` the simulator listens on."""
        return str(self.info["endpoint"])

    @property
    def pid(self) -> int:
        """The simulator's process id."""
        return self.process.pid

    def stderr_text(self) -> str:
        """Everything the simulator logged so far."""
        self.stderr_file.flush()
        self.stderr_file.seek(0)
        return self.stderr_file.read().decode("utf-8", "replace")

    def channel(self, server_name: str | None = None) -> grpc.Channel:
        """A synchronous channel to the simulator (TLS when it serves TLS)."""
        if not self.info.get("tls"):
            return grpc.insecure_channel(self.endpoint)
        root = Path(self.ca_file).read_bytes() if self.ca_file else None
        options = [("grpc.ssl_target_name_override", server_name)] if server_name else []
        return grpc.secure_channel(
            self.endpoint, grpc.ssl_channel_credentials(root), options=options
        )

    def control(self, method: str, request: Any, api_key: str | None = None) -> Any:
        """Call one SimulatorControl method synchronously and return its reply."""
        metadata = (("authorization", f"Bearer {api_key}"),) if api_key else None
        with self.channel() as channel:
            stub = cpb_grpc.SimulatorControlStub(channel)
            return getattr(stub, method)(request, timeout=10, metadata=metadata)

    def list_sessions(self, api_key: str | None = None) -> list[cpb.SessionInfo]:
        """The simulator's open sessions (the leak check)."""
        reply = self.control("ListSessions", cpb.ListSessionsRequest(), api_key)
        return list(reply.sessions)

    def wait_for_sessions(
        self, count: int, api_key: str | None = None, timeout: float = 10.0
    ) -> list[cpb.SessionInfo]:
        """Poll until exactly ``count`` sessions are open; returns them (or the last list)."""
        deadline = time.monotonic() + timeout
        sessions = self.list_sessions(api_key)
        while len(sessions) != count and time.monotonic() < deadline:
            time.sleep(0.05)
            sessions = self.list_sessions(api_key)
        return sessions

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, then wait; kills after ``timeout`` s. Returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode

    def close(self) -> None:
        """Stop the process and release the log file."""
        self.stop()
        self.stderr_file.close()


def sim_command(args: Sequence[str]) -> list[str]:
    """The command line that runs ``mxgw-sim serve`` with ``args`` on an ephemeral port."""
    argv = list(args)
    if "--listen" not in argv:
        argv = ["--listen", "127.0.0.1:0", *argv]
    return [sys.executable, "-m", "mxgw_sim", "serve", *argv]


def _read_line(process: subprocess.Popen[bytes], timeout: float) -> bytes:
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    buffer = b""
    try:
        while b"\n" not in buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                return buffer
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                return buffer
            buffer += chunk
    finally:
        selector.close()
    return buffer.split(b"\n", 1)[0]


def start_sim(
    *args: str,
    env: dict[str, str] | None = None,
    ca_file: str | None = None,
    timeout: float = START_TIMEOUT,
) -> SimProcess:
    """Start ``mxgw-sim serve`` with ``args`` and wait for its listening line."""
    stderr_file = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the SimProcess
    command = sim_command(args)
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=stderr_file,
        env={**os.environ, **(env or {})},
    )
    line = _read_line(process, timeout)
    sim = SimProcess(process, {}, stderr_file, ca_file, command)
    try:
        info = json.loads(line)
        if info.get("event") != "listening":
            raise ValueError(line)
    except ValueError:
        sim.stop(5)
        log = sim.stderr_text()
        stderr_file.close()
        raise SimStartError(
            f"mxgw-sim did not start (exit {process.returncode}): {line!r}\n{log}"
        ) from None
    sim.info = info
    return sim


@contextlib.contextmanager
def running_sim(*args: str, **kwargs: Any) -> Iterator[SimProcess]:
    """:func:`start_sim` as a context manager that always stops the process."""
    sim = start_sim(*args, **kwargs)
    try:
        yield sim
    finally:
        sim.close()
