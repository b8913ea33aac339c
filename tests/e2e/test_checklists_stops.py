"""When a for-each stops early: an interrupt or an error ends it, and the rows it did not
reach stay in the record as not checked. These scenarios open no session."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

from .support import LiveRun, run_cli, scenario_file

ROWS = """
    name: three rows, the second one slow
    steps:
      - for-each:
          items: [10ms, 30s, 10ms]
          steps:
            - wait: "${row}"
      - wait: 1ms
"""


def test_ctrl_c_in_a_pass_stops_the_for_each_and_lists_the_rows_not_run(
    live_run: Callable[..., LiveRun], tmp_path: Path
) -> None:
    path = scenario_file(tmp_path, "rows.yaml", ROWS)
    run = live_run(path, report=tmp_path / "r.json")
    run.wait_for_line("01.1 for-each [1/3] 10ms")
    run.signal(signal.SIGINT)
    result = run.finish(timeout=30)
    assert result.code == 130, result.output
    step = result.steps()[0]
    assert step["status"] == "interrupted"
    assert [p["status"] for p in step["steps"]] == ["passed", "interrupted", "skipped"]
    assert step["steps"][1]["steps"][0]["status"] == "interrupted"
    skipped = step["steps"][2]
    assert skipped["name"] == "[3/3] 10ms"
    assert skipped["message"] == "not run: the for-each stopped (interrupted in pass 2)"
    assert result.steps()[1]["status"] == "skipped"


def test_an_error_in_a_pass_stops_the_for_each(tmp_path: Path) -> None:
    path = scenario_file(
        tmp_path,
        "rows.yaml",
        """
        steps:
          - for-each:
              items: [1ms, not-a-duration, 1ms]
              steps:
                - wait: "${row}"
                - wait: 1ms
        """,
    )
    result = run_cli(path, report=tmp_path / "r.json", timeout=30)
    assert result.code == 2, result.output  # the scenario's mistake: exit 2
    step = result.steps()[0]
    assert step["status"] == "error"
    assert [p["status"] for p in step["steps"]] == ["passed", "error", "skipped"]
    second = step["steps"][1]
    assert [s["status"] for s in second["steps"]] == ["error", "skipped"]
    assert second["message"].startswith("01.2.01 wait at ")
    assert step["message"] == second["message"]


def test_the_scenario_time_limit_stops_a_for_each_as_a_failure(tmp_path: Path) -> None:
    path = scenario_file(
        tmp_path,
        "rows.yaml",
        """
        timeouts: {scenario: 1s}
        steps:
          - for-each:
              items: [10ms, 30s, 10ms]
              steps:
                - wait: "${row}"
        """,
    )
    result = run_cli(path, report=tmp_path / "r.json", timeout=30)
    assert result.code == 1, result.output
    step = result.steps()[0]
    assert step["status"] == "failed"
    assert "timed out after 1 s" in step["message"]
    assert [p["status"] for p in step["steps"]] == ["passed", "failed", "skipped"]
    assert step["steps"][1]["steps"][0]["message"] == "stopped: the scenario ran out of time"
    assert step["steps"][2]["message"] == "not run: the for-each stopped (out of time in pass 2)"
