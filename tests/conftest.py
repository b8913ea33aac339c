"""Shared fixtures: real ``mxgw-sim`` processes and the open-session leak check.

* ``sim`` — one simulator process for the whole test run (keys: ``mxgw_sim.testing.TEST_KEYS``);
* ``sim_factory`` — start extra simulators with their own options for one test;
* ``fresh_sim`` — one simulator of its own for one test, default options;
* after every test that used ``sim``, its galaxy is reset (``ctl reset``);
* ``no_leaked_sessions`` — after the test, asserts through the control service that the
  shared simulator has no session left open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mxgw_sim.generated import mxgw_sim_control_pb2 as cpb
from mxgw_sim.testing import ADMIN_KEY, SimProcess, start_sim, write_keys_file

SimFactory = Callable[..., SimProcess]


@pytest.fixture(scope="session")
def sim_keys_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A keys file (JSON) with an admin, a user and a read-only key."""
    return write_keys_file(tmp_path_factory.mktemp("sim-keys") / "keys.json")


@pytest.fixture(scope="session")
def sim(sim_keys_file: Path) -> Iterator[SimProcess]:
    """The shared simulator process (auth on, default galaxy, in-process workers)."""
    process = start_sim("--api-key-file", str(sim_keys_file), "--log-level", "WARNING")
    try:
        yield process
    finally:
        process.close()


@pytest.fixture(autouse=True)
def _reset_shared_sim(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test that used the shared ``sim``, restore its galaxy and remove injected
    faults (``ctl reset``), so values one test wrote never leak into the next."""
    yield
    if "sim" in request.fixturenames:
        shared: SimProcess = request.getfixturevalue("sim")
        if shared.process.poll() is None:
            shared.control("Reset", cpb.ResetRequest(), ADMIN_KEY)


@pytest.fixture
def fresh_sim(sim_factory: SimFactory) -> SimProcess:
    """A simulator of its own for one test (same keys as ``sim``), stopped afterwards."""
    return sim_factory()


@pytest.fixture
def sim_factory(sim_keys_file: Path) -> Iterator[SimFactory]:
    """Start simulators with extra options for one test; all are stopped afterwards."""
    started: list[SimProcess] = []

    def start(*args: str, keys: bool = True, **kwargs: object) -> SimProcess:
        argv = ["--api-key-file", str(sim_keys_file), *args] if keys else list(args)
        if "--log-level" not in argv:
            argv += ["--log-level", "WARNING"]
        process = start_sim(*argv, **kwargs)  # type: ignore[arg-type]
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in started:
            process.close()


@pytest.fixture
def no_leaked_sessions(sim: SimProcess) -> Iterator[None]:
    """Fail the test if the shared simulator still has open sessions after it."""
    yield
    left = [s.session_id for s in sim.wait_for_sessions(0, ADMIN_KEY, timeout=10.0)]
    for session_id in left:  # close them, so one leaking test does not fail the next ones
        sim.control("ExpireSession", cpb.SessionSelector(session_id=session_id), ADMIN_KEY)
    assert left == [], "sessions left open"
