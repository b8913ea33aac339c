"""Load: 50 ``mxgw-run`` processes at once against one simulator — every scenario passes,
the sessions really overlap, and none is left open afterwards."""

from __future__ import annotations

import subprocess
import time

import pytest
from e2e.support import MXGW_RUN, ROOT, env_with, sim_args

from mxgw_sim.testing import ADMIN_KEY, SimProcess

RUNS = 50


@pytest.mark.slow
def test_fifty_concurrent_runs_against_one_simulator(sim: SimProcess) -> None:
    smoke = ROOT / "scenarios" / "smoke.mxgw.yaml"
    runs = [
        subprocess.Popen(
            [MXGW_RUN, str(smoke), *sim_args(sim), "-q"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env_with(),
        )
        for _ in range(RUNS)
    ]
    peak = 0
    deadline = time.monotonic() + 120
    try:
        while any(run.poll() is None for run in runs):
            assert time.monotonic() < deadline, "runs still going after 120 s"
            peak = max(peak, len(sim.list_sessions(ADMIN_KEY)))
            time.sleep(0.1)  # sampling the session count, not waiting for an outcome
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()
    results = [(run.returncode, *run.communicate()) for run in runs]
    failed = [(code, err.decode()[-300:]) for code, _, err in results if code != 0]
    assert failed == []
    assert peak > 1  # the sessions overlapped
    assert sim.wait_for_sessions(0, ADMIN_KEY) == []
