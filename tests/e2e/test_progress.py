"""The live progress line of ``mxgw-run``: drawn on a real pseudo-terminal, gone from the
screen once the run ends, never written when stdout is a pipe."""

from __future__ import annotations

import asyncio
import io
import os
import pty
import re
import select
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .pty_support import read_chunk
from .support import MXGW_RUN, ROOT, env_with, run_cli, scenario_file

SCENARIO = """
    name: step {n}
    steps:
      - wait: 1ms
      - wait: {hold}
      - wait: 1ms
"""

QUESTION = b"[y/N] "
#: How long the "operator" takes to answer: longer than the progress line's redraw period.
THINKING = 1.5

PROGRESS = re.compile(r"(\d+)/(\d+) scenarios, (\d+)/(\d+) steps, (\d+) failed, \d+ s")


@dataclass
class TerminalRun:
    """What a run on a pseudo-terminal showed."""

    code: int
    raw: str
    #: For each answer typed: how many questions the output showed by then.
    asked: list[int] = field(default_factory=list)


def _run_on_terminal(*args: str | Path, timeout: float = 60.0, answers: int = 0) -> TerminalRun:
    """Run mxgw-run on a pseudo-terminal (its stdin and stdout). ``answers``: answer that
    many ``[y/N]`` questions with ``y``, each :data:`THINKING` seconds after it shows."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes mxgw-run
        try:
            os.chdir(ROOT)
            env = env_with({"TERM": "xterm", "COLUMNS": "200"})
            os.execve(MXGW_RUN, [MXGW_RUN, *map(str, args)], env)
        finally:
            os._exit(127)
    out = b""
    asked: list[int] = []
    deadline = time.monotonic() + timeout
    typed_at: float | None = None  # when to type the next answer
    try:
        while time.monotonic() < deadline:
            wait = deadline - time.monotonic()
            if typed_at is not None:
                wait = max(0.0, min(wait, typed_at - time.monotonic()))
            ready, _, _ = select.select([fd], [], [], wait)
            if typed_at is not None and time.monotonic() >= typed_at:
                asked.append(out.count(QUESTION))
                os.write(fd, b"y\n")
                typed_at = None
            if ready:
                chunk = read_chunk(fd)
                if not chunk:
                    break
                out += chunk
            if typed_at is None and len(asked) < answers and out.count(QUESTION) > len(asked):
                typed_at = time.monotonic() + THINKING
    finally:
        os.close(fd)
    if time.monotonic() >= deadline:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    return TerminalRun(os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace"), asked)


def _screen(raw: str) -> list[str]:
    """What a terminal shows after ``raw``: ``\\r`` returns, ESC[K erases to the line's end."""
    lines: list[list[str]] = [[]]
    column = 0
    i = 0
    while i < len(raw):
        if raw.startswith("\x1b[K", i):
            del lines[-1][column:]
            i += 3
            continue
        char = raw[i]
        if char == "\r":
            column = 0
        elif char == "\n":
            lines.append([])
            column = 0
        else:
            line = lines[-1]
            if column < len(line):
                line[column] = char
            else:
                line.append(char)
            column += 1
        i += 1
    return ["".join(line) for line in lines if line]


def _suite(folder: Path, count: int, hold: str) -> Path:
    for n in range(count):
        scenario_file(folder, f"s{n}.yaml", SCENARIO.format(n=n, hold=hold))
    return folder


def test_the_progress_line_counts_and_leaves_the_screen_clean(tmp_path: Path) -> None:
    folder = _suite(tmp_path / "suite", 4, "1200ms")
    run = _run_on_terminal(folder, "--jobs", "2")
    code, raw = run.code, run.raw

    assert code == 0, raw
    drawn = [m.groups() for m in PROGRESS.finditer(raw)]
    assert drawn, raw
    totals = {(int(g[1]), int(g[3])) for g in drawn}
    assert totals == {(4, 12)}  # 4 scenarios of 3 steps each
    done = [(int(g[0]), int(g[2])) for g in drawn]
    assert done == sorted(done)  # counts only grow
    assert done[-1] == (4, 12)
    assert "running: step 0, step 1" in raw
    # The elapsed time ticks while nothing else happens (each scenario waits 1.2 s).
    assert any(" 1 s" in m.group(0) for m in PROGRESS.finditer(raw))
    # Once the run ends the line is erased: the screen holds the ordinary report only.
    screen = _screen(raw)
    assert not any(PROGRESS.search(line) for line in screen), screen
    assert screen[-1] == "4 scenarios: 4 passed (exit code 0)"
    assert [line for line in screen if " — " in line] == [
        f"{folder / f's{n}.yaml'} — step {n}" for n in range(4)
    ]


FAILING = """
    name: broken
    steps:
      - open-session: {}
      - register: {}
      - add-item: {item: Pump101.Speed.PV, as: pv}
      - advise: pv
      - expect-event: {item: pv, data-change: {value: -12345}, within: 50ms}
"""


def test_a_failure_is_counted_as_it_happens(tmp_path: Path) -> None:
    folder = _suite(tmp_path / "suite", 2, "1ms")
    scenario_file(folder, "s2.yaml", FAILING)
    run = _run_on_terminal(folder, "--simulate", "-q")
    code, raw = run.code, run.raw

    assert code == 1, raw
    last = list(PROGRESS.finditer(raw))[-1]
    assert last.group(0).startswith("3/3 scenarios, 11/11 steps, 1 failed")
    assert _screen(raw)[-1] == "3 scenarios: 2 passed, 1 failed (exit code 1)"


def test_no_control_characters_when_stdout_is_not_a_terminal(tmp_path: Path) -> None:
    folder = _suite(tmp_path / "suite", 3, "1ms")
    result = run_cli(folder, "--jobs", "2")

    assert result.code == 0, result.output
    assert "\r" not in result.stdout and "\x1b" not in result.stdout
    assert "scenarios, " not in result.stdout


def test_a_question_gets_the_terminal_to_itself(tmp_path: Path) -> None:
    path = scenario_file(
        tmp_path,
        "ask.yaml",
        """
        name: asks
        steps:
          - wait: 1ms
          - confirm: Is the valve open?
          - wait: 1ms
        """,
    )
    run = _run_on_terminal(path, answers=1)
    code, raw = run.code, run.raw

    assert code == 0, raw
    asked = raw.index("Is the valve open? [y/N] ")
    # The progress line was erased before the question and not drawn over it while it waited.
    before, after = raw[:asked], raw[asked:]
    assert before.endswith("\r\x1b[K"), repr(before[-80:])
    answered = after.index("y\r\n") if "y\r\n" in after else after.index("\n")
    assert not PROGRESS.search(after[:answered]), repr(after[:answered])
    assert "3/3 steps" in after
    assert _screen(raw)[-1] == "1 scenario: 1 passed (exit code 0)"


def test_with_jobs_questions_are_asked_one_at_a_time(tmp_path: Path) -> None:
    for name in ("a", "b"):
        text = f"name: {name}\nsteps:\n  - confirm: Is valve {name} open?\n  - wait: 1ms\n"
        scenario_file(tmp_path / "suite", f"{name}.yaml", text)
    run = _run_on_terminal(tmp_path / "suite", "--jobs", "2", answers=2)

    assert run.code == 0, run.raw
    # Each question was the only one unanswered on the screen when it was answered.
    assert run.asked == [1, 2], run.raw
    assert run.raw.count("[y/N] ") == 2
    assert _screen(run.raw)[-1] == "2 scenarios: 2 passed (exit code 0)"


async def test_off_a_terminal_with_jobs_a_plain_progress_line_shows_the_run_is_alive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mxgw_runner.cli import run as run_module
    from mxgw_runner.reports.console import ConsoleReporter, RunProgress

    monkeypatch.setattr(run_module, "PLAIN_EVERY", 0.01)
    ticked_twice = asyncio.Event()

    class Console(io.StringIO):
        def write(self, text: str) -> int:
            written = super().write(text)
            if self.getvalue().count("\n") >= 2:  # two ticks: it repeats
                ticked_twice.set()
            return written

    stream = Console()
    reporter = ConsoleReporter(stream, unicode=True)
    progress = RunProgress(8, 24, clock=time.monotonic)
    progress.scenarios_done, progress.steps_done, progress.failed = 3, 10, 1
    progress.running = {1: "pump 101", 2: "smoke"}
    stop = run_module._start_ticker(reporter, progress, jobs=2)
    try:
        async with asyncio.timeout(10):
            await ticked_twice.wait()
    finally:
        stop()
    first = stream.getvalue().splitlines()[0]
    assert re.fullmatch(
        r"progress: 3/8 scenarios, 10/24 steps, 1 failed, 0 s; running: pump 101, smoke", first
    )
    assert "\r" not in stream.getvalue() and "\x1b" not in stream.getvalue()
    # With one job the step lines show the run is alive: no ticker.
    stream.truncate(0)
    stop = run_module._start_ticker(reporter, progress, jobs=1)
    stop()
    assert stream.getvalue() == ""
