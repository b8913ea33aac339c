"""Helpers of the ``mxgw-py`` tests: run the CLI as a process, talk to a simulator process.

Every test runs the CLI as a separate process (``python -m mxgateway_cli``, or the
``mxgw-py`` console script) against a simulator process on 127.0.0.1, so what is tested is
exactly what a user runs.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mxgw_sim.testing import ADMIN_KEY, READ_KEY, USER_KEY, SimProcess

API_KEY = USER_KEY
__all__ = [
    "ADMIN_KEY",
    "API_KEY",
    "READ_KEY",
    "CliRun",
    "Gateway",
    "interrupt",
    "read_until",
    "run_cli",
    "start_cli",
]
KEY_ENV = "MXGW_CLI_TEST_KEY"
CLI_TIMEOUT = 60.0
HERE = Path(__file__).resolve().parent
SESSION_ID_RE = re.compile(r"^session-[0-9a-f]{32}$")


@dataclass
class CliRun:
    """One finished ``mxgw-py`` process."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def doc(self) -> Any:
        """stdout as exactly one JSON document (fails the test otherwise)."""
        lines = self.stdout.splitlines()
        assert len(lines) == 1, f"expected one JSON line, got {self.stdout!r} ({self.stderr!r})"
        return json.loads(lines[0])

    @property
    def docs(self) -> list[Any]:
        """stdout as JSON lines."""
        return [json.loads(line) for line in self.stdout.splitlines()]

    def expect(self, code: int = 0) -> CliRun:
        """Assert the exit code (showing both streams when it differs); returns self."""
        assert self.returncode == code, (
            f"exit {self.returncode}, expected {code}\nargs: {self.args}\n"
            f"stdout: {self.stdout}\nstderr: {self.stderr}"
        )
        assert "Traceback" not in self.stderr, self.stderr
        return self


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment without the user's MXGATEWAY_* settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MXGATEWAY_")}
    env.pop(KEY_ENV, None)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def cli_command(*args: str) -> list[str]:
    """The command line of ``mxgw-py`` run as ``python -m mxgateway_cli``."""
    return [sys.executable, "-m", "mxgateway_cli", *args]


def run_cli(
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = CLI_TIMEOUT,
    executable: Sequence[str] | None = None,
) -> CliRun:
    """Run ``mxgw-py args...`` to completion and capture both streams."""
    command = [*(executable or cli_command()), *args]
    done = subprocess.run(
        command,
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return CliRun(command, done.returncode, done.stdout, done.stderr)


@dataclass
class Gateway:
    """A running simulator and the connection options that reach it."""

    sim: SimProcess
    api_key: str = API_KEY

    @property
    def endpoint(self) -> str:
        """host:port of the simulator."""
        return self.sim.endpoint

    def options(self) -> list[str]:
        """--endpoint, --plaintext and the key by environment variable."""
        return ["--endpoint", self.endpoint, "--plaintext", "--api-key-env", KEY_ENV]

    def run(self, command: str, *args: str, env: dict[str, str] | None = None) -> CliRun:
        """Run ``mxgw-py command`` with the connection options and the key in the env."""
        return run_cli(command, *self.options(), *args, env={KEY_ENV: self.api_key, **(env or {})})

    def ok(self, command: str, *args: str) -> Any:
        """Run with ``--json``, expect exit 0, return the document."""
        return self.run(command, *args, "--json").expect(0).doc

    def open_session(self) -> str:
        """A new session id (via ``mxgw-py open-session``)."""
        sid = self.ok("open-session")["session_id"]
        assert SESSION_ID_RE.match(sid), sid
        return str(sid)

    def session_ids(self) -> set[str]:
        """The ids of the sessions open on the simulator."""
        return {s.session_id for s in self.sim.list_sessions(api_key=ADMIN_KEY)}


def start_cli(gateway: Gateway, *args: str) -> subprocess.Popen[str]:
    """Start ``mxgw-py args...`` against ``gateway`` without waiting for it."""
    return subprocess.Popen(
        cli_command(*args[:1], *gateway.options(), *args[1:]),
        env=clean_env({KEY_ENV: gateway.api_key}),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_until(process: subprocess.Popen[str], marker: str, timeout: float = 20.0) -> str:
    """Read stdout lines until one contains ``marker``; returns everything read."""
    assert process.stdout is not None
    seen = ""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while marker not in seen:
            remaining = deadline - time.monotonic()
            assert remaining > 0 and selector.select(remaining), f"no {marker!r} in {seen!r}"
            line = process.stdout.readline()
            assert line, f"process ended before {marker!r}: {seen!r}"
            seen += line
    return seen


def interrupt(
    process: subprocess.Popen[str], sig: signal.Signals = signal.SIGINT
) -> tuple[int, str, str]:
    process.send_signal(sig)
    out, err = process.communicate(timeout=20)
    return process.returncode, out, err
