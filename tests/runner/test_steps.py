"""Every built-in step and every matcher kind, end to end: ``mxgw-run`` against ``mxgw-sim``.

Runs share the session-wide simulator; each test puts back what it changes and the
leak check asserts that no session is left open. Values are read back through the
simulator with the client, not taken from the runner's own report.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mxgw_sim.testing import SimProcess
from tests.e2e.support import CliResult, read_values, run_cli, scenario_file, sim_args

pytestmark = pytest.mark.usefixtures("no_leaked_sessions")


def run(sim: SimProcess, tmp_path: Path, text: str, *args: str) -> CliResult:
    """Write the scenario, run it against the shared simulator with a JSON report."""
    path = scenario_file(tmp_path, "scenario.yaml", text)
    return run_cli(path, *sim_args(sim), *args, report=tmp_path / "report.json")


def statuses(result: CliResult) -> list[str]:
    return [s["status"] for s in result.steps()]


def test_item_steps_and_their_explicit_undo(sim: SimProcess, tmp_path: Path) -> None:
    result = run(
        sim,
        tmp_path,
        """
        steps:
          - open-session: {client-session-name: item-steps}
          - register: {client-name: item-steps}
          - add-item: {item: Me.Speed.PV, context: Pump101, as: pv}
          - add-item: Pump101.Mode
          - advise: {items: [pv, Pump101.Mode], supervisory: true}
          - expect-event: {item: pv, data-change: {quality: good}}
          - expect-event: {item: Pump101.Mode, data-change: {value: 1}}
          - unadvise: [pv]
          - remove-item: pv
          - unregister: {}
          - close-session: {}
        """,
    )
    assert result.code == 0, result.output
    assert set(statuses(result)) == {"passed"}
    # unregister undid what the connection still held; nothing was left for the end.
    cleanup = [(c["action"], c["target"]) for c in result.scenario()["cleanup"]]
    assert cleanup == [("unadvise", "Pump101.Mode"), ("remove-item", "Pump101.Mode")]


MATCHERS = """
    vars: {start: 42}
    steps:
      - open-session: {}
      - register: {}
      - add-item: {item: Types.Int, as: int}
      - add-item: {item: Types.Float, as: float}
      - add-item: {item: Types.String, as: text}
      - add-item: {item: "Types.IntArray[]", as: ints}
      - add-item: {item: Types.Time, as: time}
      - add-item: {item: Tank01.Level.PV, as: level}
      - advise: [int, float, text, ints, time, level]
      - name: numbers compare as numbers
        expect-event: {item: int, data-change: {value: 42.0, quality: good, status: ok}}
      - expect-event: {item: float, data-change: {value: {approx: 1.49, tolerance: 0.02}}}
      - expect-event: {item: text, data-change: {value: {regex: "^hel+o$"}, quality: 192}}
      - name: arrays element by element
        expect-event:
          item: ints
          data-change: {value: [1, {gt: 1}, {between: [2, 4]}, {in: [4, 40]}, {ne: 4}]}
      - expect-event: {item: time, data-change: {value: "2026-04-30T12:00:00Z"}}
      - name: a timestamp after the step started
        expect-event:
          item: level
          data-change: {quality: {class: good}, timestamp: {after: step-start, max-age: 30s}}
          within: 5s
      - write: {item: int, value: "${start}", restore: true}
      - write: {item: int, value: 1}
      - write: {item: int, value: 2}
      - name: count two matching events
        expect-event: {item: int, data-change: {value: {in: [1, 2]}}, count: 2}
      - write: {item: int, value: 3}
      - name: since the last write, the next event
        expect-event:
          item: int
          data-change: {value: {ge: 3, lt: 4, le: 3}}
          mode: next
          since: last-write
      - read: {item: int, save: seen}
      - read: {item: int, value: "${seen}", quality: good, status: ok}
      - expect-no-event: {item: int, data-change: {value: 4}, for: 200ms}
      - wait: 10ms
"""


def test_matchers_of_every_kind_pass(sim: SimProcess, tmp_path: Path) -> None:
    result = run(sim, tmp_path, MATCHERS)
    assert result.code == 0, result.output
    assert set(statuses(result)) == {"passed"}
    assert result.steps()[-3]["observed"]["value"] == 3
    # The write with restore: true put 42 back at cleanup (then the session closed).
    actions = [c["action"] for c in result.scenario()["cleanup"]]
    assert actions[0] == "restore" and actions[-1] == "close-session"
    assert read_values(sim, "Types.Int") == {"Types.Int": 42}


def test_failed_expectation_shows_recent_events_and_the_closest(
    sim: SimProcess, tmp_path: Path
) -> None:
    result = run(
        sim,
        tmp_path,
        """
        steps:
          - open-session: {}
          - register: {}
          - add-item: {item: Pump101.Mode, as: mode}
          - advise: mode
          - expect-event:
              item: mode
              data-change: {value: {approx: 2, tolerance: 0.5}}
              within: 300ms
          - close-session: {}
        """,
    )
    assert result.code == 1, result.output
    step = result.steps()[4]
    assert step["status"] == "failed"
    assert step["message"].startswith("after 0.3 s: no matching data-change of mode")
    assert step["expected"] == "data-change of mode with value ≈ 2 ± 0.5"
    assert step["closest"]["event"]["value"] == 1
    assert step["closest"]["explanation"]
    assert [e["value"] for e in step["timeline"]] == [1]
    assert result.steps()[5]["status"] == "skipped"
    assert "closest:" in result.stdout


def test_mode_next_fails_at_once_on_a_mismatch(sim: SimProcess, tmp_path: Path) -> None:
    result = run(
        sim,
        tmp_path,
        """
        steps:
          - open-session: {}
          - register: {}
          - add-item: {item: Types.Bool, as: flag}
          - advise: flag
          - expect-event: {item: flag, data-change: {value: false}, mode: next, within: 30s}
        """,
    )
    assert result.code == 1, result.output
    step = result.steps()[4]
    assert "the next data-change of flag did not match" in step["message"]
    assert step["duration"] < 5


def test_expect_no_event_fails_when_one_arrives(sim: SimProcess, tmp_path: Path) -> None:
    result = run(
        sim,
        tmp_path,
        """
        steps:
          - open-session: {}
          - register: {}
          - add-item: {item: Tank01.Level.PV, as: level}
          - advise: level
          - expect-event: {item: level, data-change: {}}
          - expect-no-event: {item: level, for: 20s}
        """,
    )
    assert result.code == 1, result.output
    step = result.steps()[5]
    assert "an unwanted event arrived" in step["message"]
    assert step["duration"] < 10


def test_writes_of_every_kind(sim: SimProcess, tmp_path: Path) -> None:
    result = run(
        sim,
        tmp_path,
        """
        steps:
          - open-session: {}
          - register: {}
          - authenticate: {user: operator2, password-env: MXGW_OPERATOR_PASSWORD}
          - add-item: {item: Types.Float, as: float}
          - add-item: {item: Types.Double, as: double}
          - add-item: {item: Pump102.Operate, as: operate}
          - add-item: {item: Types.Int, as: int}
          - advise: [float, double, operate, int]
          - expect-event: {item: int, data-change: {}}
          - expect-event: {item: operate, data-change: {}}
          - name: Write with a type
            write: {item: float, value: 2, type: float, restore: true}
          - expect-event: {item: float, data-change: {value: 2.0}}
          - name: Write2 with a timestamp
            write: {item: double, value: 7.5, timestamp: "2026-02-03T04:05:06Z", restore: true}
          - expect-event:
              item: double
              data-change: {value: 7.5, timestamp: {after: "2026-02-03T04:05:05Z"}}
          - name: Write with a user (Operate)
            write: {item: operate, value: 8, user: operator2, restore: true}
          - expect-event: {item: operate, data-change: {value: 8}}
          - name: a value that cannot be converted fails in the completion
            write: {item: int, value: "not a number", expect: {category: SoftwareError}}
          - name: fire and forget
            write: {item: int, value: 43, wait: false, restore: true}
          - expect-event: {item: int, data-change: {value: 43}}
          - expect-event: {item: int, write-complete: {status: ok}, since: last-write}
        """,
        "-v",
    )
    assert result.code == 0, result.output
    assert set(statuses(result)) == {"passed"}
    assert "write completion ok" in result.steps()[10]["message"]
    assert "SoftwareError" in result.steps()[16]["message"]
    assert read_values(sim, "Types.Float", "Types.Double", "Pump102.Operate", "Types.Int") == {
        "Types.Float": 1.5,
        "Types.Double": 3.25,
        "Pump102.Operate": 0,
        "Types.Int": 42,
    }


def test_restore_puts_values_back_at_cleanup(sim: SimProcess, tmp_path: Path) -> None:
    result = run(
        sim,
        tmp_path,
        """
        steps:
          - open-session: {}
          - register: {}
          - add-item: {item: Types.Double, as: double}
          - add-item: {item: Types.String, as: text}
          - advise: [double, text]
          - write: {item: double, value: 9.5, restore: true}
          - write: {item: double, value: 10.5, restore: true}
          - write: {item: text, value: changed, restore: true}
          - expect-event: {item: text, data-change: {value: changed}}
        """,
    )
    assert result.code == 0, result.output
    restores = [c for c in result.scenario()["cleanup"] if c["action"] == "restore"]
    assert [(c["target"], c["status"]) for c in restores] == [
        ("text = 'hello'", "passed"),
        ("double = 9.5", "passed"),
        ("double = 3.25", "passed"),
    ]
    assert read_values(sim, "Types.Double", "Types.String") == {
        "Types.Double": 3.25,
        "Types.String": "hello",
    }


def test_write_failing_its_completion_fails_the_step(sim: SimProcess, tmp_path: Path) -> None:
    result = run(
        sim,
        tmp_path,
        """
        steps:
          - open-session: {}
          - register: {}
          - add-item: {item: Pump102.ReadOnly, as: ro}
          - advise: ro
          - expect-event: {item: ro, data-change: {}}
          - write: {item: ro, value: 1}
        """,
    )
    assert result.code == 1, result.output
    step = result.steps()[5]
    assert "OperationalError" in step["message"]
    assert step["expected"] == "write completion ok"


def test_only_a_failed_cleanup_exits_4(sim: SimProcess, tmp_path: Path) -> None:
    result = run(
        sim,
        tmp_path,
        """
        steps:
          - open-session: {}
          - register: {}
          - add-item: {item: Pump102.ViewOnly, as: view}
          - advise: view
          - expect-event: {item: view, data-change: {value: 7}}
          - write: {item: view, value: 1, restore: true, expect: {category: OperationalError}}
        """,
    )
    assert result.code == 4, result.output
    assert result.scenario()["status"] == "passed"
    restore = result.scenario()["cleanup"][0]
    assert restore["action"] == "restore" and restore["status"] == "failed"
    assert "OperationalError" in restore["message"]


def test_read_advises_for_the_moment_when_needed(sim: SimProcess, tmp_path: Path) -> None:
    result = run(
        sim,
        tmp_path,
        """
        steps:
          - open-session: {}
          - register: {}
          - add-item: {item: Types.String, as: text}
          - read: {item: text, value: hello, save: greeting}
          - name: "saved: ${greeting}"
            read: {item: text, value: "${greeting}"}
          - read: {item: text, value: goodbye}
        """,
    )
    assert result.code == 1, result.output
    assert statuses(result) == ["passed"] * 5 + ["failed"]
    assert result.steps()[4]["name"] == "saved: hello"
    assert "'hello' is not 'goodbye'" in result.steps()[5]["message"]
    # The temporary advises were undone at once: nothing of theirs waits for cleanup.
    assert [c["action"] for c in result.scenario()["cleanup"]] == [
        "remove-item",
        "unregister",
        "close-session",
    ]


def test_authenticate_fails_on_user_id_0_without_showing_the_password(
    sim: SimProcess, tmp_path: Path
) -> None:
    secret = "Wrong-Password-4711"
    result = run(
        sim,
        tmp_path,
        """
        steps:
          - open-session: {}
          - register: {}
          - authenticate: {user: operator, password-env: MXGW_TEST_PASSWORD}
        """,
    )
    assert result.code == 2  # the variable is not set: a usage problem, located
    assert "MXGW_TEST_PASSWORD" in result.output
    path = scenario_file(
        tmp_path,
        "auth.yaml",
        """
        steps:
          - open-session: {}
          - register: {}
          - authenticate: {user: operator, password-env: MXGW_TEST_PASSWORD}
        """,
    )
    report = tmp_path / "auth.json"
    junit = tmp_path / "auth.xml"
    failed = run_cli(
        path, *sim_args(sim), "-v", "--report-junit", str(junit),
        report=report, env={"MXGW_TEST_PASSWORD": secret},
    )
    assert failed.code == 1, failed.output
    assert "user id 0" in failed.steps()[2]["message"]
    for text in (failed.output, report.read_text(), junit.read_text()):
        assert secret not in text


def test_an_unknown_item_is_a_scenario_error(sim: SimProcess, tmp_path: Path) -> None:
    result = run(
        sim,
        tmp_path,
        """
        steps:
          - open-session: {}
          - register: {}
          - advise: nosuch
        """,
    )
    assert result.code == 2, result.output
    assert "unknown item 'nosuch'" in result.steps()[2]["message"]
    assert "scenario.yaml:4" in result.stdout


def test_scenario_timeout_stops_the_run_and_cleans_up(sim: SimProcess, tmp_path: Path) -> None:
    result = run(
        sim,
        tmp_path,
        """
        timeouts: {scenario: 500ms}
        steps:
          - open-session: {}
          - wait: 30s
          - close-session: {}
        """,
    )
    assert result.code == 1, result.output
    assert statuses(result) == ["passed", "failed", "skipped"]
    assert "timed out after 0.5 s" in result.steps()[1]["message"]
    assert [c["action"] for c in result.scenario()["cleanup"]] == ["close-session"]


def test_fail_fast_skips_the_remaining_scenarios(sim: SimProcess, tmp_path: Path) -> None:
    failing = scenario_file(tmp_path, "a.yaml", "name: fails\nsteps:\n  - advise: x\n")
    passing = scenario_file(tmp_path, "b.yaml", "name: passes\nsteps:\n  - wait: 1ms\n")
    report = tmp_path / "report.json"
    result = run_cli(failing, passing, *sim_args(sim), "--fail-fast", report=report)
    assert [s["status"] for s in result.report["scenarios"]] == ["error", "skipped"]  # type: ignore[index]
    without = run_cli(failing, passing, *sim_args(sim), report=report)
    assert [s["status"] for s in without.report["scenarios"]] == ["error", "passed"]  # type: ignore[index]
