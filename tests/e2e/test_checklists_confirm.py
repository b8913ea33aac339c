"""``confirm`` through the real ``mxgw-run``: an operator at a pseudo-terminal, no terminal
at all, and ``--assume-yes``. The scenarios open no session, so no gateway is needed."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from .pty_support import at_terminal, read_until
from .support import CliResult, _load_report, run_cli, scenario_file

QUESTION = """
    name: an operator checkpoint
    steps:
      - confirm: "Is Pump 101 running at the local panel?"
      - wait: 1ms
"""

NESTED = """
    name: a checkpoint per pump
    steps:
      - for-each:
          items: [Pump101, Pump102]
          steps:
            - confirm: "Is ${row} running?"
"""


def run_at_terminal(path: Path, answer: bytes, report: Path) -> tuple[CliResult, bytes]:
    """Run ``mxgw-run`` with a pseudo-terminal as stdin and stdout; answer the question."""
    with at_terminal(path, "--report-json", report) as (process, master):
        deadline = time.monotonic() + 30
        shown = read_until(master, b"[y/N]", deadline)
        os.write(master, answer)
        shown += read_until(master, b"(exit code", deadline)
        process.wait(timeout=30)
        assert process.stderr is not None
        err = process.stderr.read().decode("utf-8", "replace")
    text = shown.decode("utf-8", "replace")
    return CliResult(process.returncode, text, err, _load_report(report)), shown


def test_an_operator_answering_yes_passes_the_checkpoint(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, "ask.yaml", QUESTION)
    result, shown = run_at_terminal(path, b"y\n", tmp_path / "r.json")
    assert b"Is Pump 101 running at the local panel? [y/N]" in shown
    assert result.code == 0, result.output
    step = result.steps()[0]
    assert step["status"] == "passed"
    assert step["message"] == "operator answered yes"
    assert step["name"] == "Is Pump 101 running at the local panel?"


def test_an_operator_answering_no_fails_the_checkpoint(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, "ask.yaml", QUESTION)
    result, _ = run_at_terminal(path, b"no\n", tmp_path / "r.json")
    assert result.code == 1, result.output
    step = result.steps()[0]
    assert step["status"] == "failed"
    assert step["message"] == "operator answered no"
    assert result.steps()[1]["status"] == "skipped"


def test_without_a_terminal_confirm_fails_at_once(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, "ask.yaml", QUESTION)
    started = time.monotonic()
    result = run_cli(path, report=tmp_path / "r.json", timeout=30)
    assert time.monotonic() - started < 20
    assert result.code == 1, result.output
    assert result.steps()[0]["message"] == (
        "confirm needs an operator at a terminal; run with --assume-yes for unattended runs"
    )
    assert "[y/N]" not in result.output


def test_assume_yes_answers_every_checkpoint_and_says_so(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, "pumps.yaml", NESTED)
    result = run_cli(path, "--assume-yes", report=tmp_path / "r.json", timeout=30)
    assert result.code == 0, result.output
    passes = result.steps()[0]["steps"]
    confirms = [p["steps"][0] for p in passes]
    assert [c["name"] for c in confirms] == ["Is Pump101 running?", "Is Pump102 running?"]
    assert all(c["message"] == "answered yes by --assume-yes" for c in confirms)


def test_validate_and_plan_list_the_questions(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, "pumps.yaml", NESTED)
    for option in ("--validate", "--plan"):
        result = run_cli(path, option, timeout=30)
        assert result.code == 0, result.output
        assert "pumps.yaml:6: Is ${row} running?" in result.stdout


def test_ctrl_c_while_the_question_waits_ends_the_run_cleanly(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, "ask.yaml", QUESTION)
    report = tmp_path / "r.json"
    with at_terminal(path, "--report-json", report) as (process, master):
        deadline = time.monotonic() + 30
        read_until(master, b"[y/N]", deadline)
        process.send_signal(signal.SIGINT)
        read_until(master, b"(exit code", deadline)
        assert process.wait(timeout=30) == 130
    result = CliResult(130, "", "", _load_report(report))
    assert result.steps()[0]["status"] == "interrupted"
    assert result.steps()[1]["status"] == "skipped"
