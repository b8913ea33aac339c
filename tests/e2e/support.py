"""Running the real ``mxgw-run`` executable in tests, and reading values back from a simulator.

``run_cli`` runs it to completion; :class:`LiveRun` keeps it running so a test can
wait for a console line and then signal it or break the gateway under it.
"""

from __future__ import annotations

import asyncio
import json
import os
import selectors
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mxgw_sim.testing import USER_KEY, SimProcess

MXGW_RUN = str(Path(sys.executable).with_name("mxgw-run"))
KEY_ENV = "MXGW_TEST_API_KEY"
ROOT = Path(__file__).resolve().parents[2]
#: Passwords of the default galaxy's users, given to scenarios through the environment.
PASSWORDS = {"MXGW_OPERATOR_PASSWORD": "operator2", "MXGW_SUPERVISOR_PASSWORD": "supervisor1"}


@dataclass
class CliResult:
    """Exit code, output and (when asked for) the JSON report of one run."""

    code: int
    stdout: str
    stderr: str
    report: dict[str, Any] | None = None

    @property
    def output(self) -> str:
        """stdout and stderr together."""
        return self.stdout + self.stderr

    def scenario(self, index: int = 0) -> dict[str, Any]:
        """A scenario of the JSON report."""
        assert self.report is not None, self.output
        scenario: dict[str, Any] = self.report["scenarios"][index]
        return scenario

    def steps(self, index: int = 0) -> list[dict[str, Any]]:
        """The steps of a scenario of the JSON report."""
        steps: list[dict[str, Any]] = self.scenario(index)["steps"]
        return steps


def env_with(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test's environment with the API key and galaxy passwords set."""
    env = {**os.environ, KEY_ENV: USER_KEY, **PASSWORDS}
    env.pop("MXGATEWAY_ENDPOINT", None)
    if extra:
        env.update(extra)
    return env


def sim_args(sim: SimProcess) -> list[str]:
    """Options that point mxgw-run at a simulator process."""
    return ["--endpoint", sim.endpoint, "--plaintext", "--api-key-env", KEY_ENV]


def scenario_file(directory: Path, name: str, text: str) -> Path:
    """Write a dedented scenario file and return its path."""
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def _load_report(path: Path | None) -> dict[str, Any] | None:
    if path is None or not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def run_cli(
    *args: str | Path,
    report: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60.0,
    cwd: Path | None = None,
) -> CliResult:
    """Run ``mxgw-run`` to completion (``report``: also ask for and load a JSON report)."""
    argv = [MXGW_RUN, *map(str, args)]
    if report is not None:
        argv += ["--report-json", str(report)]
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        env=env_with(env),
        timeout=timeout,
        cwd=cwd or ROOT,
        check=False,
    )
    return CliResult(done.returncode, done.stdout, done.stderr, _load_report(report))


def run_with_plugins(
    argv: Sequence[str | Path], *, cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` (an ``mxgw-run``) with plugin autoloading on whatever this process's
    environment says, then ``env`` added; output captured as text."""
    environ = dict(os.environ)
    environ.pop("MXGW_RUN_DISABLE_PLUGIN_AUTOLOAD", None)
    environ.update(env or {})
    return subprocess.run(
        [str(arg) for arg in argv],
        capture_output=True,
        text=True,
        env=environ,
        cwd=cwd,
        timeout=60,
        check=False,
    )


class LiveRun:
    """An ``mxgw-run`` process the test interacts with while it runs."""

    def __init__(
        self, *args: str | Path, report: Path | None = None, env: dict[str, str] | None = None
    ) -> None:
        argv = [MXGW_RUN, *map(str, args)]
        if report is not None:
            argv += ["--report-json", str(report)]
        self.report_path = report
        self.process = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env_with(env),
            cwd=ROOT,
        )
        self._out = b""

    def wait_for_line(self, needle: str, timeout: float = 30.0) -> str:
        """Block until a stdout line contains ``needle``; returns that line."""
        assert self.process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        try:
            while True:
                for line in self._out.decode("utf-8", "replace").splitlines():
                    if needle in line:
                        return line
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    raise AssertionError(f"no line with {needle!r} in:\n{self._out.decode()}")
                chunk = os.read(self.process.stdout.fileno(), 65536)
                if not chunk:
                    raise AssertionError(f"mxgw-run ended before {needle!r}:\n{self._out.decode()}")
                self._out += chunk
        finally:
            selector.close()

    def signal(self, signum: signal.Signals) -> None:
        """Send a signal to the run."""
        self.process.send_signal(signum)

    def finish(self, timeout: float = 60.0) -> CliResult:
        """Wait for the exit and collect everything."""
        out, err = self.process.communicate(timeout=timeout)
        stdout = (self._out + out).decode("utf-8", "replace")
        return CliResult(
            self.process.returncode,
            stdout,
            err.decode("utf-8", "replace"),
            _load_report(self.report_path),
        )

    def kill(self) -> None:
        """Kill the run if it is still going (test teardown)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


def read_values(sim: SimProcess, *references: str) -> dict[str, Any]:
    """Current values of attributes, read through the simulator with the client (advise)."""

    async def read() -> dict[str, Any]:
        from mxgateway import DataChange, GatewayClient

        async with await GatewayClient.connect(
            sim.endpoint, api_key=USER_KEY, plaintext=True
        ) as client:
            session = await client.open_session("test-read-back")
            try:
                server = await session.register("test-read-back")
                handles = {}
                for reference in references:
                    handle = await session.add_item(server, reference)
                    handles[handle] = reference
                events = session.events()
                try:
                    for handle in handles:
                        await session.advise(server, handle)
                    values: dict[str, Any] = {}
                    async with asyncio.timeout(10):
                        async for event in events:
                            if isinstance(event, DataChange) and event.item_handle in handles:
                                values.setdefault(handles[event.item_handle], event.value)
                                if len(values) == len(handles):
                                    return values
                finally:
                    events.cancel()
            finally:
                await session.close()
        raise AssertionError("no values")

    return asyncio.run(read())


def set_value(sim: SimProcess, reference: str, value: Any, type_name: str) -> None:
    """Force an attribute's value through the simulator's control service."""
    from mxgateway import to_mx_value
    from mxgw_sim.generated import mxgw_sim_control_pb2 as cpb
    from mxgw_sim.testing import ADMIN_KEY

    sim.control(
        "SetValue",
        cpb.SetValueRequest(reference=reference, value=to_mx_value(value, type_name)),
        ADMIN_KEY,
    )


def control(sim: SimProcess, method: str, request: Any) -> Any:
    """Call the simulator's control service with the admin key."""
    from mxgw_sim.testing import ADMIN_KEY

    return sim.control(method, request, ADMIN_KEY)


def session_ids(sim: SimProcess, client_name: str | None = None) -> list[str]:
    """Open sessions of the simulator (optionally only those of one client name)."""
    from mxgw_sim.testing import ADMIN_KEY

    return [
        s.session_id
        for s in sim.list_sessions(ADMIN_KEY)
        if client_name is None or s.client_name == client_name
    ]
