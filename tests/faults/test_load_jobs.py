"""Load inside one runner: ten simulators' worth of sessions through one ``mxgw-run --jobs``.

A simulator holds 64 sessions by default (``mxgw-sim --max-sessions``). One run has one
endpoint, so "ten simulators' worth" is 640 scenarios, each in a session of its own, run
with ``--jobs 640`` against one simulator whose cap is raised to 640: far more sessions
open at once than one default simulator allows. Every scenario passes, no session is
left open, and the runner's resident memory stays bounded (see docs/reliability.md).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from e2e.support import MXGW_RUN, env_with, sim_args

from mxgw_sim.testing import ADMIN_KEY, SimProcess

from .measure_load import rss_kb

DEFAULT_CAPACITY = 64
SESSIONS = 10 * DEFAULT_CAPACITY
#: A sanity bound: the runner measured about 110 MiB at its peak (docs/reliability.md).
RSS_LIMIT_KB = 256 * 1024

SCENARIO = """name: load {n}
steps:
  - open-session: {{client-session-name: load-jobs}}
  - register: {{}}
  - add-item: {{item: Pump101.Speed.PV, as: pv}}
  - advise: pv
  - expect-event: {{item: pv, data-change: {{quality: good}}}}
"""


@pytest.mark.slow
def test_ten_simulators_worth_of_sessions_through_one_run(
    sim_factory: Callable[..., SimProcess], tmp_path: Path
) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    for n in range(SESSIONS):
        (folder / f"s{n:04d}.yaml").write_text(SCENARIO.format(n=n), encoding="utf-8")
    sim = sim_factory("--max-sessions", str(SESSIONS))
    report = tmp_path / "report.json"
    argv = [MXGW_RUN, str(folder), *sim_args(sim), "-q", "--jobs", str(SESSIONS)]
    run = subprocess.Popen(
        [*argv, "--report-json", str(report)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env_with(),
    )
    peak = 0
    start_rss: int | None = None
    last_rss: int | None = None
    deadline = time.monotonic() + 150
    try:
        while run.poll() is None:
            assert time.monotonic() < deadline, "mxgw-run still going after 150 s"
            open_now = len(sim.list_sessions(ADMIN_KEY))
            rss = rss_kb(run.pid)
            if rss is not None:
                if start_rss is None and open_now:
                    start_rss = rss  # started up, first sessions open
                last_rss = rss
            peak = max(peak, open_now)
            time.sleep(0.05)  # sampling, not waiting for an outcome
    finally:
        if run.poll() is None:
            run.kill()
    out, err = run.communicate()

    assert run.returncode == 0, err.decode()[-2000:]
    assert out.decode().splitlines()[-1] == f"{SESSIONS} scenarios: {SESSIONS} passed (exit code 0)"
    scenarios = json.loads(report.read_text(encoding="utf-8"))["scenarios"]
    assert [s["name"] for s in scenarios] == [f"load {n}" for n in range(SESSIONS)]
    assert {s["status"] for s in scenarios} == {"passed"}
    assert peak > DEFAULT_CAPACITY  # more at once than one default simulator holds
    assert sim.wait_for_sessions(0, ADMIN_KEY) == []
    assert start_rss is not None and last_rss is not None
    assert last_rss < RSS_LIMIT_KB, f"runner RSS {last_rss} KiB at the end"
